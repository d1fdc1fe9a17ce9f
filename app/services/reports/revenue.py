"""Money at a glance for one tenant, per currency, in the tenant's time zone.

- collected: payments received (any method), by the local date of `received_at`;
- refunded: refund parts that succeeded, by the local date of `settled_at` (a part Stripe later
  failed is back to `failed` and no longer counts);
- net = collected - refunded;
- outstanding / overdue / due in the next 30 days / deposits awaited: open stages (due or
  processing) of bookings still expected to pay (awaiting deposit or confirmed), as the
  payments page counts them;
- revenue by month: the last 12 months, this one included; forecast: open stages by the month
  they fall due, this month (from today) and the next 5.

A fixed number of queries whatever the tenant's size; rows are bucketed by local date here, so
SQLite and PostgreSQL agree without time-zone SQL.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Booking, Payment, PaymentStage, RefundPart, Tenant
from app.services.bookings import availability
from app.services.payments.stages import OPEN

EXPECTING_PAYMENT = ("pending_deposit", "confirmed")
HISTORY_MONTHS = 12
FORECAST_MONTHS = 6
SOON_DAYS = 30


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class Figures:
    """One currency's figures; every amount in minor units."""

    currency: str
    collected_month: int = 0
    refunded_month: int = 0
    collected_year: int = 0
    refunded_year: int = 0
    outstanding: int = 0
    overdue: int = 0
    due_soon: int = 0
    deposits_awaited: int = 0
    deposits_awaited_count: int = 0

    @property
    def net_month(self) -> int:
        return self.collected_month - self.refunded_month

    @property
    def net_year(self) -> int:
        return self.collected_year - self.refunded_year


@dataclass(frozen=True)
class MonthTotals:
    month: date  # first day of the month
    collected: int
    refunded: int

    @property
    def net(self) -> int:
        return self.collected - self.refunded


@dataclass
class MoneyAtAGlance:
    today: date
    currencies: list[str]
    figures: dict[str, Figures] = field(default_factory=dict)
    revenue: dict[str, list[MonthTotals]] = field(default_factory=dict)
    forecast: dict[str, list[tuple[date, int]]] = field(default_factory=dict)


def _utc_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def money_at_a_glance(session: Session, tenant_id: int, today: date | None = None) -> MoneyAtAGlance:
    """The dashboard's money figures for one tenant (`today` is the tenant's local date)."""
    tenant = session.get(Tenant, tenant_id)
    zone = ZoneInfo(tenant.timezone)
    if today is None:
        today = availability.local_today(session, tenant_id)
    this_month = date(today.year, today.month, 1)
    first_history = add_months(this_month, 1 - HISTORY_MONTHS)
    since = min(first_history, date(today.year, 1, 1))
    months = [add_months(first_history, i) for i in range(HISTORY_MONTHS)]

    collected: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    refunded: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    year_collected: dict[str, int] = defaultdict(int)
    year_refunded: dict[str, int] = defaultdict(int)
    bound = _utc_start(since, zone) - timedelta(days=1)  # slack; the local date decides

    for amount, currency, at in session.execute(
            select(Payment.amount_minor, Payment.currency, Payment.received_at)
            .where(Payment.tenant_id == tenant_id, Payment.received_at >= bound)):
        day = _local_date(at, zone)
        if since <= day <= today:
            collected[currency][date(day.year, day.month, 1)] += amount
            if day.year == today.year:
                year_collected[currency] += amount
    for amount, currency, at in session.execute(
            select(RefundPart.amount_minor, RefundPart.currency, RefundPart.settled_at)
            .where(RefundPart.tenant_id == tenant_id, RefundPart.status == "succeeded",
                   RefundPart.settled_at >= bound)):
        day = _local_date(at, zone)
        if since <= day <= today:
            refunded[currency][date(day.year, day.month, 1)] += amount
            if day.year == today.year:
                year_refunded[currency] += amount

    open_stages = session.execute(
        select(PaymentStage.amount_minor, PaymentStage.currency, PaymentStage.due_date,
               PaymentStage.kind, Booking.status)
        .join(Booking, Booking.id == PaymentStage.booking_id)
        .where(PaymentStage.tenant_id == tenant_id, Booking.tenant_id == tenant_id,
               PaymentStage.status.in_(OPEN), Booking.status.in_(EXPECTING_PAYMENT))).all()

    currencies = sorted(set(collected) | set(refunded) | {s.currency for s in open_stages},
                        key=lambda c: (c != tenant.currency, c)) or [tenant.currency]
    result = MoneyAtAGlance(today=today, currencies=currencies)
    forecast_end = add_months(this_month, FORECAST_MONTHS)
    forecast: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for currency in currencies:
        result.figures[currency] = Figures(
            currency=currency,
            collected_month=collected[currency][this_month], refunded_month=refunded[currency][this_month],
            collected_year=year_collected[currency], refunded_year=year_refunded[currency])
    for amount, currency, due, kind, booking_status in open_stages:
        figures = result.figures[currency]
        figures.outstanding += amount
        if due < today:
            figures.overdue += amount
        elif due <= today + timedelta(days=SOON_DAYS):
            figures.due_soon += amount
        if due >= today and due < forecast_end:
            forecast[currency][date(due.year, due.month, 1)] += amount
        if kind == "deposit" and booking_status == "pending_deposit":
            figures.deposits_awaited += amount
            figures.deposits_awaited_count += 1
    for currency in currencies:
        result.revenue[currency] = [MonthTotals(m, collected[currency][m], refunded[currency][m])
                                    for m in months]
        result.forecast[currency] = [(add_months(this_month, i), forecast[currency][add_months(this_month, i)])
                                     for i in range(FORECAST_MONTHS)]
    return result
