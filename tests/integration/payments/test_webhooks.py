"""/webhooks/stripe: forged, stale, duplicated and reordered events; tenant metadata that lies."""
from __future__ import annotations

import json
import time

import pytest

from app.services.payments.gateway import GatewayError
from stripe_sim.webhooks import sign
from tests.integration.payments.helpers import (
    booking_status,
    checkout_path,
    client_secret,
    confirm,
    events_for,
    intent_id,
    new_booking,
    payments_of,
    process_stored,
    signed_post,
    stages,
    stored_events,
    vendor,
    wait_until,
)


def _event(pi_id: str, event_type: str = "payment_intent.succeeded", tenant_id: int | None = None,
           event_id: str | None = None) -> dict:
    metadata = {"tenant_id": str(tenant_id)} if tenant_id is not None else {}
    return {"id": event_id or f"evt_test_{pi_id}_{event_type}", "object": "event", "type": event_type,
            "created": int(time.time()), "livemode": False,
            "data": {"object": {"id": pi_id, "object": "payment_intent", "metadata": metadata}}}


@pytest.fixture()
def paid_deposit(app, client, shop, tenant_a, payments_sim):
    """A booking whose deposit intent succeeded at Stripe; nothing recorded here yet."""
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi)
    return booking_id, pi


def test_forged_signature_gets_400_and_nothing_is_stored(app, client, paid_deposit):
    _, pi = paid_deposit
    assert signed_post(client, "whsec_not_ours", _event(pi)).status_code == 400
    body = json.dumps(_event(pi))
    assert client.post("/webhooks/stripe", data=body, content_type="application/json").status_code == 400
    # A genuine signature over another body.
    signed_body = json.dumps(_event(pi, event_id="evt_signed"))
    header = sign(signed_body, app.config["STRIPE_WEBHOOK_SECRET"])
    response = client.post("/webhooks/stripe", data=signed_body.replace("evt_signed", "evt_swapped"),
                           headers={"Stripe-Signature": header}, content_type="application/json")
    assert response.status_code == 400
    assert stored_events(app) == []


def test_stale_signature_older_than_300_seconds_gets_400(app, client, paid_deposit):
    booking_id, pi = paid_deposit
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    old = signed_post(client, secret, _event(pi), timestamp=int(time.time()) - 301)
    assert old.status_code == 400 and stored_events(app) == []
    recent = signed_post(client, secret, _event(pi), timestamp=int(time.time()) - 200)
    assert recent.status_code == 200 and len(stored_events(app)) == 1
    assert payments_of(app, booking_id) == []  # stored only; the task processes it


def test_duplicate_delivery_is_stored_and_processed_once(app, client, paid_deposit, payments_sim):
    booking_id, pi = paid_deposit
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    event = events_for(payments_sim, pi, "payment_intent.succeeded")[0]
    first = signed_post(client, secret, event)
    second = signed_post(client, secret, event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json() == {"received": True, "duplicate": True}
    [row] = stored_events(app)
    assert row["tenant_id"] is not None
    assert process_stored(app, event["id"]) == "processed"
    assert process_stored(app, event["id"]) == "skipped"
    assert stored_events(app)[0]["attempts"] == 1
    assert booking_status(app, booking_id) == "confirmed"
    assert len(payments_of(app, booking_id)) == 1


def test_succeeded_before_processing_leaves_the_stage_paid(app, client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi, "pm_sim_processing")
    payments_sim.control._call("POST", f"/payment_intents/{pi}/settle", {"outcome": "succeeded"})
    processing = events_for(payments_sim, pi, "payment_intent.processing")[0]
    succeeded = events_for(payments_sim, pi, "payment_intent.succeeded")[0]
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    for event in (succeeded, processing):  # delivered out of order
        assert signed_post(client, secret, event).status_code == 200
    assert process_stored(app, succeeded["id"]) == "processed"
    assert process_stored(app, processing["id"]) == "processed"
    assert stages(app, booking_id)[0]["status"] == "paid"
    assert booking_status(app, booking_id) == "confirmed"
    assert len(payments_of(app, booking_id)) == 1


def test_payment_failed_event_keeps_the_stage_due_with_the_reason(app, client, shop, tenant_a, payments_sim):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(payments_sim, pi, "pm_card_chargeDeclinedInsufficientFunds")
    event = events_for(payments_sim, pi, "payment_intent.payment_failed")[0]
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    assert process_stored(app, event["id"]) == "processed"
    assert stages(app, booking_id)[0]["status"] == "due"
    assert "insufficient funds" in client.get(path).get_data(as_text=True).lower()
    assert booking_status(app, booking_id) == "pending_deposit"


def test_event_naming_tenant_a_never_changes_tenant_b(app, client, shop, shop_b, tenant_a, tenant_b,
                                                      payments_sim):
    booking_b = new_booking(app, tenant_b, shop_b.package_id)
    path_b = checkout_path(app, "bravo", tenant_b.tenant_id, stages(app, booking_b)[0]["id"])
    pi_b = intent_id(client_secret(client.get(path_b).get_data(as_text=True)))
    confirm(payments_sim, pi_b)
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    # A signed event that claims tenant A for tenant B's intent (e.g. replayed from elsewhere).
    lying = _event(pi_b, tenant_id=tenant_a.tenant_id, event_id="evt_lying")
    assert signed_post(client, secret, lying).status_code == 200
    assert stored_events(app)[0]["tenant_id"] == tenant_a.tenant_id
    assert process_stored(app, "evt_lying") == "ignored"
    assert payments_of(app, booking_b) == [] and booking_status(app, booking_b) == "pending_deposit"
    assert stages(app, booking_b)[0]["status"] == "due"
    # An intent that is not ours at all: nothing is asked of Stripe, nothing changes.
    unknown = _event("pi_not_ours", tenant_id=tenant_a.tenant_id, event_id="evt_unknown")
    signed_post(client, secret, unknown)
    asked = len(payments_sim.control.requests("/v1/payment_intents/pi_not_ours"))
    assert process_stored(app, "evt_unknown") == "ignored"
    assert len(payments_sim.control.requests("/v1/payment_intents/pi_not_ours")) == asked == 0
    assert stored_events(app)[1]["status"] == "ignored" and stored_events(app)[1]["attempts"] == 1
    # The genuine event for tenant B's intent does record tenant B's payment.
    genuine = events_for(payments_sim, pi_b, "payment_intent.succeeded")[0]
    signed_post(client, secret, genuine)
    assert process_stored(app, genuine["id"]) == "processed"
    assert [p["tenant_id"] for p in payments_of(app, booking_b)] == [tenant_b.tenant_id]


def test_unhandled_event_types_are_stored_and_ignored(app, client, paid_deposit):
    _, pi = paid_deposit
    event = _event(pi, "charge.succeeded", event_id="evt_charge")
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    assert process_stored(app, "evt_charge") == "ignored"


def test_simulator_webhooks_reach_the_app_and_a_consumer_confirms_the_booking(
        app, client, shop, tenant_a, sim_webhooks, consumer):
    booking_id = new_booking(app, tenant_a, shop.package_id)
    path = checkout_path(app, "alpha", tenant_a.tenant_id, stages(app, booking_id)[0]["id"])
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    confirm(sim_webhooks, pi)
    wait_until(lambda: booking_status(app, booking_id) == "confirmed")
    assert sim_webhooks.control.wait_for_webhooks(5)
    wait_until(lambda: all(e["status"] in ("processed", "ignored") for e in stored_events(app)))
    types = {e["type"]: e["status"] for e in stored_events(app)}
    assert types["payment_intent.succeeded"] == "processed"
    assert types["payment_intent.created"] == "ignored"
    assert len(payments_of(app, booking_id)) == 1


def test_intent_whose_metadata_was_changed_to_tenant_a_is_ignored(app, client, shop_b, tenant_a, tenant_b,
                                                                   payments_sim):
    booking_b = new_booking(app, tenant_b, shop_b.package_id)
    path_b = checkout_path(app, "bravo", tenant_b.tenant_id, stages(app, booking_b)[0]["id"])
    pi_b = intent_id(client_secret(client.get(path_b).get_data(as_text=True)))
    vendor(payments_sim, tenant_b).v1.payment_intents.update(
        pi_b, params={"metadata": {"tenant_id": str(tenant_a.tenant_id)}})
    confirm(payments_sim, pi_b)
    event = events_for(payments_sim, pi_b, "payment_intent.succeeded")[0]
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    assert process_stored(app, event["id"]) == "ignored"
    assert payments_of(app, booking_b) == [] and stages(app, booking_b)[0]["status"] == "due"


def test_failed_processing_is_retried_then_replayed_from_the_dashboard(app, client, owner_client, shop,
                                                                       tenant_a, tenant_b, paid_deposit,
                                                                       payments_sim):
    from app.extensions import db
    from app.models import StripeEvent
    from app.services.payments import events as stripe_events
    from tests.fixtures.accounts import login
    from tests.fixtures.portal import post_form

    booking_id, pi = paid_deposit
    event = events_for(payments_sim, pi, "payment_intent.succeeded")[0]
    signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event)
    payments_sim.control.fail_next(500, 100, path_prefix=f"/v1/payment_intents/{pi}", method="GET")
    app.config.update(STRIPE_ATTEMPTS=1, STRIPE_NETWORK_RETRIES=0)  # fail fast; restored by the fixture
    for _ in range(stripe_events.MAX_ATTEMPTS):
        with pytest.raises(GatewayError):
            process_stored(app, event["id"])
        with app.app_context():  # the retry is due (normally after a backoff; the sweeper enqueues it)
            row = db.session.query(StripeEvent).one()
            assert row.status in ("received", "failed")
            db.session.remove()
    [row] = stored_events(app)
    assert row["status"] == "failed" and row["attempts"] == stripe_events.MAX_ATTEMPTS
    assert "GatewayUnavailable" in row["last_error"]
    payments_sim.control.clear_faults()

    log = owner_client.get("/dashboard/payments/events?status=failed").get_data(as_text=True)
    assert event["id"] in log and "Replay" in log
    other = app.test_client()
    login(other, tenant_b.email)
    assert post_form(other, f"/dashboard/payments/events/{row['id']}/replay", {},
                     get_url="/dashboard/payments/events").status_code == 404
    response = post_form(owner_client, f"/dashboard/payments/events/{row['id']}/replay", {},
                         get_url="/dashboard/payments/events")
    assert response.status_code == 302
    assert stored_events(app)[0]["status"] == "received"
    assert process_stored(app, event["id"]) == "processed"
    assert booking_status(app, booking_id) == "confirmed" and len(payments_of(app, booking_id)) == 1
    again = post_form(owner_client, f"/dashboard/payments/events/{row['id']}/replay", {},
                      get_url="/dashboard/payments/events")
    assert again.status_code == 302 and stored_events(app)[0]["status"] == "processed"


def test_an_event_whose_task_was_lost_is_processed_by_the_sweeper(app, client, paid_deposit, payments_sim,
                                                                   consumer):
    from app.queue import huey
    from app.tasks.payments import sweep_stripe_events

    booking_id, pi = paid_deposit
    event = events_for(payments_sim, pi, "payment_intent.succeeded")[0]
    consumer.stop()
    assert signed_post(client, app.config["STRIPE_WEBHOOK_SECRET"], event).status_code == 200
    huey.flush()  # Redis lost the enqueued task
    consumer.start()
    assert stored_events(app)[0]["status"] == "received"
    assert sweep_stripe_events.call_local() == 1
    wait_until(lambda: stored_events(app)[0]["status"] == "processed")
    assert booking_status(app, booking_id) == "confirmed"
