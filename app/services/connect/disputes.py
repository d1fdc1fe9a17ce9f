"""Disputes on card payments. With direct charges the dispute is opened on the vendor's own
Stripe account; we mirror it on the booking and tell the owner what to do and by when.

Invariants:
- a dispute is recorded once (UNIQUE stripe_dispute_id) and the owner is emailed once when it
  opens and once when it closes (dedupe keys), however often Stripe repeats its events;
- what we store is the Dispute fetched from the account the event came from, matched to a
  card payment made on that same account; anything else is `unknown` and changes nothing;
- a lost dispute counts against the payment in the booking's numbers (`lost_minor`).
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Booking, Dispute, Payment, Tenant
from app.services.notifications import vendor as tell_team
from app.services.payments.gateway import PaymentGateway
from app.services.shared import audit, clock
from app.services.shared.links import Links
from app.services.shared.money import format_money

EVENT_TYPES = frozenset({"charge.dispute.created", "charge.dispute.updated",
                         "charge.dispute.closed"})
CLOSED = ("won", "lost", "warning_closed")
REASONS = {
    "fraudulent": "the cardholder says they did not make the payment",
    "duplicate": "the cardholder says they were charged twice",
    "product_not_received": "the cardholder says the service was not provided",
    "product_unacceptable": "the cardholder says the service was not as described",
    "credit_not_processed": "the cardholder says a promised refund was not made",
    "subscription_canceled": "the cardholder says they canceled",
    "unrecognized": "the cardholder does not recognise the payment",
    "general": "the cardholder's bank gave no specific reason",
}


def handle_event(session: Session, event_type: str, dispute_id: str, claimed_charge: str,
                 account: str, gateway: PaymentGateway, links: Links) -> str:
    """Bring our dispute row in line with Stripe's; commits. processed, unknown (no card payment
    of ours has that charge) or tenant_mismatch (the payment lives on another account: nothing
    is asked of either account)."""
    payment = session.scalar(select(Payment).where(Payment.stripe_charge_id == claimed_charge,
                                                   Payment.method == "card")) \
        if claimed_charge else None
    if payment is None:
        session.rollback()
        return "unknown"
    if payment.stripe_account != account:
        session.rollback()
        return "tenant_mismatch"
    session.commit()
    info = gateway.retrieve_dispute(dispute_id, account=account)
    if info.charge != payment.stripe_charge_id:
        session.rollback()
        return "tenant_mismatch"
    now = clock.now()
    due = datetime.fromtimestamp(info.evidence_due_by, UTC) if info.evidence_due_by else None
    row = session.scalar(select(Dispute).where(Dispute.stripe_dispute_id == info.id))
    if row is None:
        row = Dispute(tenant_id=payment.tenant_id, booking_id=payment.booking_id,
                      payment_id=payment.id, stripe_dispute_id=info.id, stripe_account=account,
                      amount_minor=info.amount, currency=info.currency, reason=info.reason[:40],
                      status=info.status, evidence_due_by=due, created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            session.rollback()  # the same dispute, two events at once: the other stored it
            row = session.scalar(select(Dispute).where(Dispute.stripe_dispute_id == info.id))
        else:
            audit.record(session, payment.tenant_id, "dispute.opened", actor="stripe",
                         subject_type="booking", subject_id=payment.booking_id,
                         payment_id=payment.id, stripe_dispute_id=info.id,
                         amount_minor=info.amount, currency=info.currency, reason=info.reason)
            _tell_owner(session, row, "dispute_opened", gateway, links)
    was = row.status
    row.status, row.amount_minor, row.evidence_due_by, row.updated_at = \
        info.status, info.amount, due, now
    if info.status in CLOSED and was not in CLOSED:
        row.closed_at = now
        audit.record(session, row.tenant_id, f"dispute.{info.status}", actor="stripe",
                     subject_type="booking", subject_id=row.booking_id, payment_id=row.payment_id,
                     stripe_dispute_id=info.id, amount_minor=info.amount, currency=info.currency)
        _tell_owner(session, row, "dispute_closed", gateway, links)
    session.commit()
    return "processed"


def _tell_owner(session: Session, dispute: Dispute, kind: str, gateway: PaymentGateway,
                links: Links) -> None:
    tenant = session.get(Tenant, dispute.tenant_id)
    booking = session.get(Booking, dispute.booking_id)
    locale = tenant.locale or "en_US"
    amount_text = format_money(dispute.amount_minor, dispute.currency, locale)
    due_text = dispute.evidence_due_by.astimezone(ZoneInfo(tenant.timezone)).strftime(
        "%Y-%m-%d %H:%M") if dispute.evidence_due_by else ""
    opened = kind == "dispute_opened"
    subject = (f"A payment of {amount_text} for booking #{booking.id} is disputed" if opened
               else f"The dispute on booking #{booking.id} is {dispute.status}")
    tell_team.notify_team(
        session, tenant.id, event_key=f"{kind}-{dispute.stripe_dispute_id}", booking=booking,
        kind=kind, subject=subject, sentence=subject, login_url=links.login(),
        context={"dispute": dispute, "amount_text": amount_text,
                 "reason_text": REASONS.get(dispute.reason, dispute.reason),
                 "due_text": due_text,
                 "respond_url": gateway.dashboard_link(dispute.stripe_account)})


def disputes_for_booking(session: Session, tenant_id: int, booking_id: int) -> list[Dispute]:
    return list(session.scalars(select(Dispute).where(Dispute.tenant_id == tenant_id,
                                                      Dispute.booking_id == booking_id)
                                .order_by(Dispute.created_at)))


def open_disputes(session: Session, tenant_id: int) -> list[Dispute]:
    return list(session.scalars(select(Dispute).where(Dispute.tenant_id == tenant_id,
                                                      Dispute.closed_at.is_(None))
                                .order_by(Dispute.evidence_due_by)))


def lost_minor(session: Session, tenant_id: int, booking_id: int) -> int:
    """What the booking's lost disputes took back (its numbers count it as not received)."""
    return sum(d.amount_minor for d in disputes_for_booking(session, tenant_id, booking_id)
               if d.status == "lost")
