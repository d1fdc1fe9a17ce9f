"""Payments received by one tenant: a filtered list with totals, and the same as CSV.

Dates are the tenant's local dates of `received_at`; totals are per currency and count what
was received, what went back (refunded so far) and the difference.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models import Booking, Payment, Tenant
from app.models.payment import PAYMENT_METHODS
from app.services.shared.spreadsheet import csv_text, decimal_text, safe_cell

METHOD_LABELS = {"card": "Card", "cash": "Cash", "bank_transfer": "Bank transfer", "other": "Other"}
LIST_LIMIT = 500


@dataclass(frozen=True)
class ReceivedFilter:
    date_from: date | None = None
    date_to: date | None = None
    method: str = ""
    q: str = ""


@dataclass(frozen=True)
class ReceivedRow:
    payment: Payment
    booking_id: int
    couple_names: str
    received_on: date  # the tenant's local date


@dataclass
class Totals:
    received: int = 0
    refunded: int = 0
    fees: int = 0  # the platform's application fees on these payments (Connect)
    count: int = 0

    @property
    def net(self) -> int:
        return self.received - self.refunded


@dataclass
class Received:
    rows: list[ReceivedRow]
    totals: dict[str, Totals] = field(default_factory=dict)
    truncated: bool = False


def _query(session: Session, tenant_id: int, f: ReceivedFilter):
    zone = ZoneInfo(session.get(Tenant, tenant_id).timezone)
    conditions = [Payment.tenant_id == tenant_id, Booking.tenant_id == tenant_id]
    if f.date_from is not None:
        conditions.append(Payment.received_at >= datetime.combine(f.date_from, time.min, zone).astimezone(UTC))
    if f.date_to is not None:
        end = datetime.combine(f.date_to + timedelta(days=1), time.min, zone).astimezone(UTC)
        conditions.append(Payment.received_at < end)
    if f.method in PAYMENT_METHODS:
        conditions.append(Payment.method == f.method)
    if f.q.strip():
        conditions.append(or_(func.lower(Booking.couple_names).contains(f.q.strip().lower(), autoescape=True),
                              func.lower(Booking.email).contains(f.q.strip().lower(), autoescape=True)))
    query = (select(Payment, Booking.couple_names).join(Booking, Booking.id == Payment.booking_id)
             .where(*conditions).order_by(Payment.received_at.desc(), Payment.id.desc()))
    return query, zone


def payments_received(session: Session, tenant_id: int, f: ReceivedFilter) -> Received:
    """The newest payments matching the filters (at most LIST_LIMIT rows listed); the totals
    cover every match."""
    query, zone = _query(session, tenant_id, f)
    result = Received(rows=[])
    for payment, names in session.execute(query):
        totals = result.totals.setdefault(payment.currency, Totals())
        totals.received += payment.amount_minor
        totals.refunded += payment.refunded_minor
        totals.fees += payment.application_fee_minor
        totals.count += 1
        if len(result.rows) < LIST_LIMIT:
            result.rows.append(ReceivedRow(payment, payment.booking_id, names,
                                           payment.received_at.astimezone(zone).date()))
        else:
            result.truncated = True
    return result


HEADER = ["received_on", "received_at_utc", "booking_id", "couple", "method", "currency", "amount",
          "refunded", "net", "platform_fee", "stripe_payment_intent", "note"]


def export_csv(session: Session, tenant_id: int, f: ReceivedFilter) -> str:
    """Every payment matching the filters; text cells formula-safe, amounts with a dot."""
    query, zone = _query(session, tenant_id, f)
    return csv_text(HEADER, (
        [p.received_at.astimezone(zone).date().isoformat(), p.received_at.isoformat(), p.booking_id,
         safe_cell(names), METHOD_LABELS[p.method], p.currency, decimal_text(p.amount_minor, p.currency),
         decimal_text(p.refunded_minor, p.currency), decimal_text(p.amount_minor - p.refunded_minor, p.currency),
         decimal_text(p.application_fee_minor, p.currency), p.stripe_payment_intent_id or "", safe_cell(p.note)]
        for p, names in session.execute(query.limit(100_000))))
