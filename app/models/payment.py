"""Payments: the tenant's schedule settings, a booking's payment stages, the PaymentIntents we
created for them, recorded payments, and the Stripe events we received."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of

STAGE_STATUSES = ("due", "processing", "paid", "void")
PAYMENT_METHODS = ("card", "cash", "bank_transfer", "other")
EVENT_STATUSES = ("received", "processed", "failed", "ignored")



class PaymentSettings(Base):
    """How bookings are paid: a tenant-wide row (package_id NULL) and optional per-package rows
    that override it. Percentages are basis points (30 % = 3000)."""

    __tablename__ = "payment_settings"
    __table_args__ = (
        CheckConstraint("mode IN ('deposit', 'installments')", name="mode"),
        CheckConstraint("deposit_bp IS NULL OR (deposit_bp >= 0 AND deposit_bp <= 10000)",
                        name="deposit_bp_range"),
        CheckConstraint("deposit_fixed_minor IS NULL OR deposit_fixed_minor >= 0",
                        name="deposit_fixed_nonnegative"),
        CheckConstraint("balance_due_days >= 0", name="balance_due_days_nonnegative"),
        Index("uq_payment_settings_tenant_default", "tenant_id", unique=True,
              sqlite_where=text("package_id IS NULL"), postgresql_where=text("package_id IS NULL")),
        Index("uq_payment_settings_tenant_package", "tenant_id", "package_id", unique=True,
              sqlite_where=text("package_id IS NOT NULL"),
              postgresql_where=text("package_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"), nullable=True)
    mode: Mapped[str] = mapped_column(String(12))
    deposit_bp: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deposit_fixed_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance_due_days: Mapped[int] = mapped_column(Integer)
    # [{"share_bp": 3000, "anchor": "booking"|"event", "offset_days": 60}, ...], 2 to 4 entries
    installments: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentStage(Base):
    """One amount a booking owes, due on a date. A booking's stages sum to its total; a paid
    stage points at the payment that settled it. `intent_version` numbers the PaymentIntents
    created for the stage, and the idempotency key of each is derived from (stage id, version)."""

    __tablename__ = "payment_stages"
    __table_args__ = (
        UniqueConstraint("booking_id", "seq", name="uq_payment_stages_booking_seq"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint(one_of("status", STAGE_STATUSES), name="status"),
        CheckConstraint("kind IN ('deposit', 'balance', 'installment')", name="kind"),
        CheckConstraint("due_anchor IN ('booking', 'event')", name="due_anchor"),
        CheckConstraint("intent_version >= 0", name="intent_version_nonnegative"),
        CheckConstraint("(status = 'paid') = (payment_id IS NOT NULL)", name="paid_has_payment"),
        Index("ix_payment_stages_tenant_status_due", "tenant_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(80))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    due_anchor: Mapped[str] = mapped_column(String(8))
    due_offset_days: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="due")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    intent_version: Mapped[int] = mapped_column(Integer, default=0)
    # Set while one request creates or changes the stage's PaymentIntent; a second request waits
    # instead of calling Stripe too (a stale claim, from a crashed worker, is taken over).
    intent_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckoutIntent(Base):
    """A PaymentIntent we created, and which of our rows it pays. Events are matched to a
    tenant through this row, never through the metadata Stripe echoes back."""

    __tablename__ = "checkout_intents"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("payment_stages.id"), index=True)
    stripe_id: Mapped[str] = mapped_column(String(255), unique=True)
    # The connected account the intent lives on, copied from the tenant when it was created;
    # every later call about it goes there ("" = the platform, before Connect).
    stripe_account: Mapped[str] = mapped_column(String(255), default="", server_default="")
    version: Mapped[int] = mapped_column(Integer)
    # Bumped on each update of the amount, so each update has its own idempotency key.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stage_ids: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    """Money received for a booking, by card (Stripe) or offline. A PaymentIntent is recorded at
    most once: the UNIQUE stripe_payment_intent_id is what makes the webhook and the return page
    safe to race."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= amount_minor",
                        name="refunded_within_amount"),
        CheckConstraint(one_of("method", PAYMENT_METHODS), name="method"),
        CheckConstraint("(method = 'card') = (stripe_payment_intent_id IS NOT NULL)",
                        name="card_has_intent"),
        CheckConstraint("refund_pending_minor >= 0 AND "
                        "refunded_minor + refund_pending_minor <= amount_minor",
                        name="refund_reserved_within_amount"),
        CheckConstraint("application_fee_minor >= 0 AND application_fee_minor <= amount_minor",
                        name="application_fee_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Held by refund parts still on their way (pending/processing at our end or Stripe's).
    refund_pending_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True,
                                                                 nullable=True)
    stripe_charge_id: Mapped[str] = mapped_column(String(255), default="")
    # Where the charge lives (refunds and disputes are made there) and the platform's fee on it.
    stripe_account: Mapped[str] = mapped_column(String(255), default="", server_default="")
    application_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StripeEvent(Base):
    """A webhook event, stored by its Stripe id before anything acts on it. `tenant_id` is what
    the event's metadata claims (NULL when it names no known tenant); processing still resolves
    the tenant through our own rows."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        CheckConstraint(one_of("status", EVENT_STATUSES), name="status"),
        Index("ix_stripe_events_status_next", "status", "next_attempt_at"),
        Index("ix_stripe_events_tenant_received", "tenant_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), nullable=True)
    object_id: Mapped[str] = mapped_column(String(255), default="")
    # The connected account a Connect event came from ("" for the platform's own events).
    account: Mapped[str] = mapped_column(String(255), default="", server_default="")
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
