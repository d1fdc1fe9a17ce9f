"""Reminder rules (per tenant) and reminder rows (per booking occurrence), the seed's ReminderLog."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of

REMINDER_KINDS = ("before_event", "after_event", "balance_due", "past_due")
# Kinds about one payment stage: a row per open stage, canceled once the stage is settled.
STAGE_KINDS = ("balance_due", "past_due")
REMINDER_STATUSES = ("scheduled", "sending", "sent", "failed", "canceled", "skipped")



class ReminderRule(Base):
    """"Send <kind> <offset_days> days before/after, at <send_time> local time"."""

    __tablename__ = "reminder_rules"
    __table_args__ = (
        CheckConstraint(one_of("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint("offset_days >= 0 AND offset_days <= 365", name="offset_range"),
        UniqueConstraint("tenant_id", "kind", "offset_days", "send_time", name="uq_reminder_rules_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    offset_days: Mapped[int] = mapped_column(Integer)
    send_time: Mapped[time] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(Base):
    """One reminder for one booking (and, for balance and past-due reminders, one payment stage).

    The local wall time and the timezone are kept beside `due_at` (UTC) so a change of rules or
    timezone can be recomputed and the log shows what the tenant asked for. `key` names the
    occurrence ("<rule id>:<stage id or 0>") so recomputing updates rows instead of adding them.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(one_of("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint(one_of("status", REMINDER_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        UniqueConstraint("booking_id", "key", name="uq_reminders_booking_key"),
        Index("ix_reminders_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_reminders_tenant_due", "tenant_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rules.id"))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("payment_stages.id"), nullable=True)
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    local_date: Mapped[date] = mapped_column(Date)
    local_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Past this instant the reminder no longer makes sense (a before-event one once the event
    # has started) and is skipped instead of sent late.
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    skip_reason: Mapped[str] = mapped_column(String(200), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    email_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_emails.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
