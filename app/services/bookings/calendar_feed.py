"""The owner's private calendar feed (iCal), for Google Calendar or Apple Calendar to subscribe.

The link carries a 32-byte secret; only its SHA-256 is stored, so the link is shown once, when
it is made. A new link replaces the old one, and revoking deletes it: the old URL then answers
404 like any unknown one. The feed lists the tenant's live bookings from a year ago on.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import Booking, CalendarFeed, Tenant
from app.services.bookings import availability, ics
from app.services.bookings.lifecycle import LABELS, LIVE
from app.services.shared import audit, clock
from app.services.shared.errors import NotFound
from app.services.shared.tokens import hash_token

HISTORY = timedelta(days=365)


def current(session: Session, tenant_id: int) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(CalendarFeed.tenant_id == tenant_id))


def create_link(session: Session, tenant_id: int, *, actor_user_id: int) -> str:
    """A new secret for the feed (the previous one stops working); the raw value, once; commits."""
    raw = secrets.token_urlsafe(32)
    session.execute(delete(CalendarFeed).where(CalendarFeed.tenant_id == tenant_id))
    session.add(CalendarFeed(tenant_id=tenant_id, token_hash=hash_token(raw),
                             created_by_user_id=actor_user_id, created_at=clock.now()))
    audit.record(session, tenant_id, "calendar_feed.created", actor="user", actor_user_id=actor_user_id)
    session.commit()
    return raw


def revoke(session: Session, tenant_id: int, *, actor_user_id: int) -> None:
    """The feed's link stops working at once; commits."""
    session.execute(delete(CalendarFeed).where(CalendarFeed.tenant_id == tenant_id))
    audit.record(session, tenant_id, "calendar_feed.revoked", actor="user", actor_user_id=actor_user_id)
    session.commit()


def feed(session: Session, raw_token: str) -> bytes:
    """The calendar of the tenant the secret belongs to; NotFound for an unknown or revoked one."""
    if not raw_token or len(raw_token) > 64 or not raw_token.isascii():
        raise NotFound()
    row = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(raw_token)))
    if row is None:
        raise NotFound()
    tenant = session.get(Tenant, row.tenant_id)
    since = availability.local_today(session, tenant.id) - HISTORY
    bookings = list(session.scalars(
        select(Booking).where(Booking.tenant_id == tenant.id, Booking.status.in_(LIVE),
                              Booking.event_date >= since)
        .order_by(Booking.event_date, Booking.id)))
    return ics.vendor_feed(bookings, tenant, LABELS, stamp=clock.now())
