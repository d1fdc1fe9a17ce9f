"""Paid bookings, refund requests through the services, and reads of the refund rows."""
from __future__ import annotations

from sqlalchemy import select

from tests.integration.payments.helpers import (
    checkout_path,
    client_secret,
    confirm,
    intent_id,
    new_booking,
    stages,
)


def pay_stage(app, client, sim, account, stage_id: int, card: str = "pm_card_visa") -> str:
    """Pay one stage at the simulator and record it as the return page would; the intent id."""
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.payments import recording as payments
    from app.web.links import WebLinks

    path = checkout_path(app, account.slug, account.tenant_id, stage_id)
    pi = intent_id(client_secret(client.get(path).get_data(as_text=True)))
    assert not isinstance(confirm(sim, pi, card), Exception)
    with app.app_context():
        outcome = payments.reconcile_intent(db.session, pi, gateway_for(app), WebLinks(app),
                                            source="test")
        db.session.remove()
    assert outcome.succeeded, outcome
    return pi


def paid_booking(app, client, sim, account, package_id: int, *, balance: bool = False,
                 card: str = "pm_card_visa", days: int = 120, email: str = "couple@example.com") -> int:
    """A booking whose deposit (and optionally balance) was paid by card through the simulator."""
    booking_id = new_booking(app, account, package_id, days=days, email=email)
    rows = stages(app, booking_id)
    pay_stage(app, client, sim, account, rows[0]["id"], card)
    if balance:
        pay_stage(app, client, sim, account, rows[1]["id"], card)
    return booking_id


def request_refund(app, account, booking_id: int, amount: int, reason: str = "requested_by_customer"):
    from app.extensions import db
    from app.services.refunds import requests as refunds
    from app.web.links import WebLinks

    with app.app_context():
        request = refunds.request_refund(db.session, account.tenant_id, booking_id, amount, reason, "",
                                         WebLinks(app), actor_user_id=account.user_id)
        request_id = request.id
        db.session.remove()
    return request_id


def run_part(app, part_id: int, **policy) -> str:
    """Run the part's task body in this thread (no consumer)."""
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.refunds import processing as refund_processing
    from app.web.links import WebLinks

    with app.app_context():
        outcome = refund_processing.process_part(db.session, part_id, gateway_for(app), WebLinks(app),
                                                 refund_processing.RetryPolicy(**policy))
        db.session.remove()
    return outcome


def parts(app, booking_id: int | None = None) -> list[dict]:
    from app.extensions import db
    from app.models import RefundPart

    with app.app_context():
        query = select(RefundPart).order_by(RefundPart.id)
        if booking_id is not None:
            query = query.where(RefundPart.booking_id == booking_id)
        rows = db.session.scalars(query).all()
        result = [{"id": p.id, "request_id": p.request_id, "payment_id": p.payment_id,
                   "amount": p.amount_minor, "status": p.status, "stripe_id": p.stripe_refund_id,
                   "attempts": p.attempts, "error": p.last_error, "retry_of": p.retry_of_id,
                   "tenant_id": p.tenant_id} for p in rows]
        db.session.remove()
    return result


def requests(app, booking_id: int) -> list[dict]:
    from app.extensions import db
    from app.models import RefundRequest

    with app.app_context():
        rows = db.session.scalars(select(RefundRequest).where(RefundRequest.booking_id == booking_id)
                                  .order_by(RefundRequest.id)).all()
        result = [{"id": r.id, "amount": r.amount_minor, "status": r.status, "reason": r.reason,
                   "requested_by": r.requested_by} for r in rows]
        db.session.remove()
    return result


def money(app, booking_id: int) -> list[dict]:
    from app.extensions import db
    from app.models import Payment

    with app.app_context():
        rows = db.session.scalars(select(Payment).where(Payment.booking_id == booking_id)
                                  .order_by(Payment.id)).all()
        result = [{"id": p.id, "amount": p.amount_minor, "refunded": p.refunded_minor,
                   "pending": p.refund_pending_minor, "intent": p.stripe_payment_intent_id}
                  for p in rows]
        db.session.remove()
    return result


def sim_refunds(sim, pi: str | None = None) -> list[dict]:
    """The simulator's refunds (of one PaymentIntent), newest first, whatever their account."""
    if pi:
        return sim.client_for("payment_intent", pi).v1.refunds.list(
            params={"limit": 100, "payment_intent": pi}).to_dict()["data"]
    from stripe_sim.listing import public

    with sim.app.store.lock:
        return [public(r) for r in sim.app.store.all("refund")]


def refund_creates(sim) -> list[dict]:
    return [r for r in sim.control.requests("/v1/refunds", method="POST")
            if r["path"].rstrip("/") == "/v1/refunds"]


def audit_actions(app, booking_id: int) -> list[str]:
    from app.extensions import db
    from app.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_type == "booking", AuditEvent.subject_id == booking_id)
            .order_by(AuditEvent.id)).all()
        db.session.remove()
    return list(rows)


def reconcile(app, part_id: int) -> str:
    """What the sweeper does for a part Stripe holds: fetch the refund and apply it."""
    from app.adapters.stripe_gateway import gateway_for
    from app.extensions import db
    from app.services.refunds import processing as refund_processing
    from app.web.links import WebLinks

    with app.app_context():
        outcome = refund_processing.reconcile_part(db.session, part_id, gateway_for(app), WebLinks(app))
        db.session.remove()
    return outcome


def settle_at_stripe(app, sim, part_id: int) -> str:
    """Wait for the consumer to create the part's refund, settle it at the simulator and apply it."""
    from tests.integration.payments.helpers import wait_until

    wait_until(lambda: next(p for p in parts(app) if p["id"] == part_id)["stripe_id"])
    sim.control.settle_refunds()
    return reconcile(app, part_id)


def new_booking_links(app, account, package_id: int, days: int = 100) -> tuple[int, str]:
    from tests.integration.bookings.helpers import outbox_links

    booking_id = new_booking(app, account, package_id, days=days)
    return booking_id, outbox_links(app)[-1]["cancel"]
