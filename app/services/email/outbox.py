"""The outbox: compose emails as rows, deliver each at most once, sweep what was lost.

Invariants: a row is written in the same transaction as the change it reports; delivery claims
the row with a guarded UPDATE (pending -> sending), so two workers never both send it; a failed
attempt goes back to pending with an exponential backoff until the attempt limit, then failed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.models import EmailAttachment, OutboundEmail, Tenant
from app.services.accounts import branding
from app.services.notifications import recipients
from app.services.shared import clock, jobs
from app.services.shared.money import money_filter

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "emails"
STUCK_AFTER = timedelta(minutes=10)


class TransportError(Exception):
    """Delivery failed in a way worth retrying."""


class Transport(Protocol):
    """Delivers a message and calls `accepted()` the moment the server has taken responsibility
    for it (SMTP: the 250 after DATA), before closing the session; raises TransportError when it
    could not deliver. Errors after acceptance (closing the session) are not failures."""
    name: str

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None: ...


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


_env: Environment | None = None


def _templates() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _env.filters["money"] = money_filter  # the pages' filter: locale from `tenant`
    return _env


def one_line(value: str) -> str:
    return " ".join(str(value).split())


def queue_email(
    session: Session,
    tenant_id: int,
    *,
    to: str,
    kind: str,
    subject: str,
    context: dict,
    dedupe_key: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    reply_to: str | None = None,
) -> OutboundEmail:
    """Render `emails/<kind>.txt|.html` into a pending row; it is sent after the commit.

    Header values never carry line breaks (a package title typed with one would otherwise make
    the message unsendable, or inject headers): they are folded to single spaces here.
    A `dedupe_key` already queued returns that row and queues nothing. Replies go to `reply_to`,
    by default the vendor's contact address (so a couple's reply reaches the vendor, not us)."""
    if dedupe_key is not None:
        existing = session.scalar(select(OutboundEmail).where(OutboundEmail.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    subject = one_line(subject)
    to = one_line(to)
    tenant = session.get(Tenant, tenant_id)
    if reply_to is None:
        reply_to = recipients.contact_address(session, tenant)
    reply_to = "" if one_line(reply_to).lower() == to.lower() else one_line(reply_to)
    logo = branding.email_logo(session, tenant_id)
    values = {"tenant": tenant, "subject": subject, "accent": branding.email_accent(session, tenant_id),
              "logo_cid": INLINE_LOGO if logo else "", **context}
    env = _templates()
    now = clock.now()
    row = OutboundEmail(
        tenant_id=tenant_id,
        kind=kind,
        to_addr=to,
        reply_to=reply_to,
        subject=subject,
        text_body=env.get_template(f"{kind}.txt").render(values),
        html_body=env.get_template(f"{kind}.html").render(values),
        dedupe_key=dedupe_key,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        last_error="",
        message_id="",
        transport="",
    )
    if logo:
        row.attachments.append(EmailAttachment(tenant_id=tenant_id, filename=INLINE_PREFIX + INLINE_LOGO,
                                               content_type="image/png", content=logo))
    for a in attachments:
        row.attachments.append(
            EmailAttachment(
                tenant_id=tenant_id, filename=a.filename, content_type=a.content_type, content=a.content
            )
        )
    session.add(row)
    session.flush()
    jobs.after_commit(session, jobs.Job.SEND_EMAIL, row.id)
    return row


# An attachment row whose filename starts with INLINE_PREFIX is a related part of the HTML body,
# its Content-ID the rest of the name (the tenant's logo, `cid:logo@mais`).
INLINE_PREFIX = "cid:"
INLINE_LOGO = "logo@mais"


def set_subject(msg: EmailMessage, subject: str) -> None:
    """A non-ASCII subject is folded into encoded words by `email.header.Header`, whose words
    keep their spaces inside: the modern policy's folder drops the space between two adjacent
    encoded words ("2027  –Lumière"), a CPython bug. ASCII subjects fold as usual."""
    if subject.isascii():
        msg["Subject"] = subject
    else:
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def build_message(row: OutboundEmail, sender: str, domain: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.to_addr
    if row.reply_to:
        msg["Reply-To"] = row.reply_to
    set_subject(msg, row.subject)
    msg["Date"] = formatdate(localtime=False)
    # Stable per row: should a crash make us send twice, clients fold the copies into one.
    msg["Message-ID"] = f"<outbox-{row.id}.{row.tenant_id}@{domain}>"
    msg["X-MAIS-Tenant"] = str(row.tenant_id)
    msg.set_content(row.text_body)
    msg.add_alternative(row.html_body, subtype="html")
    html_part = msg.get_payload()[1]
    for a in row.attachments:
        maintype, _, subtype = a.content_type.partition("/")
        if a.filename.startswith(INLINE_PREFIX):  # shown inside the HTML (cid:), not attached
            html_part.add_related(a.content, maintype=maintype, subtype=subtype,
                                  cid=f"<{a.filename[len(INLINE_PREFIX):]}>")
        else:
            msg.add_attachment(a.content, maintype=maintype, subtype=subtype, filename=a.filename)
    return msg


@dataclass(frozen=True)
class DeliveryPolicy:
    sender: str
    domain: str
    max_attempts: int = 8
    retry_base_seconds: float = 30.0


def deliver(session: Session, email_id: int, transport: Transport, policy: DeliveryPolicy) -> str:
    """Send one outbox row if it is due and unclaimed. Returns sent|retry|failed|skipped."""
    now = clock.now()
    claimed = session.execute(
        update(OutboundEmail)
        .where(
            OutboundEmail.id == email_id,
            OutboundEmail.status == "pending",
            OutboundEmail.next_attempt_at <= now,
        )
        .values(status="sending", claimed_at=now, attempts=OutboundEmail.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed != 1:
        log.debug("email %s not claimed at %s (not pending or not yet due)", email_id, now)
        return "skipped"
    row = session.get(OutboundEmail, email_id)
    session.refresh(row)
    message = build_message(row, policy.sender, policy.domain)
    session.commit()  # hold no transaction (on SQLite: no write lock) while talking SMTP
    recorded = []

    def record_sent() -> None:
        # At the server's 250, before QUIT: a worker killed from here on has recorded the send,
        # so the sweeper's resend window is this commit (milliseconds), not the whole session.
        row.status = "sent"
        row.sent_at = clock.now()
        row.transport = transport.name
        row.message_id = f"outbox-{row.id}"
        row.last_error = ""
        session.commit()
        recorded.append(True)

    try:
        transport.send(message, record_sent)
    except TransportError as exc:
        if recorded:
            log.info("email %s accepted; closing the session failed: %s", row.id, exc)
            return "sent"
        row.last_error = str(exc)[:500]
        if row.attempts >= policy.max_attempts:
            row.status = "failed"
            outcome = "failed"
        else:
            row.status = "pending"
            delay = policy.retry_base_seconds * 2 ** (row.attempts - 1)
            row.next_attempt_at = clock.now() + timedelta(seconds=delay)
            outcome = "retry"
        log.warning(
            "email %s (tenant %s) attempt %s failed: %s",
            row.id, row.tenant_id, row.attempts, row.last_error,
        )
        session.commit()
        return outcome
    if not recorded:  # a transport that never called accepted() but did not fail
        record_sent()
    log.info("email %s (tenant %s, %s) sent via %s", row.id, row.tenant_id, row.kind, transport.name)
    return "sent"


def next_attempt(session: Session, email_id: int):
    row = session.get(OutboundEmail, email_id)
    return row.next_attempt_at if row is not None and row.status == "pending" else None


def sweep(session: Session, stuck_after: timedelta = STUCK_AFTER) -> list[int]:
    """Ids of rows due for delivery, after returning rows stuck in `sending` to `pending`.

    A row is stuck when its worker died mid-send (no commit within `stuck_after`).
    """
    now = clock.now()
    session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.status == "sending", OutboundEmail.claimed_at < now - stuck_after)
        .values(status="pending", next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(
        session.scalars(
            select(OutboundEmail.id)
            .where(OutboundEmail.status == "pending", OutboundEmail.next_attempt_at <= now)
            .order_by(OutboundEmail.id)
            .limit(500)
        )
    )


def mailbox(session: Session, limit: int = 100) -> list[OutboundEmail]:
    """Newest messages of every tenant, for the embedded default's /dev/mailbox."""
    return list(session.scalars(select(OutboundEmail).order_by(OutboundEmail.id.desc()).limit(limit)))


def pending_or_failed(session: Session, tenant_id: int) -> list[OutboundEmail]:
    return list(
        session.scalars(
            select(OutboundEmail).where(
                OutboundEmail.tenant_id == tenant_id,
                or_(OutboundEmail.status == "pending", OutboundEmail.status == "failed"),
            )
        )
    )
