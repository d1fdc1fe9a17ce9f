"""Tenant: a vendor business, the owner of every other row."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(16), default="en_US")
    address: Mapped[str] = mapped_column(Text, default="")
    tax_id: Mapped[str] = mapped_column(String(64), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Stripe Connect: the tenant's own Stripe account (direct charges are made on it) and the
    # last status Stripe reported for it (account.updated keeps it current).
    stripe_account_id: Mapped[str | None] = mapped_column(String(255), unique=True,
                                                          nullable=True)
    stripe_charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False,
                                                         server_default="0")
    stripe_payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False,
                                                         server_default="0")
    stripe_details_submitted: Mapped[bool] = mapped_column(Boolean, default=False,
                                                           server_default="0")
    stripe_requirements: Mapped[list] = mapped_column(JSON, default=list)
    stripe_disabled_reason: Mapped[str] = mapped_column(String(100), default="",
                                                        server_default="")
    stripe_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the vendor disconnected MAIS from its Stripe account (the id is kept).
    stripe_disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def can_take_charges(self) -> bool:
        """A card payment can be made to this tenant right now."""
        return bool(self.stripe_account_id) and self.stripe_charges_enabled \
            and self.stripe_disconnected_at is None
