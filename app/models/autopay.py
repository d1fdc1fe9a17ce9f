"""Autopay: a couple's consent and saved card for a booking (mandate), the automatic charge
planned for each of its open payment stages, the tenant's autopay settings, and the Stripe
Customer of a couple on a tenant's connected account."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of

MANDATE_STATUSES = ("pending", "active", "off")
# scheduled: waits for next_attempt_at; charging: claimed, a call to Stripe may be under way;
# retrying: declined, next try at next_attempt_at; needs_action: the bank wants the couple
# (authentication); failed: the last try was declined; paid, processing: done or settling;
# off: autopay was switched off or the stage was paid another way.
CHARGE_STATUSES = ("scheduled", "charging", "retrying", "needs_action", "failed", "processing",
                   "paid", "off")


class AutopaySettings(Base):
    """Whether couples are offered autopay, and the days between retries of a declined charge
    ("1,3,5": retry 1 day after the first try, then 3 days after that, then 5)."""

    __tablename__ = "autopay_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    offered: Mapped[bool] = mapped_column(Boolean, default=True)
    retry_days: Mapped[str] = mapped_column(String(40), default="1,3,5")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StripeCustomer(Base):
    """The Customer object of one couple (by email) on one tenant's connected account."""

    __tablename__ = "stripe_customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "stripe_account", "email", name="uq_stripe_customers_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    stripe_account: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254))
    customer_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AutopayMandate(Base):
    """A booking's autopay: the consent sentence the couple agreed to (kept verbatim), the
    card saved for off-session charges and whether it is on. `pending` until the payment that
    saves the card (`intent_id`) succeeds."""

    __tablename__ = "autopay_mandates"
    __table_args__ = (CheckConstraint(one_of("status", MANDATE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    stripe_account: Mapped[str] = mapped_column(String(255), default="")
    customer_id: Mapped[str] = mapped_column(String(255), default="")
    intent_id: Mapped[str] = mapped_column(String(255), default="")
    payment_method_id: Mapped[str] = mapped_column(String(255), default="")
    card_brand: Mapped[str] = mapped_column(String(20), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    card_exp_month: Mapped[int] = mapped_column(Integer, default=0)
    card_exp_year: Mapped[int] = mapped_column(Integer, default=0)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    switched_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    switched_off_by: Mapped[str] = mapped_column(String(10), default="")
    # The card whose coming expiry the couple was last told about (one email per card).
    expiry_notice_for: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AutopayCharge(Base):
    """The automatic charge of one payment stage. `attempts` numbers the tries; the
    idempotency key of try n is `stage-<id>-autopay-<n>`, so a try retaken after a crash
    replays Stripe's answer instead of charging again."""

    __tablename__ = "autopay_charges"
    __table_args__ = (
        CheckConstraint(one_of("status", CHARGE_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        Index("ix_autopay_charges_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("payment_stages.id"), unique=True)
    status: Mapped[str] = mapped_column(String(14))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    intent_id: Mapped[str] = mapped_column(String(255), default="")
    failure_code: Mapped[str] = mapped_column(String(60), default="")
    failure_message: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
