"""Signed webhook bodies that are not events, oversized bodies, future timestamps, unknown objects."""
from __future__ import annotations

import json
import time

import pytest

from stripe_sim.webhooks import sign
from tests.integration.payments.helpers import process_stored, signed_post, stored_events


def _event(**changes) -> dict:
    event = {"id": "evt_hardening", "object": "event", "type": "payment_intent.succeeded",
             "created": int(time.time()), "livemode": False,
             "data": {"object": {"id": "pi_unknown_here", "object": "payment_intent",
                                 "metadata": {}}}}
    event.update(changes)
    return event


def _post_raw(client, secret: str, body: str, timestamp: int | None = None):
    header = sign(body, secret, timestamp)
    return client.post("/webhooks/stripe", data=body.encode(), headers={"Stripe-Signature": header},
                       content_type="application/json")


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("body", [
    "[]", '"evt_1"', "42", "null", "true", "{}", _deep(50_000), '{"id": ' + _deep(100) + "}",
    json.dumps(_event(data=[])), json.dumps(_event(data="x")), json.dumps(_event(data={"object": 5})),
    json.dumps(_event(data={"object": {"id": "pi_1", "metadata": "tenant"}})),
    json.dumps(_event(data={"object": {"id": "pi_1", "metadata": ["tenant_id", "1"]}})),
    json.dumps(_event(data={"object": {"id": "pi_1", "metadata": {"tenant_id": 7}}})),
    json.dumps(_event(data={"object": {"id": {"nested": "id"}}})),
    json.dumps(_event(id=12345)), json.dumps(_event(id="evt_\x00nul")), json.dumps(_event(type=None)),
    json.dumps(_event(type="x" * 500)), json.dumps(_event(created="yesterday")),
    json.dumps(_event(object="charge")),
    json.dumps(_event(data={"object": {"id": "pi_1", "note": "a\x00b"}})),
    json.dumps(_event(data={"object": {"id": "pi_1", "x": json.loads(_deep(40))}})),
    "{not json", "\xff\xfe",
])
def test_signed_bodies_that_are_not_event_objects_get_400_and_store_nothing(app, client, body):
    response = _post_raw(client, app.config["STRIPE_WEBHOOK_SECRET"], body)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]
    assert stored_events(app) == []


def test_oversized_body_gets_413_before_the_signature_is_checked(app, client):
    body = json.dumps(_event(padding="x" * (app.config["STRIPE_WEBHOOK_MAX_BYTES"] + 1)))
    response = client.post("/webhooks/stripe", data=body, content_type="application/json",
                           headers={"Stripe-Signature": "t=1,v1=forged"})
    assert response.status_code == 413
    assert stored_events(app) == []


def test_an_event_signed_one_hour_in_the_future_is_refused(app, client):
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    response = signed_post(client, secret, _event(), timestamp=int(time.time()) + 3600)
    assert response.status_code == 400
    assert stored_events(app) == []
    # A little clock skew is tolerated like Stripe's own tolerance for the past.
    assert signed_post(client, secret, _event(), timestamp=int(time.time()) + 60).status_code == 200


def test_a_metadata_tenant_id_out_of_range_is_stored_without_a_tenant(app, client):
    event = _event(data={"object": {"id": "pi_1", "metadata": {"tenant_id": "9" * 30}}})
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    assert stored_events(app)[0]["tenant_id"] is None


@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "refund.updated"])
def test_an_event_about_an_object_stripe_does_not_know_is_ignored_once(app, client, payments_sim,
                                                                       event_type, caplog):
    object_id = "pi_never_created" if event_type.startswith("payment") else "re_never_created"
    event = _event(type=event_type, data={"object": {"id": object_id, "metadata": {}}})
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    assert process_stored(app, "evt_hardening") == "ignored"
    [row] = stored_events(app)
    assert row["status"] == "ignored" and row["attempts"] == 1
    assert object_id in row["last_error"] and "unknown object" in row["last_error"]
    assert "Traceback" not in caplog.text
    # Nothing is left for the sweeper to retry.
    from app.extensions import db
    from app.services.payments import events as stripe_events
    with app.app_context():
        assert stripe_events.sweep(db.session) == []
        db.session.remove()
