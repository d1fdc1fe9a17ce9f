"""Server-side login sessions: a row per login, so a session can really end.

The cookie carries a random key (32 bytes); only its SHA-256 is stored, like action tokens. A
request is logged in only while its row is live: logout, a password change or reset and "log
out everywhere" revoke rows, and every copy of a revoked cookie is anonymous on its next
request. Sessions also end after IDLE without use and LIFETIME after login.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.models import User, UserSession
from app.services.shared import clock, revisions
from app.services.shared.errors import NotFound

IDLE = timedelta(days=14)
LIFETIME = timedelta(days=30)
# last_seen_at is written at most this often: a write per request would queue SQLite writers.
TOUCH_EVERY = timedelta(minutes=5)
_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Every signed-in request runs this: one statement, built once, for the session row, its user
# (whose tenant is loaded with it: the dashboard then finds it in the identity map) and the
# tenant's page revisions (app/services/shared/revisions.py).
_LIVE_SESSION = revisions.with_tenant(
    select(UserSession, User).join(User, User.id == UserSession.user_id)
    .where(UserSession.key_hash == bindparam("key_hash"), UserSession.revoked_at.is_(None)), User.tenant_id)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def describe_device(user_agent: str) -> str:
    """"Firefox on Windows" from a User-Agent header; enough to recognise one's own devices."""
    ua = user_agent or ""
    browser = next((name for token, name in (
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"), ("Safari/", "Safari")) if token in ua), "A browser")
    system = next((name for token, name in (
        ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
        ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")) if token in ua), "")
    return f"{browser} on {system}" if system else browser


def start(session: Session, user: User, *, user_agent: str = "", ip_address: str = "") -> str:
    """Open a session for `user` (commits); returns the raw key for the cookie, sent once."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(UserSession(tenant_id=user.tenant_id, user_id=user.id, key_hash=_hash(raw),
                            device=describe_device(user_agent)[:80],
                            ip_address=(ip_address or "")[:45], created_at=now, last_seen_at=now))
    user.last_login_at = now
    session.commit()
    return raw


def resolve(session: Session, login_id: str, raw: str | None) -> User | None:
    """The user of a live session: Flask-Login's id "<user id>:<version>" and the cookie's key
    must both match a session row that is not revoked, idle or too old; else None."""
    user_id, _, version = (login_id or "").partition(":")
    if not (user_id.isdigit() and version.isdigit() and len(user_id) < 10 and len(version) < 10):
        return None
    if not isinstance(raw, str) or not _KEY_SHAPE.match(raw):
        return None
    found = session.execute(_LIVE_SESSION, {"key_hash": _hash(raw)}).first()
    now = clock.now()
    if found is None:
        return None
    row, user, mine, everyone = found
    revisions.remember(session, user.tenant_id, mine, everyone)
    if (row.user_id != int(user_id) or row.last_seen_at < now - IDLE or row.created_at < now - LIFETIME
            or user.session_version != int(version)):
        return None
    if row.last_seen_at < now - TOUCH_EVERY:
        # End the read first, then write in a transaction of its own whose first statement is
        # the UPDATE: on SQLite a page view reads without the write lock (app/sqlite.py), and
        # upgrading a read that another writer overtook would fail instead of waiting.
        session.commit()
        session.execute(update(UserSession)
                        .where(UserSession.id == row.id, UserSession.last_seen_at < now - TOUCH_EVERY)
                        .values(last_seen_at=now).execution_options(synchronize_session=False))
        session.commit()
        user = session.get(User, int(user_id))
    return user


def end(session: Session, raw: str | None) -> None:
    """Revoke the session with this cookie key (logout); commits."""
    if isinstance(raw, str) and _KEY_SHAPE.match(raw):
        session.execute(update(UserSession)
                        .where(UserSession.key_hash == _hash(raw), UserSession.revoked_at.is_(None))
                        .values(revoked_at=clock.now()).execution_options(synchronize_session=False))
    session.commit()


def revoke_all(session: Session, user_id: int, *, keep_raw: str | None = None) -> int:
    """Revoke every live session of a user except the one with `keep_raw`, in the caller's
    transaction (no commit), so a password change and its revocations commit together."""
    query = update(UserSession).where(UserSession.user_id == user_id,
                                      UserSession.revoked_at.is_(None))
    if keep_raw:
        query = query.where(UserSession.key_hash != _hash(keep_raw))
    return session.execute(query.values(revoked_at=clock.now())
                           .execution_options(synchronize_session=False)).rowcount


def end_one(session: Session, tenant_id: int, user_id: int, session_id: int) -> None:
    """A user ends one of their own sessions (another device); someone else's is NotFound."""
    changed = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user_id,
               UserSession.tenant_id == tenant_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now()).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        raise NotFound()
    session.commit()


def end_others(session: Session, user_id: int, keep_raw: str | None) -> int:
    """"Log out everywhere else": every session of the user but this one; commits."""
    count = revoke_all(session, user_id, keep_raw=keep_raw)
    session.commit()
    return count


def active(session: Session, user_id: int, current_raw: str | None) -> list[tuple[UserSession, bool]]:
    """The user's live sessions, most recently seen first, each with "is this one"."""
    now = clock.now()
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None),
               UserSession.last_seen_at >= now - IDLE, UserSession.created_at >= now - LIFETIME)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()
    current = _hash(current_raw) if isinstance(current_raw, str) and current_raw else None
    return [(row, row.key_hash == current) for row in rows]
