"""Refunds: the tenant's cancellation policy, refund requests and their parts (one per payment).

A request is split into parts, one per card payment it returns money from. A part is the unit
of work sent to Stripe: its idempotency key is derived from its id, and the amount it reserves
is held in `payments.refund_pending_minor` until it succeeds (moved to `refunded_minor`) or
fails (given back). CHECK constraints on `payments` keep refunded + pending <= captured.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

# "booking_canceled": money that reached Stripe after the booking was canceled, refunded in full
# by the system (app.services.refunds.after_cancellation).
REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent", "cancellation", "booking_canceled")
REQUEST_STATUSES = ("pending", "processing", "succeeded", "failed", "canceled")
PART_STATUSES = ("pending", "processing", "succeeded", "failed", "canceled")
REQUESTERS = ("user", "couple", "system")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CancellationPolicy(Base):
    """What a couple gets back when they cancel: whether the deposit is refundable, and tiers of
    refund percentage (basis points) by days before the event, e.g.
    [{"min_days": 90, "percent_bp": 10000}, {"min_days": 30, "percent_bp": 5000}] (else 0 %).
    A tenant without a row has `app.services.refunds.policy.DEFAULT`."""

    __tablename__ = "cancellation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    deposit_refundable: Mapped[bool] = mapped_column(Boolean, default=False)
    tiers: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RefundRequest(Base):
    """Money a tenant (or a couple's cancellation) asked to return; its status follows its parts."""

    __tablename__ = "refund_requests"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
        CheckConstraint(_in("reason", REFUND_REASONS), name="reason"),
        CheckConstraint(_in("requested_by", REQUESTERS), name="requested_by"),
        Index("ix_refund_requests_tenant_booking", "tenant_id", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(8))
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RefundPart(Base):
    """The share of a request taken from one payment: one Stripe refund, created with the
    idempotency key `refund-part-<id>`. `stripe_refund_id` is set once Stripe answered."""

    __tablename__ = "refund_parts"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint(_in("status", PART_STATUSES), name="status"),
        Index("ix_refund_parts_status_next", "status", "next_attempt_at"),
        Index("ix_refund_parts_tenant_booking", "tenant_id", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("refund_requests.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    # A part retried after Stripe failed its refund: the new part (new key) names the old one.
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("refund_parts.id"), nullable=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    stripe_status: Mapped[str] = mapped_column(String(40), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
