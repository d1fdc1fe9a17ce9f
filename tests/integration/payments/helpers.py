"""Bookings with stages, checkout links, signed webhook bodies, and reads of the payment rows."""
from __future__ import annotations

import json
import re
import time

from sqlalchemy import select

from stripe_sim.webhooks import sign
from tests.integration.bookings.helpers import book, future

SECRET_RE = re.compile(r'data-client-secret="([^"]+)"')


def new_booking(app, account, package_id, days: int = 60, email: str = "couple@example.com") -> int:
    return book(app, account.tenant_id, package_id, future(app, account.tenant_id, days), email=email)


def stages(app, booking_id: int) -> list[dict]:
    from app.extensions import db
    from app.models import PaymentStage

    with app.app_context():
        rows = db.session.scalars(select(PaymentStage).where(PaymentStage.booking_id == booking_id)
                                  .order_by(PaymentStage.seq)).all()
        result = [{"id": s.id, "seq": s.seq, "kind": s.kind, "amount": s.amount_minor,
                   "currency": s.currency, "status": s.status, "due": s.due_date,
                   "intent": s.payment_intent_id, "version": s.intent_version} for s in rows]
        db.session.remove()
    return result


def booking_status(app, booking_id: int) -> str:
    from app.extensions import db
    from app.models import Booking

    with app.app_context():
        status = db.session.get(Booking, booking_id).status
        db.session.remove()
    return status


def payments_of(app, booking_id: int) -> list[dict]:
    from app.extensions import db
    from app.models import Payment

    with app.app_context():
        rows = db.session.scalars(select(Payment).where(Payment.booking_id == booking_id)
                                  .order_by(Payment.id)).all()
        result = [{"id": p.id, "amount": p.amount_minor, "currency": p.currency, "method": p.method,
                   "intent": p.stripe_payment_intent_id, "tenant_id": p.tenant_id} for p in rows]
        db.session.remove()
    return result


def checkout_path(app, slug: str, tenant_id: int, stage_id: int, scope: str | None = None) -> str:
    from app.web.links import stage_ref

    path = f"/t/{slug}/pay/{stage_ref(app, tenant_id, stage_id)}"
    return path + ("?scope=all" if scope == "all" else "")


def client_secret(html: str) -> str:
    match = SECRET_RE.search(html)
    assert match, "no Payment Element on the page: " + html[:2000]
    return match.group(1)


def intent_id(secret: str) -> str:
    return secret.split("_secret_")[0]


def creates(sim) -> list[dict]:
    return [r for r in sim.control.requests("/v1/payment_intents", method="POST")
            if r["path"].rstrip("/") == "/v1/payment_intents"]


def confirm(sim, pi_id: str, payment_method: str = "pm_card_visa"):
    """What Stripe.js does when the couple presses Pay (errors are the card's decline)."""
    import stripe

    try:
        return sim.client_for("payment_intent", pi_id).v1.payment_intents.confirm(
            pi_id, params={"payment_method": payment_method})
    except stripe.CardError as exc:
        return exc


def events_for(sim, pi_id: str, event_type: str | None = None) -> list[dict]:
    """The simulator's events about one PaymentIntent, oldest first, as plain dicts."""
    listed = sim.client_for("payment_intent", pi_id).v1.events.list(
        params={"limit": 100}).to_dict()["data"]
    found = [e for e in listed if e["data"]["object"].get("id") == pi_id
             and (event_type is None or e["type"] == event_type)]
    return sorted(found, key=lambda e: e["created"])


def signed_post(client, secret: str, event: dict, timestamp: int | None = None):
    """POST a signed event; one carrying `account` goes to the Connect endpoint (then `secret`
    is ignored: the Connect endpoint's own secret signs it, as Stripe would)."""
    body = json.dumps(event)
    path = "/webhooks/stripe"
    if event.get("account"):
        path, secret = "/webhooks/stripe/connect", client.application.config[
            "STRIPE_CONNECT_WEBHOOK_SECRET"]
    header = sign(body, secret, timestamp)
    return client.post(path, data=body, headers={"Stripe-Signature": header},
                       content_type="application/json")


def process_stored(app, stripe_event_id: str) -> str:
    """Run the webhook task's service for a stored event (no consumer needed)."""
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.models import StripeEvent
    from app.services.payments import events as stripe_events
    from app.web.links import WebLinks

    with app.app_context():
        row = db.session.scalar(select(StripeEvent).where(StripeEvent.stripe_id == stripe_event_id))
        outcome = stripe_events.process_event(db.session, row.id, gateway_for(app), WebLinks(app))
        db.session.remove()
    return outcome


def stored_events(app) -> list[dict]:
    from app.extensions import db
    from app.models import StripeEvent

    with app.app_context():
        rows = db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()
        result = [{"id": r.id, "stripe_id": r.stripe_id, "type": r.type, "status": r.status,
                   "attempts": r.attempts, "tenant_id": r.tenant_id, "last_error": r.last_error}
                  for r in rows]
        db.session.remove()
    return result


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def vendor(sim, account):
    """A Stripe client acting as the tenant's connected account (what its owner sees)."""
    return sim.client(account=account.stripe_account)
