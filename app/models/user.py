"""Tenant users (owners and staff). Couples never have accounts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime
from app.models.tenant import Tenant

ROLES = ("owner", "staff")
# How a user hears about bookings: an email per event, one digest a day, or not at all.
NOTIFY_CHOICES = ("each", "digest", "off")


def _default_notify(context) -> str:
    """Owners hear about every event unless they choose otherwise; staff opt in."""
    return "each" if context.get_current_parameters().get("role") == "owner" else "off"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('owner', 'staff')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    # Bumped to end every session of this user (password reset): the session id embeds it.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the owner proves the address (signup link); until then no payments are taken.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    notify: Mapped[str] = mapped_column(String(10), default=_default_notify, server_default="off")

    tenant: Mapped[Tenant] = relationship(lazy="joined")

    # Flask-Login protocol, kept here so the session layer needs no adapter class.
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


class UserSession(Base):
    """One login. The cookie holds a random key whose SHA-256 is `key_hash`; a session whose row
    is revoked (logout, password change, "log out everywhere") is anonymous at once, for every
    copy of its cookie."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after_created"),
        Index("ix_user_sessions_user_live", "user_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device: Mapped[str] = mapped_column(String(80), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
