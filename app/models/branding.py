"""How a tenant looks to couples (accent colour, a short public description, a logo and a cover
photo), and the private calendar feed its owner subscribes to. Tables of their own, one row per
tenant, so the tenant row stays what identifies the business."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, one_of

IMAGE_KINDS = ("logo", "cover")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")


class TenantBranding(Base):
    __tablename__ = "tenant_branding"
    __table_args__ = (CheckConstraint("accent_color = '' OR length(accent_color) = 7", name="accent_color"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    accent_color: Mapped[str] = mapped_column(String(7), default="")  # "#7a3e9d", "" = ours
    public_description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TenantImage(Base):
    """An uploaded image, checked and stored in the database (every web host serves it); its
    SHA-256 names the URL, so browsers may cache it for a year."""

    __tablename__ = "tenant_images"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", name="uq_tenant_images_tenant_kind"),
        CheckConstraint(one_of("kind", IMAGE_KINDS), name="kind"),
        CheckConstraint(one_of("content_type", IMAGE_TYPES), name="content_type"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(20))
    # Loaded when read (serving the image, emails, PDFs), not with every page's branding.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarFeed(Base):
    """The owner's private iCal feed: only the SHA-256 of its secret is stored; deleting the row
    revokes it, and a new link replaces the old one."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
