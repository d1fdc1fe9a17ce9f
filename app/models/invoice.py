"""Invoices, receipts and credit notes ("documents"), their per-tenant number counters, and the
tenant's invoice settings. A document is written once: its snapshot and PDF never change; only
its delivery timestamps (sent, viewed) do."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.models.base import Base, UTCDateTime

DOCUMENT_KINDS = ("invoice", "receipt", "credit_note", "terms")
DELIVERY_STATUSES = ("issued", "sent", "viewed")


class InvoiceSettings(Base):
    """How a tenant numbers and taxes its documents; a tenant without a row uses DEFAULTS (with
    its slug, upper-cased, as the invoice prefix). Tax rate in basis points (20 % = 2000)."""

    __tablename__ = "invoice_settings"
    __table_args__ = (
        CheckConstraint("padding >= 1 AND padding <= 10", name="padding_range"),
        CheckConstraint("tax_rate_bp >= 0 AND tax_rate_bp <= 10000", name="tax_rate_range"),
        CheckConstraint("NOT yearly_reset OR include_year", name="reset_needs_year"),
    )

    DEFAULTS = {"include_year": True, "yearly_reset": True, "padding": 4, "tax_rate_bp": 0,
                "tax_inclusive": True, "tax_label": "Tax", "terms": "", "notes": "",
                "due_days": 14}

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    invoice_prefix: Mapped[str] = mapped_column(String(20))
    receipt_prefix: Mapped[str] = mapped_column(String(20))
    credit_note_prefix: Mapped[str] = mapped_column(String(20))
    include_year: Mapped[bool] = mapped_column(Boolean, default=True)
    yearly_reset: Mapped[bool] = mapped_column(Boolean, default=True)
    padding: Mapped[int] = mapped_column(Integer, default=4)
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, default=True)
    tax_label: Mapped[str] = mapped_column(String(30), default="Tax")
    terms: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DocumentCounter(Base):
    """The last number issued in one series (tenant, kind, series). Incremented by an UPDATE in
    the issuing transaction, so the row lock (PostgreSQL) or the write lock (SQLite) orders
    issuers, and a rolled-back issue rolls the number back too: no gaps, no duplicates."""

    __tablename__ = "document_counters"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "series", name="uq_document_counters_series"),
        CheckConstraint("last_number >= 1", name="last_number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    series: Mapped[str] = mapped_column(String(40))
    last_number: Mapped[int] = mapped_column(Integer)


class Document(Base):
    """An issued invoice, receipt, credit note or booking terms (what the couple accepted when
    booking). `source_key` names what caused it (booking-<id>, payment-<id>, refund-<key>,
    terms-<booking id>): UNIQUE per tenant, so a retried task or a double
    click never issues twice. Amounts are negative on credit notes."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "number", name="uq_documents_tenant_kind_number"),
        UniqueConstraint("tenant_id", "source_key", name="uq_documents_tenant_source"),
        CheckConstraint("kind IN ('invoice', 'receipt', 'credit_note', 'terms')", name="kind"),
        CheckConstraint("delivery_status IN ('issued', 'sent', 'viewed')", name="delivery_status"),
        CheckConstraint("(kind = 'credit_note') = (total_minor < 0) OR total_minor = 0",
                        name="credit_note_negative"),
        CheckConstraint("pdf_sha256 IS NULL OR length(pdf_sha256) = 64", name="sha256_hex"),
        Index("ix_documents_tenant_issued", "tenant_id", "issued_at"),
        Index("ix_documents_tenant_booking", "tenant_id", "booking_id"),
        Index("ix_documents_pending_pdf", "pdf_sha256", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    number: Mapped[str] = mapped_column(String(60))
    series: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    source_key: Mapped[str] = mapped_column(String(80))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), nullable=True)
    # The invoice a receipt or credit note refers to (NULL if the booking has none).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True,
                                                   index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str] = mapped_column(String(254))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    snapshot: Mapped[dict] = mapped_column(JSON)
    # Rendered once from the snapshot (by the task, or by the first download if the task was
    # lost) and never again.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    delivery_status: Mapped[str] = mapped_column(String(10), default="issued")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    issued_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
