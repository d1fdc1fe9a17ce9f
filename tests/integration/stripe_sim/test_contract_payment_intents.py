"""PaymentIntents through the official SDK, on the simulator and (with a key) Stripe."""
from __future__ import annotations

import re

import pytest
import requests
import stripe

from tests.fixtures.stripe_sim import StripeBackend

from .helpers import new_intent, paid_intent


def test_create_returns_stripe_shaped_intent(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = new_intent(client, 2500, metadata={"booking_id": "42"}, description="Deposit",
                    receipt_email="couple@example.com")
    assert re.fullmatch(r"pi_\w+", pi.id)
    assert pi.object == "payment_intent"
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(f"{pi.id}_secret_")
    assert (pi.amount, pi.currency, pi.amount_received) == (2500, "usd", 0)
    assert pi.metadata.to_dict() == {"booking_id": "42"}
    assert pi.receipt_email == "couple@example.com"
    assert pi.latest_charge is None and pi.livemode is False
    again = client.v1.payment_intents.retrieve(pi.id)
    assert again.id == pi.id and again.description == "Deposit"


def test_confirm_with_visa_succeeds_and_sets_latest_charge(stripe_backend: StripeBackend
                                                           ) -> None:
    client = stripe_backend.client()
    pi = new_intent(client, 1234)
    done = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert done.status == "succeeded"
    assert done.amount_received == 1234
    assert done.latest_charge and done.latest_charge.startswith("ch_")
    charge = client.v1.charges.retrieve(done.latest_charge)
    assert (charge.paid, charge.status, charge.amount_refunded, charge.refunded) == (
        True, "succeeded", 0, False)
    assert charge.payment_intent == pi.id
    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == done.latest_charge


@pytest.mark.parametrize(("payment_method", "decline_code"), [
    ("pm_card_chargeDeclined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
])
def test_decline_raises_card_error_and_leaves_intent_retryable(
        stripe_backend: StripeBackend, payment_method: str, decline_code: str) -> None:
    client = stripe_backend.client()
    pi = new_intent(client)
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": payment_method})
    assert exc.value.http_status == 402
    assert exc.value.code == "card_declined"
    assert exc.value.error.decline_code == decline_code
    after = client.v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.decline_code == decline_code
    assert after.amount_received == 0
    # The couple can try another card on the same intent.
    ok = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert ok.status == "succeeded" and ok.last_payment_error is None


def test_update_allowed_before_payment_and_refused_after(stripe_backend: StripeBackend
                                                          ) -> None:
    client = stripe_backend.client()
    pi = new_intent(client, 1000, metadata={"a": "1", "b": "2"})
    updated = client.v1.payment_intents.update(
        pi.id, params={"amount": 1500, "metadata": {"b": "", "c": "3"}})
    assert updated.amount == 1500
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.update(pi.id, params={"amount": 2000})
    assert exc.value.code == "payment_intent_unexpected_state"


def test_cancel_and_no_confirm_after_cancel(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = new_intent(client)
    canceled = client.v1.payment_intents.cancel(
        pi.id, params={"cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert canceled.canceled_at
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert exc.value.code == "payment_intent_unexpected_state"


def test_cancel_of_succeeded_intent_is_refused(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = paid_intent(client)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.cancel(pi.id)
    assert exc.value.code == "payment_intent_unexpected_state"


def test_list_is_newest_first_and_paginates(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    ids = [new_intent(client, 1000 + i).id for i in range(3)]
    page = client.v1.payment_intents.list(params={"limit": 2})
    assert [p.id for p in page.data] == ids[::-1][:2]
    assert page.has_more is True
    rest = client.v1.payment_intents.list(params={"limit": 2, "starting_after": ids[1]})
    assert rest.data[0].id == ids[0]


@pytest.mark.parametrize(("params", "code", "param"), [
    ({"amount": 1000, "currency": "usd", "bogus": "x"}, "parameter_unknown", "bogus"),
    ({"amount": 0, "currency": "usd"}, "parameter_invalid_integer", "amount"),
    ({"amount": -5, "currency": "usd"}, "parameter_invalid_integer", "amount"),
    ({"amount": 10, "currency": "usd"}, "amount_too_small", "amount"),
    ({"currency": "usd"}, "parameter_missing", "amount"),
])
def test_invalid_create_params(stripe_backend: StripeBackend, params: dict, code: str,
                               param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe_backend.client().v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    assert exc.value.http_status == 400
    assert exc.value.code == code
    assert exc.value.param == param


def test_unknown_id_is_404_resource_missing(stripe_backend: StripeBackend) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe_backend.client().v1.payment_intents.retrieve("pi_doesnotexist000000000")
    assert exc.value.http_status == 404
    assert exc.value.code == "resource_missing"


def test_wrong_key_is_authentication_error(stripe_backend: StripeBackend) -> None:
    for key in ("sk_test_not_a_real_key_0000000000", "sk_live_nope"):
        if stripe_backend.sim and key.startswith("sk_test_"):
            continue  # the simulator accepts every sk_test_ key by design
        with pytest.raises(stripe.AuthenticationError) as exc:
            stripe_backend.client(key=key).v1.payment_intents.list()
        assert exc.value.http_status == 401


def test_missing_key_is_401_in_stripe_error_shape(stripe_backend: StripeBackend) -> None:
    resp = requests.get(f"{stripe_backend.api_base}/v1/payment_intents", timeout=10)
    assert resp.status_code == 401
    body = resp.json()
    assert body["error"]["type"] == "invalid_request_error"
    assert "API key" in body["error"]["message"]


def test_simulator_rejects_non_test_keys(stripe_sim) -> None:
    with pytest.raises(stripe.AuthenticationError):
        stripe_sim.client(key="rk_live_123456789").v1.payment_intents.list()
    with pytest.raises(stripe.AuthenticationError, match="publishable"):
        stripe_sim.client(key="pk_test_abc").v1.payment_intents.list()


def test_processing_card_waits_for_settle(stripe_sim) -> None:
    client = stripe_sim.client()
    pi = paid_intent(client, payment_method="pm_sim_processing")
    assert pi.status == "processing"
    stripe_sim.control.settle_payment_intent(pi.id)
    after = client.v1.payment_intents.retrieve(pi.id)
    assert after.status == "succeeded" and after.amount_received == pi.amount
    types = [e.type for e in client.v1.events.list(params={"limit": 10}).data]
    assert types[:2] == ["payment_intent.succeeded", "charge.succeeded"]
    assert "payment_intent.processing" in types
