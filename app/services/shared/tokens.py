"""Single-use action tokens (DESIGN.md "Tokens and links").

The raw token (32 random bytes) leaves this module once, in the return value of `issue`; only
its SHA-256 is stored. Looking a token up never consumes it; `consume` is one guarded UPDATE, so
two concurrent POSTs cannot both succeed.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from app.models import ActionToken
from app.services.shared import clock
from app.services.shared.errors import InvalidLink

TTL = {
    "password_reset": timedelta(hours=1),
    "staff_invite": timedelta(days=7),
    "email_verify": timedelta(days=2),
    "booking_manage": timedelta(days=7),
    "booking_reschedule": timedelta(days=7),
    "booking_cancel": timedelta(days=7),
}
USED_RETENTION = timedelta(days=7)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def issue(
    session: Session,
    tenant_id: int,
    purpose: str,
    subject_id: int | None,
    payload: dict | None = None,
) -> str:
    """Store a new token for (tenant, purpose, subject) and return the raw value to send."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        ActionToken(
            tenant_id=tenant_id,
            purpose=purpose,
            subject_id=subject_id,
            token_hash=hash_token(raw),
            payload=payload or {},
            expires_at=now + TTL[purpose],
            created_at=now,
        )
    )
    return raw


def _valid_clause(purpose: str, raw: str, tenant_id: int | None, now: datetime):
    return _live_conditions(hash_token(raw), ActionToken.purpose == purpose, tenant_id, now)


def _live_conditions(token_hash, purpose_condition, tenant_id, now) -> list:
    """What makes a token live: its hash, its purpose, unused, unexpired (and of the tenant).
    Values or bind parameters (a statement built once)."""
    clauses = [
        ActionToken.token_hash == token_hash,
        purpose_condition,
        ActionToken.used_at.is_(None),
        ActionToken.expires_at > now,
    ]
    if tenant_id is not None:
        clauses.append(ActionToken.tenant_id == tenant_id)
    return clauses


def _check_shape(raw: str) -> None:
    if not isinstance(raw, str) or not _TOKEN_SHAPE.match(raw):
        raise InvalidLink()


def peek(session: Session, purpose: str, raw: str, tenant_id: int | None = None) -> ActionToken:
    """The live token for this purpose (and tenant), without consuming it; else InvalidLink."""
    _check_shape(raw)
    token = session.scalars(
        select(ActionToken).where(*_valid_clause(purpose, raw, tenant_id, clock.now()))
    ).first()
    if token is None:
        raise InvalidLink()
    return token


@cache
def _live_of_tenant(subject: type) -> Select:
    """The portal asks this on every page view (a stored page included): built once per subject."""
    return (select(ActionToken, subject)
            .outerjoin(subject, (subject.id == ActionToken.subject_id) & (subject.tenant_id == ActionToken.tenant_id))
            .where(*_live_conditions(bindparam("token_hash"),
                                     ActionToken.purpose.in_(bindparam("purposes", expanding=True)),
                                     bindparam("tenant_id"), bindparam("now"))))


def peek_first(session: Session, purposes: tuple[str, ...], raw: str, tenant_id: int,
               subject: type) -> tuple[ActionToken, object | None]:
    """`peek` of the first of `purposes` (in that order) with a live token of this tenant, and
    its `subject` row of the same tenant (a model class; None if there is none), in one query;
    else InvalidLink."""
    _check_shape(raw)
    found = {token.purpose: (token, row) for token, row in session.execute(_live_of_tenant(subject), {
        "token_hash": hash_token(raw), "purposes": list(purposes), "now": clock.now(), "tenant_id": tenant_id})}
    for purpose in purposes:
        if purpose in found:
            return found[purpose]
    raise InvalidLink()


def live_tenant(session: Session, raw: str) -> int | None:
    """The tenant of a live token with this value, whatever its purpose (None: no such token).
    Lets a page tell "a link of another business" (not found here) from "expired"."""
    try:
        _check_shape(raw)
    except InvalidLink:
        return None
    return session.scalar(select(ActionToken.tenant_id).where(
        ActionToken.token_hash == hash_token(raw), ActionToken.used_at.is_(None),
        ActionToken.expires_at > clock.now()).limit(1))


def consume(session: Session, purpose: str, raw: str, tenant_id: int | None = None) -> ActionToken:
    """Mark the token used in the caller's transaction; exactly one concurrent caller wins."""
    _check_shape(raw)
    now = clock.now()
    result = session.execute(
        update(ActionToken)
        .where(*_valid_clause(purpose, raw, tenant_id, now))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidLink()
    return session.scalars(select(ActionToken).where(ActionToken.token_hash == hash_token(raw))).one()


def revoke(session: Session, tenant_id: int, purposes: tuple[str, ...], subject_id: int) -> int:
    """End every live token of these purposes for one subject (e.g. after a reschedule)."""
    now = clock.now()
    result = session.execute(
        update(ActionToken)
        .where(
            ActionToken.tenant_id == tenant_id,
            ActionToken.purpose.in_(purposes),
            ActionToken.subject_id == subject_id,
            ActionToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def purge(session: Session) -> int:
    """Delete expired tokens and used ones older than a week; returns how many."""
    now = clock.now()
    result = session.execute(
        delete(ActionToken).where(
            or_(ActionToken.expires_at <= now, ActionToken.used_at < now - USED_RETENTION)
        )
    )
    session.commit()
    return result.rowcount
