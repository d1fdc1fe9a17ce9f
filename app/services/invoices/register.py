"""The tenant's register of issued documents: filters, derived status, and the CSV export.

An invoice's status is derived, never stored: credited when a credit note refers to it, paid
when the booking's payments (less refunds) cover its total, partially_paid when they cover part
of it, else its delivery status (issued, sent, viewed). Receipts and credit notes show their
delivery status.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session, aliased

from app.models import Document, Payment, Tenant
from app.models.invoice import DELIVERY_STATUSES, DOCUMENT_KINDS
from app.services.shared import paging
from app.services.shared.spreadsheet import decimal_text as _amount
from app.services.shared.spreadsheet import safe_cell

STATUSES = DELIVERY_STATUSES + ("partially_paid", "paid", "credited")
PER_PAGE = 50


@dataclass(frozen=True)
class RegisterFilter:
    status: str = ""
    kind: str = ""
    number: str = ""
    date_from: date | None = None
    date_to: date | None = None


@lru_cache(maxsize=1024)
def _columns(tenant_id: int):
    """Built once per tenant and process: building these expressions cost more than running
    them (SQLAlchemy statements are immutable, so sharing them between requests is safe)."""
    credit = aliased(Document)
    paid = (select(func.coalesce(func.sum(Payment.amount_minor - Payment.refunded_minor), 0))
            .where(Payment.tenant_id == tenant_id, Payment.booking_id == Document.booking_id)
            .correlate(Document).scalar_subquery())
    credited = (select(func.coalesce(-func.sum(credit.total_minor), 0))
                .where(credit.tenant_id == tenant_id, credit.invoice_id == Document.id,
                       credit.kind == "credit_note")
                .correlate(Document).scalar_subquery())
    status = case(
        (Document.kind != "invoice", Document.delivery_status),
        (credited > 0, literal("credited")),
        ((paid >= Document.total_minor) & (Document.total_minor > 0), literal("paid")),
        (paid > 0, literal("partially_paid")),
        else_=Document.delivery_status)
    return paid.label("paid_minor"), credited.label("credited_minor"), status.label("status")


def _query(session: Session, tenant_id: int, filters: RegisterFilter):
    tz = ZoneInfo(session.get(Tenant, tenant_id).timezone)
    paid, credited, status = _columns(tenant_id)
    q = select(Document, paid, credited, status).where(Document.tenant_id == tenant_id)
    if filters.kind in DOCUMENT_KINDS:
        q = q.where(Document.kind == filters.kind)
    if filters.number.strip():
        q = q.where(func.lower(Document.number).contains(filters.number.strip().lower(),
                                                         autoescape=True))
    if filters.date_from:
        q = q.where(Document.issued_at >= datetime.combine(filters.date_from, time(), tz))
    if filters.date_to:
        q = q.where(Document.issued_at < datetime.combine(filters.date_to + timedelta(days=1),
                                                          time(), tz))
    if filters.status in STATUSES:
        q = q.where(status == filters.status)
    return q.order_by(Document.issued_at.desc(), Document.id.desc())


@dataclass(frozen=True)
class RegisterRow:
    document: Document
    paid_minor: int
    credited_minor: int
    status: str


def page(session: Session, tenant_id: int, filters: RegisterFilter, number: int = 1
         ) -> tuple[list[RegisterRow], int]:
    q = _query(session, tenant_id, filters)
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
    rows = session.execute(q.limit(PER_PAGE).offset(paging.offset(number, PER_PAGE))).all()
    return [RegisterRow(d, int(p or 0), int(c or 0), s) for d, p, c, s in rows], int(total or 0)


HEADER = ["number", "kind", "issued_at", "status", "customer", "email", "booking_id", "currency",
          "total", "tax", "paid", "credited", "refers_to", "sha256"]


def export_csv(session: Session, tenant_id: int, filters: RegisterFilter) -> str:
    """The filtered register as CSV; amounts in major units with a dot (e.g. -12.50)."""
    q = _query(session, tenant_id, filters)
    numbers = dict(session.execute(select(Document.id, Document.number)
                                   .where(Document.tenant_id == tenant_id,
                                          Document.kind == "invoice")).all())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for doc, paid, credited, status in session.execute(q.limit(100_000)):
        amounts = [_amount(v, doc.currency) for v in (doc.total_minor, doc.tax_minor)]
        if doc.kind == "invoice":
            amounts += [_amount(int(paid or 0), doc.currency), _amount(int(credited or 0), doc.currency)]
        else:
            amounts += ["", ""]
        # Negative amounts start with "-", which the formula guard would quote: amounts are
        # ours and numeric, so they are written as they are.
        writer.writerow([safe_cell(doc.number), doc.kind, doc.issued_at.isoformat(), status,
                         safe_cell(doc.customer_name), safe_cell(doc.customer_email),
                         doc.booking_id, doc.currency, *amounts,
                         safe_cell(numbers.get(doc.invoice_id, "")), doc.pdf_sha256 or ""])
    return out.getvalue()


LIVE_STATES = {"credited": "credited", "paid": "paid", "partially_paid": "partly paid"}


def live_states(session: Session, tenant_id: int, booking_id: int) -> dict[int, str]:
    """Each of the booking's invoices' state now, in words, beside its immutable PDF: credited,
    paid, partly paid, or balance due (the register's derivation, for one booking)."""
    paid, credited, status = _columns(tenant_id)
    rows = session.execute(select(Document.id, status).where(
        Document.tenant_id == tenant_id, Document.booking_id == booking_id,
        Document.kind == "invoice"))
    return {doc_id: LIVE_STATES.get(state, "balance due") for doc_id, state in rows}
