"""Bookings, their add-ons, the per-date slots they occupy, and the tenant's availability rules."""
from __future__ import annotations

from datetime import date, datetime, time

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
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime

BOOKING_STATUSES = ("pending_deposit", "confirmed", "paid_in_full", "completed", "canceled", "expired",
                    "partially_refunded", "refunded")
_STATUS_SQL = ", ".join(f"'{s}'" for s in BOOKING_STATUSES)


class Booking(Base):
    """A couple's booking. Prices are copied from the catalog when booked, so later catalog edits
    never change what was agreed; `status` changes only through `app.services.bookings.lifecycle`."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="status"),
        CheckConstraint("package_price_minor >= 0", name="package_price_nonnegative"),
        CheckConstraint("total_minor >= 0", name="total_nonnegative"),
        Index("ix_bookings_tenant_event_date", "tenant_id", "event_date"),
        Index("ix_bookings_tenant_status", "tenant_id", "status"),
        Index("ix_bookings_tenant_created", "tenant_id", "created_at"),
        Index("ix_bookings_hold_expiry", "status", "hold_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"))
    package_title: Mapped[str] = mapped_column(String(120))
    package_price_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    couple_names: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    event_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time, nullable=True)
    venue: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="public")
    # Until this instant an unpaid booking holds its date; the sweeper expires it afterwards.
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # RFC 5545 SEQUENCE of the calendar invitation: bumped on every reschedule and cancel.
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The tenant's cancellation policy when the booking was made (refunds.py reads it on cancel).
    cancellation_policy: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    add_ons: Mapped[list[BookingAddOn]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingAddOn.id"
    )


class BookingAddOn(Base):
    __tablename__ = "booking_add_ons"
    __table_args__ = (CheckConstraint("price_minor >= 0", name="price_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    add_on_id: Mapped[int] = mapped_column(ForeignKey("add_ons.id"))
    title: Mapped[str] = mapped_column(String(120))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    booking: Mapped[Booking] = relationship(back_populates="add_ons")


class DateSlot(Base):
    """One occupied unit of a date's capacity. The UNIQUE (tenant, date, slot) constraint is what
    makes holding a date race-safe: two transactions cannot both insert the last free slot."""

    __tablename__ = "date_slots"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_date", "slot_no", name="uq_date_slots_tenant_date_slot"),
        CheckConstraint("slot_no >= 1", name="slot_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    event_date: Mapped[date] = mapped_column(Date)
    slot_no: Mapped[int] = mapped_column(Integer)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)


class AvailabilitySettings(Base):
    """A tenant's booking rules; a tenant without a row uses the defaults below."""

    __tablename__ = "availability_settings"
    __table_args__ = (
        CheckConstraint("capacity_per_day >= 1", name="capacity_positive"),
        CheckConstraint("min_notice_days >= 0", name="notice_nonnegative"),
        CheckConstraint("horizon_days >= 1", name="horizon_positive"),
        CheckConstraint("hold_minutes >= 1", name="hold_positive"),
        CheckConstraint("reschedule_cutoff_days >= 0", name="cutoff_nonnegative"),
    )

    DEFAULTS = {"capacity_per_day": 1, "min_notice_days": 1, "horizon_days": 730, "hold_minutes": 30,
                "reschedule_cutoff_days": 14}

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    capacity_per_day: Mapped[int] = mapped_column(Integer, default=1)
    min_notice_days: Mapped[int] = mapped_column(Integer, default=1)
    horizon_days: Mapped[int] = mapped_column(Integer, default=730)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=30)
    reschedule_cutoff_days: Mapped[int] = mapped_column(Integer, default=14)


class BlackoutDate(Base):
    __tablename__ = "blackout_dates"
    __table_args__ = (UniqueConstraint("tenant_id", "day", name="uq_blackout_dates_tenant_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(120), default="")
