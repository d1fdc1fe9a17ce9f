"""Events: every state change records one; list filters; retrieve."""
from __future__ import annotations

import pytest
import stripe

from tests.fixtures.stripe_sim import StripeBackend

from .helpers import new_intent, paid_intent


def test_payment_and_refund_events_in_order(stripe_sim) -> None:
    client = stripe_sim.client()
    stripe_sim.control.configure(refund_delay=None)
    pi = paid_intent(client, 3000)
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    stripe_sim.control.settle_refunds()
    declined = new_intent(client)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(declined.id, params={
            "payment_method": "pm_card_chargeDeclined"})
    canceled = new_intent(client)
    client.v1.payment_intents.cancel(canceled.id)
    events = client.v1.events.list(params={"limit": 100}).data[::-1]
    assert [e.type for e in events] == [
        "payment_intent.created", "charge.succeeded", "payment_intent.succeeded",
        "charge.refunded", "refund.created", "refund.updated", "charge.refund.updated",
        "payment_intent.created", "charge.failed", "payment_intent.payment_failed",
        "payment_intent.created", "payment_intent.canceled"]
    for e in events:
        assert e.id.startswith("evt_") and e.object == "event"
        assert e.livemode is False and e.api_version and e.created
    succeeded = events[2]
    assert succeeded.data.object.id == pi.id
    assert succeeded.data.object.status == "succeeded"
    # Snapshots: the refunded charge event shows the amount at that time.
    assert events[3].data.object.amount_refunded == 1000
    assert events[3].data.previous_attributes.amount_refunded == 0


def test_list_filters_by_type_and_retrieve(stripe_backend: StripeBackend) -> None:
    client = stripe_backend.client()
    pi = paid_intent(client)
    found = client.v1.events.list(params={"type": "payment_intent.succeeded", "limit": 5})
    assert found.data and all(e.type == "payment_intent.succeeded" for e in found.data)
    mine = [e for e in found.data if e.data.object.id == pi.id]
    if stripe_backend.sim:  # real Stripe may lag a moment before the event is listed
        assert len(mine) == 1
        again = client.v1.events.retrieve(mine[0].id)
        assert again.type == "payment_intent.succeeded"
    wildcard = client.v1.events.list(params={"type": "charge.*", "limit": 5})
    assert all(e.type.startswith("charge.") for e in wildcard.data)
