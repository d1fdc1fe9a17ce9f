"""Availability: the one answer to "can this tenant take another event on this date?".

Used by the public page, the couple's portal and the dashboard. A date is bookable when it is
between today + minimum notice and today + horizon (in the tenant's timezone), is not a blackout
date, and fewer bookings occupy it than the daily capacity. Occupancy is the `date_slots` table:
every live booking (held, confirmed, paid, completed) owns one slot of its date.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AvailabilitySettings, BlackoutDate, DateSlot
from app.services.accounts import tenants
from app.services.shared import audit, clock
from app.services.shared.errors import ValidationFailed
from app.services.shared.tenancy import get_owned
from app.services.shared.unit_of_work import committing

NEARBY_DAYS = 45
FULL = "That date is already booked."


@dataclass(frozen=True)
class Rules:
    capacity_per_day: int
    min_notice_days: int
    horizon_days: int
    hold_minutes: int
    reschedule_cutoff_days: int


def rules(session: Session, tenant_id: int) -> Rules:
    row = session.scalars(
        select(AvailabilitySettings).where(AvailabilitySettings.tenant_id == tenant_id)).first()
    if row is None:
        return Rules(**AvailabilitySettings.DEFAULTS)
    return Rules(**{k: getattr(row, k) for k in AvailabilitySettings.DEFAULTS})


LIMITS = {
    "capacity_per_day": (1, 50),
    "min_notice_days": (0, 365),
    "horizon_days": (1, 365 * 5),
    "hold_minutes": (5, 60 * 24 * 7),
    "reschedule_cutoff_days": (0, 365),
}


def update_rules(session: Session, tenant_id: int, actor_user_id: int, values: dict[str, int]) -> Rules:
    """Change the booking rules (all at once or nothing); existing bookings keep their dates."""
    problems = {}
    for name, (low, high) in LIMITS.items():
        value = values.get(name)
        if not isinstance(value, int) or not low <= value <= high:
            problems[name] = f"Enter a whole number from {low} to {high}."
    if problems:
        raise ValidationFailed(problems)
    row = session.scalars(
        select(AvailabilitySettings).where(AvailabilitySettings.tenant_id == tenant_id)).first()
    if row is None:
        row = AvailabilitySettings(tenant_id=tenant_id)
        session.add(row)
    for name in LIMITS:
        setattr(row, name, values[name])
    audit.record(session, tenant_id, "availability.updated", actor="user", actor_user_id=actor_user_id,
                 subject_type="tenant", subject_id=tenant_id, **{k: values[k] for k in LIMITS})
    session.commit()
    return rules(session, tenant_id)


def local_today(session: Session, tenant_id: int) -> date:
    tenant = tenants.get_tenant(session, tenant_id)
    return clock.now().astimezone(ZoneInfo(tenant.timezone)).date()


def window(session: Session, tenant_id: int, r: Rules | None = None) -> tuple[date, date]:
    """First and last bookable dates (inclusive), in the tenant's timezone."""
    r = r or rules(session, tenant_id)
    today = local_today(session, tenant_id)
    return today + timedelta(days=r.min_notice_days), today + timedelta(days=r.horizon_days)


def blackouts(session: Session, tenant_id: int, start: date | None = None,
              end: date | None = None) -> list[BlackoutDate]:
    query = select(BlackoutDate).where(BlackoutDate.tenant_id == tenant_id)
    if start is not None:
        query = query.where(BlackoutDate.day >= start)
    if end is not None:
        query = query.where(BlackoutDate.day <= end)
    return list(session.scalars(query.order_by(BlackoutDate.day)))


def add_blackout(session: Session, tenant_id: int, actor_user_id: int, day: date, reason: str = "") -> BlackoutDate:
    if len(reason) > 120:
        raise ValidationFailed({"reason": "Use at most 120 characters."})
    try:
        with committing(session):
            row = BlackoutDate(tenant_id=tenant_id, day=day, reason=reason.strip())
            session.add(row)
            session.flush()
            audit.record(session, tenant_id, "availability.blackout_added", actor="user",
                         actor_user_id=actor_user_id, subject_type="tenant", subject_id=tenant_id,
                         day=day.isoformat())
    except IntegrityError:
        raise ValidationFailed({"day": "That date is already blocked."}) from None
    return row


def remove_blackout(session: Session, tenant_id: int, actor_user_id: int, blackout_id: int) -> None:
    row = get_owned(session, BlackoutDate, tenant_id, blackout_id)
    session.delete(row)
    audit.record(session, tenant_id, "availability.blackout_removed", actor="user",
                 actor_user_id=actor_user_id, subject_type="tenant", subject_id=tenant_id,
                 day=row.day.isoformat())
    session.commit()


def occupancy(session: Session, tenant_id: int, start: date, end: date) -> dict[date, int]:
    """Occupied slots per date in [start, end], in one query."""
    rows = session.execute(
        select(DateSlot.event_date, func.count())
        .where(DateSlot.tenant_id == tenant_id, DateSlot.event_date >= start, DateSlot.event_date <= end)
        .group_by(DateSlot.event_date)
    )
    return {day: count for day, count in rows}


def date_problem(session: Session, tenant_id: int, day: date | None) -> str | None:
    """Why this date cannot be booked now, in words for the couple; None when it can."""
    if day is None:
        return "Choose a date."
    r = rules(session, tenant_id)
    first, last = window(session, tenant_id, r)
    today = first - timedelta(days=r.min_notice_days)
    if day < today:
        return "That date is in the past."
    if day < first:
        return f"We need at least {r.min_notice_days} days' notice; choose {first.isoformat()} or later."
    if day > last:
        return f"We take bookings up to {last.isoformat()}; choose an earlier date."
    if blackouts(session, tenant_id, day, day):
        return "We are not available on that date."
    if occupancy(session, tenant_id, day, day).get(day, 0) >= r.capacity_per_day:
        return FULL
    return None


def free_dates(session: Session, tenant_id: int, start: date, end: date) -> list[date]:
    """Bookable dates in [start, end], clipped to the booking window; three queries in all."""
    r = rules(session, tenant_id)
    first, last = window(session, tenant_id, r)
    start, end = max(start, first), min(end, last)
    if start > end:
        return []
    blocked = {b.day for b in blackouts(session, tenant_id, start, end)}
    used = occupancy(session, tenant_id, start, end)
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [d for d in days if d not in blocked and used.get(d, 0) < r.capacity_per_day]


def nearby_free_dates(session: Session, tenant_id: int, day: date, count: int = 5) -> list[date]:
    """The `count` free dates closest to `day` (either side), soonest-distance first."""
    candidates = free_dates(session, tenant_id, day - timedelta(days=NEARBY_DAYS),
                            day + timedelta(days=NEARBY_DAYS))
    return sorted(sorted(candidates, key=lambda d: (abs((d - day).days), d))[:count])


def month_days(session: Session, tenant_id: int, year: int, month: int) -> list[tuple[date, bool]]:
    """Every date of the month with whether it is bookable, for the date pickers."""
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    free = set(free_dates(session, tenant_id, start, end))
    return [(start + timedelta(days=i), (start + timedelta(days=i)) in free)
            for i in range((end - start).days + 1)]


def claim_slot(session: Session, tenant_id: int, day: date, booking_id: int, capacity: int) -> bool:
    """Insert the lowest free slot of `day` for the booking, in the caller's transaction.

    Returns False when the date is full as far as this transaction can see. A concurrent
    transaction inserting the same slot makes the flush or commit raise IntegrityError; the
    caller rolls back and retries, and then sees the slot taken.
    """
    taken = set(session.scalars(select(DateSlot.slot_no).where(
        DateSlot.tenant_id == tenant_id, DateSlot.event_date == day)))
    free = [n for n in range(1, capacity + 1) if n not in taken]
    if not free:
        return False
    session.add(DateSlot(tenant_id=tenant_id, event_date=day, slot_no=free[0], booking_id=booking_id))
    session.flush()
    return True


def release_slot(session: Session, tenant_id: int, booking_id: int) -> None:
    slot = session.scalars(select(DateSlot).where(
        DateSlot.tenant_id == tenant_id, DateSlot.booking_id == booking_id)).first()
    if slot is not None:
        session.delete(slot)
        session.flush()
