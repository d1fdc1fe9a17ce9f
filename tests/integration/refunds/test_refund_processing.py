"""Refund parts against the Stripe simulator with a real consumer: a worker killed between
Stripe's answer and our commit, Stripe errors and rate limits, a flushed queue, refunds Stripe
fails, retries after Stripe forgot the idempotency key, and duplicated or reordered webhooks."""
from __future__ import annotations

import threading
from datetime import timedelta

from tests.fixtures.environment import ENV
from tests.fixtures.portal import RunningConsumer, csrf_from
from tests.integration.payments.helpers import (
    booking_status,
    process_stored,
    signed_post,
    stored_events,
    vendor,
    wait_until,
)
from tests.integration.refunds.helpers import (
    audit_actions,
    money,
    paid_booking,
    parts,
    reconcile,
    refund_creates,
    request_refund,
    requests,
    run_part,
    settle_at_stripe,
    sim_refunds,
)


def _part(app, booking_id: int, index: int = 0) -> dict:
    return parts(app, booking_id)[index]


def test_worker_killed_after_stripe_answered_gives_exactly_one_refund_after_a_restart(
        app, client, shop, tenant_a, payments_sim, monkeypatch):
    from app.queue import huey
    from app.services.refunds import processing as refund_processing
    from app.services.shared import clock
    from app.tasks.refunds import sweep_refunds

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    payments_sim.control.configure(refund_delay=-1)  # refunds stay pending until settled
    killed = threading.Event()

    def die(part_id, refund):
        killed.set()
        raise SystemExit("killed between Stripe's answer and our commit")  # ends the worker thread

    monkeypatch.setattr(refund_processing, "after_stripe_call", die)
    first = RunningConsumer(huey)
    first.start()
    try:
        request_refund(app, tenant_a, booking_id, 30000)
        assert killed.wait(15)
    finally:
        first.stop()
    part = _part(app, booking_id)
    assert (part["status"], part["stripe_id"]) == ("processing", None)  # our commit never happened
    assert len(sim_refunds(payments_sim)) == 1

    monkeypatch.setattr(refund_processing, "after_stripe_call", lambda part_id, refund: None)
    clock.advance(timedelta(minutes=3))  # the claim of the dead worker is stale now
    second = RunningConsumer(huey)
    second.start()
    try:
        sweep_refunds()
        wait_until(lambda: _part(app, booking_id)["stripe_id"])
        payments_sim.control.settle_refunds()
        clock.advance(timedelta(minutes=6))  # the sweeper re-fetches refunds Stripe held
        sweep_refunds()
        wait_until(lambda: _part(app, booking_id)["status"] == "succeeded")
    finally:
        second.stop()
    assert len(refund_creates(payments_sim)) == 2  # the same key replayed...
    [refund] = sim_refunds(payments_sim)  # ...so Stripe made one refund
    assert refund["status"] == "succeeded" and refund["amount"] == 30000
    assert _part(app, booking_id)["stripe_id"] == refund["id"]
    assert requests(app, booking_id)[0]["status"] == "succeeded"
    assert money(app, booking_id)[0]["refunded"] == 30000 and money(app, booking_id)[0]["pending"] == 0


def test_consumer_process_killed_by_sigkill_after_stripe_answered_gives_exactly_one_refund(
        app, client, shop, tenant_a, payments_sim):
    """kill -9 of a real consumer process between Stripe's answer and our commit."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from app.queue import huey
    from app.services.shared import clock
    from app.tasks.refunds import sweep_refunds

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    payments_sim.control.configure(refund_delay=-1)
    script = Path(__file__).with_name("kill9_consumer.py")
    env = dict(os.environ, STRIPE_API_BASE=payments_sim.url)
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout.readline().strip() == "consumer up"
        request_refund(app, tenant_a, booking_id, 30000)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.stdout.read()
    assert proc.returncode == -9, output  # SIGKILL: no cleanup, no commit
    assert "killing myself after Stripe made" in output
    part = _part(app, booking_id)
    assert (part["status"], part["stripe_id"]) == ("processing", None)
    assert len(sim_refunds(payments_sim)) == 1  # Stripe did make it

    clock.advance(timedelta(minutes=3))  # the dead worker's claim is stale now
    restarted = RunningConsumer(huey)
    restarted.start()
    try:
        sweep_refunds()
        wait_until(lambda: _part(app, booking_id)["stripe_id"])
        payments_sim.control.settle_refunds()
        clock.advance(timedelta(minutes=6))
        sweep_refunds()
        wait_until(lambda: _part(app, booking_id)["status"] == "succeeded")
    finally:
        restarted.stop()
    [refund] = sim_refunds(payments_sim)  # the replayed key found the same refund: still one
    assert refund["status"] == "succeeded" and refund["amount"] == 30000
    assert requests(app, booking_id)[0]["status"] == "succeeded"
    assert money(app, booking_id)[0]["refunded"] == 30000 and money(app, booking_id)[0]["pending"] == 0


def test_stripe_errors_and_rate_limits_are_retried_to_success(
        app, client, shop, tenant_a, payments_sim, fast_refund_retries, consumer):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    # More failures than one attempt's in-call retries absorb: the task must back off and retry.
    payments_sim.control.fail_next(500, count=6, path_prefix="/v1/refunds")
    payments_sim.control.fail_next(429, count=6, path_prefix="/v1/refunds")
    request_refund(app, tenant_a, booking_id, 12345)
    wait_until(lambda: _part(app, booking_id)["stripe_id"], timeout=20)
    part = _part(app, booking_id)
    assert part["attempts"] >= 2
    assert "refund.attempt_failed" in audit_actions(app, booking_id)
    [refund] = sim_refunds(payments_sim)
    assert refund["amount"] == 12345
    assert settle_at_stripe(app, payments_sim, part["id"]) == "succeeded"


def test_a_refund_that_outlasts_its_retries_fails_visibly_and_the_owner_retries_it(
        app, client, owner_client, shop, tenant_a, payments_sim, fast_refund_retries, consumer, inbox):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    payments_sim.control.fail_next(500, count=1000, path_prefix="/v1/refunds")
    request_refund(app, tenant_a, booking_id, 30000)
    wait_until(lambda: _part(app, booking_id)["status"] == "failed", timeout=20)
    part = _part(app, booking_id)
    assert "after 4 attempts" in part["error"]
    assert money(app, booking_id)[0]["pending"] == 0  # the reservation is given back
    inbox.wait_for(tenant_a.email, subject="Refund of $300.00 failed")
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds").get_data(as_text=True)
    assert "after 4 attempts" in panel and ">Retry</button>" in panel

    payments_sim.control.clear_faults()
    response = owner_client.post(f"/dashboard/bookings/{booking_id}/refunds/parts/{part['id']}/retry",
                                 data={"csrf_token": csrf_from(panel)})
    assert response.status_code == 302
    assert settle_at_stripe(app, payments_sim, part["id"]) == "succeeded"
    assert len(sim_refunds(payments_sim)) == 1
    assert "refund.retried" in audit_actions(app, booking_id)
    assert booking_status(app, booking_id) == "partially_refunded"


def test_a_refund_stripe_fails_after_creating_it_alerts_the_tenant_and_retries_with_a_new_part(
        app, client, owner_client, shop, tenant_a, payments_sim, consumer, inbox):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id,
                              card="pm_card_refundFail")
    request_refund(app, tenant_a, booking_id, 10000)
    part = _part(app, booking_id)
    assert settle_at_stripe(app, payments_sim, part["id"]) == "failed"
    assert "expired or canceled card" in _part(app, booking_id)["error"]
    assert requests(app, booking_id)[0]["status"] == "failed"
    assert money(app, booking_id)[0]["pending"] == 0 and money(app, booking_id)[0]["refunded"] == 0
    mail = inbox.wait_for(tenant_a.email, subject="Refund of $100.00 failed")
    assert "expired or canceled card" in mail[0].get_body(preferencelist=("plain",)).get_content()

    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds").get_data(as_text=True)
    owner_client.post(f"/dashboard/bookings/{booking_id}/refunds/parts/{part['id']}/retry",
                      data={"csrf_token": csrf_from(panel)})
    retry = _part(app, booking_id, 1)
    assert retry["retry_of"] == part["id"]  # a new part, so a new idempotency key
    settle_at_stripe(app, payments_sim, retry["id"])
    assert len(sim_refunds(payments_sim)) == 2
    again = owner_client.post(f"/dashboard/bookings/{booking_id}/refunds/parts/{part['id']}/retry",
                              data={"csrf_token": csrf_from(panel)}, follow_redirects=True)
    assert "Only a failed refund can be retried, once." in again.get_data(as_text=True)


def test_work_lost_from_the_queue_is_finished_by_the_sweeper(app, client, shop, tenant_a, payments_sim):
    from app.queue import huey
    from app.services.shared import clock
    from app.tasks.refunds import sweep_refunds

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_refund(app, tenant_a, booking_id, 25000)  # its task is enqueued, no consumer runs
    assert len(huey) >= 1
    if ENV.redis_url:
        ENV.flush_redis()  # FLUSHDB, as an operator or an eviction would
    else:
        huey.flush()
    assert len(huey) == 0
    running = RunningConsumer(huey)
    running.start()
    try:
        sweep_refunds()
        wait_until(lambda: _part(app, booking_id)["stripe_id"])
        wait_until(lambda: sim_refunds(payments_sim)[0]["status"] == "succeeded")
        clock.advance(timedelta(minutes=6))
        sweep_refunds()
        wait_until(lambda: _part(app, booking_id)["status"] == "succeeded")
    finally:
        running.stop()
    assert len(sim_refunds(payments_sim)) == 1


def test_a_retry_after_24_hours_adopts_the_refund_stripe_already_made(
        app, client, shop, tenant_a, payments_sim, monkeypatch):
    from app.services.refunds import processing as refund_processing
    from app.services.shared import clock

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_refund(app, tenant_a, booking_id, 20000)
    part_id = _part(app, booking_id)["id"]

    class Lost(Exception):
        pass

    def lose_answer(part_id, refund):
        raise Lost()

    monkeypatch.setattr(refund_processing, "after_stripe_call", lose_answer)
    try:
        run_part(app, part_id)
    except Lost:
        pass
    monkeypatch.setattr(refund_processing, "after_stripe_call", lambda part_id, refund: None)
    assert _part(app, booking_id)["stripe_id"] is None
    payments_sim.control.clear_requests()
    clock.advance(timedelta(hours=25))  # Stripe may have pruned the key by now
    assert run_part(app, part_id) in ("processing", "succeeded")
    assert refund_creates(payments_sim) == []  # looked up, not created again
    assert payments_sim.control.requests("/v1/refunds", method="GET")
    [refund] = sim_refunds(payments_sim)
    assert _part(app, booking_id)["stripe_id"] == refund["id"]


def test_duplicated_and_reordered_refund_webhooks_leave_a_consistent_state(
        app, client, shop, tenant_a, payments_sim):
    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_refund(app, tenant_a, booking_id, 40000)
    part = _part(app, booking_id)
    assert run_part(app, part["id"]) == "processing"
    payments_sim.control.settle_refunds()
    listed = vendor(payments_sim, tenant_a).v1.events.list(params={"limit": 100}).to_dict()["data"]
    events = sorted((e for e in listed if e["type"] in (
        "charge.refunded", "refund.created", "refund.updated")), key=lambda e: e["created"])
    assert {e["type"] for e in events} == {"charge.refunded", "refund.created", "refund.updated"}
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    for event in [*reversed(events), *events]:  # newest first, then all of them again
        assert signed_post(client, secret, event).status_code == 200
    stored = stored_events(app)
    assert len(stored) == len(events)
    for row in reversed(stored):
        assert process_stored(app, row["stripe_id"]) == "processed"
        assert process_stored(app, row["stripe_id"]) == "skipped"
    assert _part(app, booking_id)["status"] == "succeeded"
    assert money(app, booking_id)[0]["refunded"] == 40000 and money(app, booking_id)[0]["pending"] == 0
    assert audit_actions(app, booking_id).count("refund.succeeded") == 1
    assert reconcile(app, part["id"]) == "succeeded"
    assert booking_status(app, booking_id) == "partially_refunded"


def test_a_part_given_up_on_a_lost_answer_that_stripe_made_settles_and_cannot_refund_twice(
        app, client, owner_client, shop, tenant_a, payments_sim):
    """Every attempt timed out, but one of them reached Stripe: when Stripe's refund shows up
    (webhook, listing), the part is what Stripe says, not failed with a Retry that refunds again."""
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.payments.gateway import GatewayError
    from app.services.refunds import processing as refund_processing
    from app.web.links import WebLinks

    booking_id = paid_booking(app, client, payments_sim, tenant_a, shop.package_id)
    request_refund(app, tenant_a, booking_id, 30000)
    part_id = _part(app, booking_id)["id"]

    class AnswerLost:
        def __init__(self, real):
            self.real = real

        def create_refund(self, **kwargs):
            self.real.create_refund(**kwargs)
            raise GatewayError("Stripe did not answer in time.")

    with app.app_context():
        outcome = refund_processing.process_part(
            db.session, part_id, AnswerLost(gateway_for(app)), WebLinks(app),
            refund_processing.RetryPolicy(max_attempts=1))
        db.session.remove()
    assert outcome == "failed" and money(app, booking_id)[0]["pending"] == 0

    def webhook(event_type, refund_id):
        with app.app_context():
            refund_processing.handle_event(db.session, event_type, refund_id, gateway_for(app),
                                           WebLinks(app), claimed_tenant_id=tenant_a.tenant_id,
                                           claimed_account=tenant_a.stripe_account)
            db.session.remove()

    [refund] = sim_refunds(payments_sim)
    webhook("refund.created", refund["id"])  # Stripe holds it as pending: no retry meanwhile
    assert _part(app, booking_id)["stripe_id"] == refund["id"]
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds").get_data(as_text=True)
    refused = owner_client.post(f"/dashboard/bookings/{booking_id}/refunds/parts/{part_id}/retry",
                                data={"csrf_token": csrf_from(panel)}, follow_redirects=True)
    assert "Stripe is still processing this refund" in refused.get_data(as_text=True)
    assert len(parts(app, booking_id)) == 1
    payments_sim.control.settle_refunds()
    webhook("refund.updated", refund["id"])
    part = _part(app, booking_id)
    assert (part["status"], part["stripe_id"]) == ("succeeded", refund["id"])
    assert money(app, booking_id)[0]["refunded"] == 30000
    assert requests(app, booking_id)[0]["status"] == "succeeded"
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/refunds").get_data(as_text=True)
    assert ">Retry</button>" not in panel
