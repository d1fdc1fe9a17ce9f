"""Refunds: limits across partial refunds, statuses, failure, charge bookkeeping."""
from __future__ import annotations

import time

import pytest
import stripe

from tests.fixtures.stripe_sim import StripeBackend

from .helpers import new_intent, paid_intent


def test_partial_refunds_add_up_and_are_capped(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = paid_intent(client, 10000)
    first = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 3000,
                                             "reason": "requested_by_customer",
                                             "metadata": {"refund_row": "1"}})
    assert first.object == "refund" and first.id.startswith("re_")
    assert (first.amount, first.charge, first.payment_intent) == (3000, pi.latest_charge, pi.id)
    assert first.status in ("pending", "succeeded")
    assert first.reason == "requested_by_customer"
    assert first.metadata.to_dict() == {"refund_row": "1"}
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 5000})
    # 2000 remain: pending refunds count against the limit too.
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2001})
    assert exc.value.code == "amount_too_large"
    assert exc.value.param == "amount"
    rest = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert rest.amount == 2000  # default: what remains
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (10000, True)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1})
    assert exc.value.code == "charge_already_refunded"


def test_refund_by_charge_and_list_filtered_by_intent(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    a = paid_intent(client, 4000)
    b = paid_intent(client, 4000)
    ra = client.v1.refunds.create(params={"charge": a.latest_charge, "amount": 1000})
    client.v1.refunds.create(params={"payment_intent": b.id, "amount": 500})
    listed = client.v1.refunds.list(params={"payment_intent": a.id})
    assert [r.id for r in listed.data] == [ra.id]
    assert client.v1.refunds.retrieve(ra.id).amount == 1000


@pytest.mark.parametrize(("params", "code"), [
    ({"amount": 0}, "parameter_invalid_integer"),
    ({"reason": "because"}, None),
    ({"bogus": "1"}, "parameter_unknown"),
])
def test_invalid_refund_params(stripe_backend: StripeBackend, params: dict,
                               code: str | None) -> None:
    client = stripe_backend.client()
    pi = paid_intent(client, 2000)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id, **params})
    assert exc.value.http_status == 400
    assert exc.value.code == code


def test_refund_of_unpaid_intent_is_refused(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = new_intent(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": pi.id})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": "pi_missing000000000000000"})
    assert exc.value.code == "resource_missing"


def test_refund_is_pending_then_succeeds_in_the_background(stripe_sim) -> None:
    client = stripe_sim.client()
    stripe_sim.control.configure(refund_delay=0.1)
    pi = paid_intent(client, 3000)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    assert refund.status == "pending"
    for _ in range(50):
        if client.v1.refunds.retrieve(refund.id).status != "pending":
            break
        time.sleep(0.02)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    types = [e.type for e in client.v1.events.list(params={"type": "refund.*"}).data]
    assert types == ["refund.updated", "refund.created"]


def test_settle_control_finishes_pending_refunds_now(stripe_sim) -> None:
    client = stripe_sim.client()
    stripe_sim.control.configure(refund_delay=None)
    pi = paid_intent(client, 3000)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    assert client.v1.refunds.retrieve(refund.id).status == "pending"
    settled = stripe_sim.control.settle_refunds()
    assert [r["id"] for r in settled] == [refund.id]
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert stripe_sim.control.settle_refunds() == []  # nothing left pending


@pytest.mark.parametrize("how", ["test_card", "metadata"])
def test_refund_failure_gives_the_amount_back(stripe_sim, how: str) -> None:
    client = stripe_sim.client()
    stripe_sim.control.configure(refund_delay=None)
    if how == "test_card":
        pi = paid_intent(client, 5000, payment_method="pm_card_refundFail")
        metadata = {}
    else:
        pi = paid_intent(client, 5000)
        metadata = {"sim_fail": "1"}
    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 5000,
                                              "metadata": metadata})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1})
    stripe_sim.control.settle_refunds(refund.id)
    failed = client.v1.refunds.retrieve(refund.id)
    assert failed.status == "failed"
    assert failed.failure_reason == "expired_or_canceled_card"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    types = {e.type for e in client.v1.events.list(params={"limit": 50}).data}
    assert {"refund.failed", "refund.updated", "charge.refunded", "refund.created"} <= types
    again = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 5000})
    assert again.amount == 5000


def test_typed_refund_fail_card_is_recognised(stripe_sim) -> None:
    """The card number path (Payment Element) maps to the same outcomes as pm ids."""
    client = stripe_sim.client()
    stripe_sim.control.configure(refund_delay=None)
    pi = new_intent(client, 2000)
    done = client.v1.payment_intents.confirm(pi.id, params={"payment_method_data": {
        "type": "card", "card": {"number": "4000000000005126", "exp_month": "12",
                                 "exp_year": "2040", "cvc": "123"}}})
    assert done.status == "succeeded"
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    stripe_sim.control.settle_refunds()
    assert client.v1.refunds.retrieve(refund.id).status == "failed"
