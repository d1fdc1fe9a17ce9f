"""Read-side queries for the dashboard: the bookings list and the month calendar.

The list runs a fixed number of statements whatever the number of bookings (one count, one
page), so it stays fast as a tenant grows; a test counts them.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models import Booking
from app.models.booking import BOOKING_STATUSES
from app.services.bookings.lifecycle import LIVE
from app.services.shared import paging
from app.services.shared.spreadsheet import csv_text, decimal_text, safe_cell

PAGE_SIZE = 50
SORTS = {
    "event_date": Booking.event_date,
    "created": Booking.created_at,
    "names": Booking.couple_names,
    "total": Booking.total_minor,
    "status": Booking.status,
}


@dataclass(frozen=True)
class BookingFilter:
    status: str = ""
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "event_date"
    descending: bool = False
    page: int = 1


@dataclass(frozen=True)
class BookingPage:
    items: list[Booking]
    total: int
    page: int
    pages: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(tenant_id: int, f: BookingFilter) -> list:
    conditions = [Booking.tenant_id == tenant_id]
    if f.status in BOOKING_STATUSES:
        conditions.append(Booking.status == f.status)
    if f.q.strip():
        pattern = f"%{_escape_like(f.q.strip().lower())}%"
        conditions.append(or_(func.lower(Booking.couple_names).like(pattern, escape="\\"),
                              func.lower(Booking.email).like(pattern, escape="\\")))
    if f.date_from is not None:
        conditions.append(Booking.event_date >= f.date_from)
    if f.date_to is not None:
        conditions.append(Booking.event_date <= f.date_to)
    return conditions


def _order(f: BookingFilter) -> list:
    column = SORTS.get(f.sort, Booking.event_date)
    return [column.desc() if f.descending else column.asc(), Booking.id.desc() if f.descending else Booking.id]


def list_bookings(session: Session, tenant_id: int, f: BookingFilter) -> BookingPage:
    conditions = _conditions(tenant_id, f)
    total = session.scalar(select(func.count()).select_from(Booking).where(*conditions)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    items = list(session.scalars(
        select(Booking).where(*conditions).order_by(*_order(f))
        .limit(PAGE_SIZE).offset(paging.offset(page, PAGE_SIZE))))
    return BookingPage(items, total, page, pages)


EXPORT_HEADER = ["booking_id", "event_date", "start_time", "couple_names", "email", "phone", "venue",
                 "package", "status", "currency", "total", "created_at", "source"]


def export_csv(session: Session, tenant_id: int, f: BookingFilter) -> str:
    """Every booking the list's filters match (all pages) as CSV; text cells formula-safe,
    amounts in major units with a dot."""
    rows = session.scalars(select(Booking).where(*_conditions(tenant_id, f)).order_by(*_order(f)).limit(100_000))
    return csv_text(EXPORT_HEADER, (
        [b.id, b.event_date.isoformat(), b.start_time.strftime("%H:%M") if b.start_time else "",
         safe_cell(b.couple_names), safe_cell(b.email), safe_cell(b.phone), safe_cell(b.venue),
         safe_cell(b.package_title), b.status, b.currency, decimal_text(b.total_minor, b.currency),
         b.created_at.isoformat(), b.source] for b in rows))


def month_grid(year: int, month: int) -> list[list[date | None]]:
    """Weeks (Monday first) of the month; None pads days of the neighbouring months."""
    return [[d if d.month == month else None for d in week]
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)]


def month_events(session: Session, tenant_id: int, year: int, month: int) -> dict[date, list[Booking]]:
    """Live bookings of the month by date, in one query."""
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    rows = session.scalars(
        select(Booking).where(Booking.tenant_id == tenant_id, Booking.status.in_(LIVE),
                              Booking.event_date >= start, Booking.event_date <= end)
        .order_by(Booking.event_date, Booking.start_time, Booking.id))
    events: dict[date, list[Booking]] = {}
    for booking in rows:
        events.setdefault(booking.event_date, []).append(booking)
    return events
