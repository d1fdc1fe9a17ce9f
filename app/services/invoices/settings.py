"""A tenant's invoice settings: number pattern and tax, with defaults for tenants without a row."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import InvoiceSettings, Tenant
from app.services.invoices import tax
from app.services.shared import audit, clock, currencies
from app.services.shared.errors import ValidationFailed

PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,19}$")
TEXT_MAX = 2000


@dataclass(frozen=True)
class NumberingAndTax:
    invoice_prefix: str
    receipt_prefix: str
    credit_note_prefix: str
    include_year: bool
    yearly_reset: bool
    padding: int
    tax_rate_bp: int
    tax_inclusive: bool
    tax_label: str
    terms: str
    notes: str

    def prefix(self, kind: str) -> str:
        if kind == "terms":
            # Booking terms have their own gapless series beside the invoices'.
            return f"{self.invoice_prefix}-T"
        return {"invoice": self.invoice_prefix, "receipt": self.receipt_prefix,
                "credit_note": self.credit_note_prefix}[kind]

    def series(self, kind: str, year: int) -> str:
        """The counter a number is drawn from: a new series per year when numbers reset yearly."""
        return f"{self.prefix(kind)}-{year}" if self.yearly_reset else self.prefix(kind)

    def number(self, kind: str, year: int, seq: int) -> str:
        middle = f"-{year}" if self.include_year else ""
        return f"{self.prefix(kind)}{middle}-{seq:0{self.padding}d}"


def _default_prefix(tenant: Tenant) -> str:
    letters = re.sub(r"[^A-Z0-9]", "", tenant.slug.upper())[:12] or "INV"
    return letters


def current(session: Session, tenant_id: int) -> NumberingAndTax:
    row = session.scalar(select(InvoiceSettings).where(InvoiceSettings.tenant_id == tenant_id))
    if row is None:
        base = _default_prefix(session.get(Tenant, tenant_id))
        d = InvoiceSettings.DEFAULTS
        return NumberingAndTax(base, f"{base}-R", f"{base}-CN", d["include_year"], d["yearly_reset"],
                               d["padding"], d["tax_rate_bp"], d["tax_inclusive"], d["tax_label"],
                               d["terms"], d["notes"])
    return NumberingAndTax(row.invoice_prefix, row.receipt_prefix, row.credit_note_prefix,
                           row.include_year, row.yearly_reset, row.padding, row.tax_rate_bp,
                           row.tax_inclusive, row.tax_label, row.terms, row.notes)


def amount_owed(session: Session, tenant_id: int, price_minor: int, currency: str) -> int:
    """What a couple owes for goods priced at `price_minor`: the price itself when prices include
    tax, the price plus tax (rounded half-up on the subtotal) when they do not. Payment schedules
    split this, so they always collect exactly the invoice total."""
    settings = current(session, tenant_id)
    if settings.tax_inclusive or not settings.tax_rate_bp:
        return price_minor
    return tax.totals_for([tax.Line("", 1, price_minor)], settings.tax_rate_bp, False,
                          currencies.get(currency).step).total_minor


def save(session: Session, tenant_id: int, actor_user_id: int, wanted: NumberingAndTax) -> None:
    """Validate and store; affects documents issued from now on (issued ones never change)."""
    problems: dict[str, str] = {}
    prefixes = {"invoice_prefix": wanted.invoice_prefix, "receipt_prefix": wanted.receipt_prefix,
                "credit_note_prefix": wanted.credit_note_prefix}
    for name, value in prefixes.items():
        if not PREFIX.match(value or ""):
            problems[name] = "Use 1 to 20 letters, digits, dots, dashes or underscores."
    if len(set(prefixes.values())) < 3 and not problems:
        problems["receipt_prefix"] = "Invoices, receipts and credit notes need different prefixes."
    if not 1 <= wanted.padding <= 10:
        problems["padding"] = "Use 1 to 10 digits."
    if not 0 <= wanted.tax_rate_bp <= 10000:
        problems["tax_rate"] = "Use a rate between 0 and 100 %."
    if wanted.yearly_reset and not wanted.include_year:
        problems["yearly_reset"] = "Numbers that restart every year must show the year."
    if not (wanted.tax_label or "").strip() or len(wanted.tax_label) > 30:
        problems["tax_label"] = "Use 1 to 30 characters (e.g. VAT)."
    for name in ("terms", "notes"):
        if len(getattr(wanted, name) or "") > TEXT_MAX:
            problems[name] = f"Use at most {TEXT_MAX} characters."
    if problems:
        session.rollback()
        raise ValidationFailed(problems)
    row = session.scalar(select(InvoiceSettings).where(InvoiceSettings.tenant_id == tenant_id))
    if row is None:
        row = InvoiceSettings(tenant_id=tenant_id)
        session.add(row)
    for name in ("invoice_prefix", "receipt_prefix", "credit_note_prefix", "include_year",
                 "yearly_reset", "padding", "tax_rate_bp", "tax_inclusive"):
        setattr(row, name, getattr(wanted, name))
    row.tax_label = wanted.tax_label.strip()
    row.terms = (wanted.terms or "").strip()
    row.notes = (wanted.notes or "").strip()
    row.updated_at = clock.now()
    audit.record(session, tenant_id, "invoice_settings.updated", actor="user",
                 actor_user_id=actor_user_id, subject_type="tenant", subject_id=tenant_id)
    session.commit()
