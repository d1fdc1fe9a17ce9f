"""Signed webhook delivery, order and retries (simulator only: needs its control API)."""
from __future__ import annotations

import json

import pytest
import stripe

from .helpers import paid_intent

SECRET = "whsec_test_contract_secret"


def test_deliveries_verify_with_construct_event_and_arrive_in_order(
        stripe_sim, webhook_receiver) -> None:
    stripe_sim.control.add_webhook(webhook_receiver.url, SECRET)
    pi = paid_intent(stripe_sim.client(), 2500)
    got = webhook_receiver.wait_for(3)
    events = [stripe.Webhook.construct_event(r["body"], r["signature"], SECRET) for r in got]
    assert [e.type for e in events] == [
        "payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    assert events[2].data.object.id == pi.id
    assert got[0]["signature"].startswith("t=") and ",v1=" in got[0]["signature"]


def test_signature_fails_with_another_secret(stripe_sim, webhook_receiver) -> None:
    stripe_sim.control.add_webhook(webhook_receiver.url, SECRET)
    paid_intent(stripe_sim.client())
    first = webhook_receiver.wait_for(1)[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(first["body"], first["signature"], "whsec_other")
    tampered = first["body"].replace('"livemode": false', '"livemode": true')
    assert tampered != first["body"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, first["signature"], SECRET)


def test_failed_delivery_is_retried_with_backoff(stripe_sim, webhook_receiver) -> None:
    webhook_receiver.fail_next = 2
    endpoint = stripe_sim.control.add_webhook(webhook_receiver.url, SECRET,
                                              enabled_events=["payment_intent.succeeded"])
    pi = paid_intent(stripe_sim.client())
    delivered = webhook_receiver.wait_for(1)
    assert json.loads(delivered[0]["body"])["data"]["object"]["id"] == pi.id
    assert stripe_sim.control.wait_for_webhooks(5)
    attempts = stripe_sim.control.webhook_attempts(endpoint_id=endpoint["id"])
    assert [(a["attempt"], a["status"], a["ok"]) for a in attempts] == [
        (1, 500, False), (2, 500, False), (3, 200, True)]
    assert attempts[1]["at"] - attempts[0]["at"] >= 0.04  # backoff base 0.05 s
    assert attempts[2]["at"] - attempts[1]["at"] >= attempts[1]["at"] - attempts[0]["at"]


def test_delivery_gives_up_after_max_attempts(stripe_sim, webhook_receiver) -> None:
    stripe_sim.control.configure(webhook_max_attempts=2, webhook_retry_base=0.01)
    webhook_receiver.fail_next = 100
    stripe_sim.control.add_webhook(webhook_receiver.url, SECRET,
                                   enabled_events=["payment_intent.created"])
    paid_intent(stripe_sim.client())
    assert stripe_sim.control.wait_for_webhooks(5)
    attempts = stripe_sim.control.webhook_attempts()
    assert [a["ok"] for a in attempts] == [False, False]


def test_unreachable_endpoint_is_recorded_and_removable(stripe_sim) -> None:
    stripe_sim.control.configure(webhook_max_attempts=1)
    ep = stripe_sim.control.add_webhook("http://127.0.0.1:9/nothing-listens-here", SECRET)
    paid_intent(stripe_sim.client())
    assert stripe_sim.control.wait_for_webhooks(5)
    attempts = stripe_sim.control.webhook_attempts(endpoint_id=ep["id"])
    assert attempts and attempts[0]["status"] is None and attempts[0]["error"]
    assert stripe_sim.control.remove_webhook(ep["id"]) is True
    assert stripe_sim.control.webhooks() == []


def test_generated_secret_is_returned(stripe_sim, webhook_receiver) -> None:
    ep = stripe_sim.control.add_webhook(webhook_receiver.url)
    assert ep["secret"].startswith("whsec_")
    paid_intent(stripe_sim.client())
    first = webhook_receiver.wait_for(1)[0]
    event = stripe.Webhook.construct_event(first["body"], first["signature"], ep["secret"])
    assert event.type == "payment_intent.created"
