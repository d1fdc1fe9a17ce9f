"""The dashboard's first page: what needs the owner's attention today."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Booking, Dispute, RefundPart, Reminder, StripeEvent, Tenant
from app.services.bookings import availability
from app.services.payments import stages as payment_stages

LIVE = ("pending_deposit", "confirmed", "paid_in_full", "partially_refunded")


@dataclass(frozen=True)
class Overview:
    today: date
    upcoming: list[Booking]
    awaiting_deposit: int
    outstanding: dict[str, int]
    refunds_in_progress: int
    refunds_failed: int
    reminders_failed: int
    events_failed: int
    disputes_open: int = 0
    payments_closed: bool = False  # the tenant cannot take card payments (Payments account)


def overview(session: Session, tenant_id: int, upcoming_limit: int = 5) -> Overview:
    """Counts and the next events of one tenant; a fixed number of queries whatever its size."""
    today = availability.local_today(session, tenant_id)
    upcoming = list(session.scalars(
        select(Booking).where(Booking.tenant_id == tenant_id, Booking.status.in_(LIVE),
                              Booking.event_date >= today)
        .order_by(Booking.event_date, Booking.id).limit(upcoming_limit)))

    def count(model, *where) -> int:
        return session.scalar(select(func.count(model.id)).where(model.tenant_id == tenant_id, *where))

    return Overview(
        today=today,
        upcoming=upcoming,
        awaiting_deposit=count(Booking, Booking.status == "pending_deposit"),
        outstanding=payment_stages.outstanding_totals(session, tenant_id),
        refunds_in_progress=count(RefundPart, RefundPart.status.in_(("pending", "processing"))),
        refunds_failed=count(RefundPart, RefundPart.status == "failed"),
        reminders_failed=count(Reminder, Reminder.status == "failed"),
        events_failed=count(StripeEvent, StripeEvent.status == "failed"),
        disputes_open=count(Dispute, Dispute.closed_at.is_(None)),
        payments_closed=not session.get(Tenant, tenant_id).can_take_charges,
    )
