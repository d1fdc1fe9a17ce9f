"""Stripe's currency rules, through the official SDK, on the simulator and (with a key) Stripe:
the API exponent, three-decimal and ISK rounding, minimum and maximum amounts, unsupported
currencies. Also: the simulator's copy of the rules agrees with the app's table."""
from __future__ import annotations

import pytest
import stripe

from tests.fixtures.stripe_sim import StripeBackend

from .helpers import new_intent, paid_intent


@pytest.mark.parametrize(("amount", "currency"), [
    (1000, "kwd"), (50_000, "bhd"), (100, "isk"), (150_000, "isk"), (17_500, "huf"),
    (50, "jpy"), (1_500_000, "idr"), (50, "usd"), (99_999_999, "usd"),
])
def test_amounts_on_the_currency_rules_are_accepted(stripe_backend: StripeBackend, amount: int,
                                                    currency: str) -> None:
    pi = new_intent(stripe_backend.client(), amount, currency)
    assert (pi.amount, pi.currency) == (amount, currency)


@pytest.mark.parametrize(("amount", "currency", "code"), [
    (1005, "kwd", None),  # three-decimal: the last digit must be 0
    (50_001, "jod", None),
    (150_050, "isk", "invalid_charge_amount_no_decimal_compatible"),  # ISK: whole krónur
    (49, "usd", "amount_too_small"),
    (29, "gbp", "amount_too_small"),
    (17_499, "huf", "amount_too_small"),
    (100_000_000, "usd", "amount_too_large"),
])
def test_amounts_stripe_refuses_are_refused(stripe_backend: StripeBackend, amount: int,
                                            currency: str, code: str | None) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        new_intent(stripe_backend.client(), amount, currency)
    assert exc.value.http_status == 400
    assert exc.value.param == "amount"
    if code:
        assert exc.value.code == code


@pytest.mark.parametrize("currency", ["xxx", "xts", "xau"])
def test_currencies_stripe_cannot_charge_are_refused(stripe_backend: StripeBackend,
                                                     currency: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        new_intent(stripe_backend.client(), 5000, currency)
    assert exc.value.param == "currency"


def test_a_refund_off_the_three_decimal_step_is_refused(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = paid_intent(client, 10_000, "kwd")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2505})
    assert exc.value.param == "amount"
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2500})
    assert (refund.amount, refund.currency) == (2500, "kwd")


def test_the_simulator_and_the_app_agree_on_every_currency_rule() -> None:
    from app.services.shared import currencies as ours
    from stripe_sim import currencies as sim

    assert {c.lower() for c in ours.supported()} == set(sim.SUPPORTED)
    for code, rules in ours.table().items():
        low = code.lower()
        assert rules.api_exponent == sim.exponent(low), code
        assert rules.stripe_step == sim.STEPS.get(low, 1), code
        assert rules.min_charge == sim.MINIMUMS.get(low), code
        assert rules.max_charge == sim.MAXIMUMS.get(low, sim.MAXIMUM_DEFAULT), code
        # Our own step is never finer than Stripe's, and a multiple of it.
        assert rules.step % rules.stripe_step == 0, code
