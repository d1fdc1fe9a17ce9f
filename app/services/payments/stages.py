"""A booking's payment stages: created with the booking, due dates moved with it, and the
queries the portal and the dashboard show.

Invariants: the stages of a booking sum exactly to its total (`schedules.plan`), carry the
booking's currency, and are created in the booking's own transaction; a stage due relative to
the event moves when the event does; a paid stage is never changed here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Booking, Payment, PaymentStage, Tenant
from app.services.payments import schedules
from app.services.payments import settings as payment_settings
from app.services.shared import clock, currencies, jobs
from app.services.shared.tenancy import get_owned

OPEN = ("due", "processing")


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def create_stages(session: Session, booking: Booking) -> list[PaymentStage]:
    """Plan and add the booking's stages in the caller's transaction (no commit)."""
    tenant = session.get(Tenant, booking.tenant_id)
    rule = payment_settings.rule_for(session, booking.tenant_id, booking.package_id, booking.currency)
    booked_on = local_date(booking.created_at, tenant.timezone)
    now = clock.now()
    rows = []
    for planned in schedules.plan(rule, booking.total_minor,
                                  currencies.get(booking.currency).step):
        row = PaymentStage(
            tenant_id=booking.tenant_id, booking_id=booking.id, seq=planned.seq, kind=planned.kind,
            label=planned.label, amount_minor=planned.amount_minor, currency=booking.currency,
            due_anchor=planned.due_anchor, due_offset_days=planned.due_offset_days,
            due_date=schedules.due_date(planned.due_anchor, planned.due_offset_days, booked_on,
                                        booking.event_date),
            status="due", intent_version=0, last_error="", created_at=now, updated_at=now)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def move_due_dates(session: Session, booking: Booking) -> None:
    """After a reschedule (caller's transaction): unpaid stages due relative to the event move."""
    tenant = session.get(Tenant, booking.tenant_id)
    booked_on = local_date(booking.created_at, tenant.timezone)
    for stage in stages_for(session, booking.tenant_id, booking.id):
        if stage.status in OPEN:
            stage.due_date = schedules.due_date(stage.due_anchor, stage.due_offset_days, booked_on,
                                                booking.event_date)
            stage.updated_at = clock.now()


def cancel_checkouts(session: Session, stages: list[PaymentStage]) -> None:
    """After the commit, cancel at Stripe the intents of stages that must no longer take card
    money: the couple may still have that checkout open. If one succeeded meanwhile, the task
    records it (app.services.payments.recording.cancel_open_intent)."""
    for stage in stages:
        if stage.payment_intent_id:
            jobs.after_commit(session, jobs.Job.CANCEL_CHECKOUT_INTENT, stage.payment_intent_id)


def void_open_stages(session: Session, booking: Booking) -> list[PaymentStage]:
    """A canceled booking owes nothing more (caller's transaction): each unpaid stage becomes
    void with a guarded UPDATE, so a stage a payment settled meanwhile stays paid, and its
    checkout is canceled at Stripe after the commit. Returns the voided stages."""
    voided = []
    now = clock.now()
    for stage in stages_for(session, booking.tenant_id, booking.id):
        changed = session.execute(
            update(PaymentStage)
            .where(PaymentStage.id == stage.id, PaymentStage.tenant_id == booking.tenant_id,
                   PaymentStage.status.in_(OPEN))
            .values(status="void", updated_at=now)
            .execution_options(synchronize_session="fetch")).rowcount
        if changed == 1:
            voided.append(stage)
    cancel_checkouts(session, voided)
    return voided


def deposit_processing(booking_id_column):
    """SQL: the booking has a stage whose card payment is processing. Such a booking keeps its
    date past the hold: the bank has the couple's money in flight."""
    return (select(PaymentStage.id)
            .where(PaymentStage.booking_id == booking_id_column, PaymentStage.status == "processing")
            .exists())


def stages_for(session: Session, tenant_id: int, booking_id: int) -> list[PaymentStage]:
    return list(session.scalars(
        select(PaymentStage).where(PaymentStage.tenant_id == tenant_id,
                                   PaymentStage.booking_id == booking_id)
        .order_by(PaymentStage.seq)))


def get_stage(session: Session, tenant_id: int, stage_id: int) -> PaymentStage:
    stage = get_owned(session, PaymentStage, tenant_id, stage_id)
    return stage


def next_open(stages: list[PaymentStage]) -> PaymentStage | None:
    return next((s for s in stages if s.status in OPEN), None)


@dataclass(frozen=True)
class BookingMoney:
    """What a booking owes and has paid, for the portal and the dashboard."""

    total_minor: int
    paid_minor: int
    outstanding_minor: int
    currency: str
    stages: list[PaymentStage]
    payments: list[Payment]
    next_stage: PaymentStage | None


def booking_money(session: Session, tenant_id: int, booking_id: int) -> BookingMoney:
    booking = get_owned(session, Booking, tenant_id, booking_id)
    stages = stages_for(session, tenant_id, booking_id)
    payments = list(session.scalars(
        select(Payment).where(Payment.tenant_id == tenant_id, Payment.booking_id == booking_id)
        .order_by(Payment.received_at, Payment.id)))
    paid = sum(p.amount_minor - p.refunded_minor for p in payments)
    outstanding = sum(s.amount_minor for s in stages if s.status in OPEN)
    return BookingMoney(booking.total_minor, paid, outstanding, booking.currency, stages, payments,
                        next_open(stages))


@dataclass(frozen=True)
class OutstandingRow:
    booking: Booking
    stage: PaymentStage
    overdue: bool


def outstanding(session: Session, tenant_id: int, today: date, limit: int = 200
                ) -> list[OutstandingRow]:
    """Unpaid stages of live bookings, soonest due first, with overdue marks (tenant's today)."""
    rows = session.execute(
        select(PaymentStage, Booking).join(Booking, Booking.id == PaymentStage.booking_id)
        .where(PaymentStage.tenant_id == tenant_id, Booking.tenant_id == tenant_id,
               PaymentStage.status.in_(OPEN),
               Booking.status.in_(("pending_deposit", "confirmed")))
        .order_by(PaymentStage.due_date, PaymentStage.booking_id, PaymentStage.seq).limit(limit))
    return [OutstandingRow(booking, stage, stage.due_date < today) for stage, booking in rows]


def outstanding_totals(session: Session, tenant_id: int) -> dict[str, int]:
    """Outstanding amount per currency (a tenant may have changed currency over time)."""
    rows = session.execute(
        select(PaymentStage.currency, func.sum(PaymentStage.amount_minor))
        .join(Booking, Booking.id == PaymentStage.booking_id)
        .where(PaymentStage.tenant_id == tenant_id, PaymentStage.status.in_(OPEN),
               Booking.status.in_(("pending_deposit", "confirmed")))
        .group_by(PaymentStage.currency))
    return {currency: int(total) for currency, total in rows}
