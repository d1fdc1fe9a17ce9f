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

    def count(model, *where):
        return select(func.count(model.id)).where(model.tenant_id == tenant_id, *where).scalar_subquery()

    # One statement for the counts: each statement costs more in SQLAlchemy than in the database.
    counts = session.execute(select(
        count(Booking, Booking.status == "pending_deposit"),
        count(RefundPart, RefundPart.status.in_(("pending", "processing"))),
        count(RefundPart, RefundPart.status == "failed"),
        count(Reminder, Reminder.status == "failed"),
        count(StripeEvent, StripeEvent.status == "failed"),
        count(Dispute, Dispute.closed_at.is_(None)),
    )).one()
    return Overview(
        today=today,
        upcoming=upcoming,
        awaiting_deposit=counts[0],
        outstanding=payment_stages.outstanding_totals(session, tenant_id),
        refunds_in_progress=counts[1],
        refunds_failed=counts[2],
        reminders_failed=counts[3],
        events_failed=counts[4],
        disputes_open=counts[5],
        payments_closed=not session.get(Tenant, tenant_id).can_take_charges,
    )
