"""Tell the vendor's team about an event, in the transaction that records it.

Invariants: each event reaches each listening user once (an email whose dedupe key is the
event's key and the user's id, or a digest notice under the same unique key); a digest is one
email per user per local day, queued in the transaction that marks its notices as sent.
"""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Booking, OutboundEmail, Tenant, User, VendorNotice
from app.services.bookings import emails as booking_emails
from app.services.email import outbox as email
from app.services.notifications.recipients import listening
from app.services.shared import clock
from app.services.shared.errors import ValidationFailed

DIGEST_AT = time(7, 0)  # local time from which the day's digest of yesterday's news goes out
GENERIC_KIND = "vendor_notice"


def notify_team(session: Session, tenant_id: int, *, event_key: str, sentence: str,
                booking: Booking | None = None, kind: str = GENERIC_KIND, subject: str = "",
                context: dict | None = None, login_url: str = "") -> None:
    """Queue the event's email for each user who wants one, and a digest notice for each who
    reads a digest (caller's transaction, no commit). `kind` names a dedicated template (refund
    failed, dispute); otherwise the generic notice prints `sentence`. Replies reach the couple."""
    tenant = session.get(Tenant, tenant_id)
    values = {"sentence": sentence, "booking": booking, "login_url": login_url,
              **(booking_emails.describe(booking, tenant) if booking is not None else {}),
              **(context or {})}
    for user in listening(session, tenant_id):
        key = f"{event_key}-u{user.id}"
        if user.notify == "digest":
            _add_notice(session, tenant_id, user, key, kind, sentence, booking)
            continue
        email.queue_email(session, tenant_id, to=user.email, kind=kind,
                          subject=subject or sentence, context=values, dedupe_key=key,
                          reply_to=booking.email if booking is not None else "")


def _add_notice(session: Session, tenant_id: int, user: User, key: str, kind: str, sentence: str,
                booking: Booking | None) -> None:
    if session.scalar(select(VendorNotice.id).where(VendorNotice.dedupe_key == key)) is not None:
        return
    session.add(VendorNotice(tenant_id=tenant_id, user_id=user.id, dedupe_key=key, kind=kind,
                             sentence=sentence[:500], created_at=clock.now(),
                             booking_id=booking.id if booking is not None else None))
    session.flush()


def set_preference(session: Session, tenant_id: int, user_id: int, choice: str) -> None:
    """A user's own choice (each, digest, off); commits."""
    if choice not in ("each", "digest", "off"):
        raise ValidationFailed({"notify": "Choose one of the options shown."})
    session.execute(update(User).where(User.tenant_id == tenant_id, User.id == user_id)
                    .values(notify=choice))
    session.commit()


def send_digests(session: Session, login_url: str = "", now: datetime | None = None) -> int:
    """Queue one digest per user with notices waiting, once their local day has reached
    DIGEST_AT; commits each. Safe to run anywhere, any number of times: the digest's dedupe key
    is the user and local date, and notices are marked in the digest's transaction."""
    now = now or clock.now()
    user_ids = list(session.scalars(select(VendorNotice.user_id)
                                    .where(VendorNotice.digest_key.is_(None)).distinct()))
    session.commit()
    queued = 0
    for user_id in user_ids:
        user = session.get(User, user_id)
        tenant = session.get(Tenant, user.tenant_id)
        local = now.astimezone(ZoneInfo(tenant.timezone))
        if local.time() < DIGEST_AT:
            continue
        key = f"digest-u{user.id}-{local.date().isoformat()}"
        if session.scalar(select(OutboundEmail.id).where(OutboundEmail.dedupe_key == key)):
            continue
        query = (select(VendorNotice).where(VendorNotice.user_id == user.id,
                                            VendorNotice.digest_key.is_(None))
                 .order_by(VendorNotice.created_at, VendorNotice.id))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        notices = list(session.scalars(query))
        if not notices:
            session.rollback()
            continue
        try:
            email.queue_email(
                session, tenant.id, to=user.email, kind="vendor_digest",
                subject=f"{tenant.name}: {len(notices)} update{'s' if len(notices) != 1 else ''} "
                        f"since your last digest",
                context={"notices": [n.sentence for n in notices], "login_url": login_url},
                dedupe_key=key)
            for notice in notices:
                notice.digest_key = key
            session.commit()
            queued += 1
        except IntegrityError:
            session.rollback()  # another worker queued this digest first
    return queued
