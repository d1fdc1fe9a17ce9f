"""Vendor notices waiting for a user's daily digest."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class VendorNotice(Base):
    """One event for one user who reads them as a digest; `digest_key` is set, in the
    transaction that queues the digest email, once the notice is in one."""

    __tablename__ = "vendor_notices"
    __table_args__ = (Index("ix_vendor_notices_user_pending", "user_id", "digest_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    # The event's key (e.g. "payment_received-p12"); one notice per event and user.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    sentence: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    digest_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
