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
from email import encoders, message_from_bytes
from email import policy as email_policy
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from app.models import EmailAttachment, OutboundEmail, Tenant
from app.services.accounts import branding
from app.services.notifications import recipients
from app.services.shared import clock, jobs
from app.services.shared.money import money_filter

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "emails"
STUCK_AFTER = timedelta(minutes=10)
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_LIMIT = 500


class TransportError(Exception):
    """Delivery failed in a way worth retrying."""


class Transport(Protocol):
    """Delivers a message and calls `accepted()` the moment the server has taken responsibility
    for it (SMTP: the 250 after DATA), before closing the session; raises TransportError when it
    could not deliver. Errors after acceptance (closing the session) are not failures."""
    name: str

    def send(self, message: Message, accepted: Callable[[], None]) -> None: ...


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


@dataclass(frozen=True)
class Letterhead:
    """What every email of a tenant shares: its reply-to address, accent colour and logo.
    Read once per tenant by a caller writing many emails (reminders), once per email otherwise."""
    tenant: Tenant
    reply_to: str
    accent: str
    logo: bytes | None


def letterhead(session: Session, tenant: Tenant) -> Letterhead:
    accent, logo = branding.email_look(session, tenant.id)
    return Letterhead(tenant, recipients.contact_address(session, tenant), accent, logo)


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

    A `dedupe_key` already queued returns that row and queues nothing. Replies go to `reply_to`,
    by default the vendor's contact address (so a couple's reply reaches the vendor, not us)."""
    if dedupe_key is not None:
        existing = session.scalar(select(OutboundEmail).where(OutboundEmail.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    row = compose(letterhead(session, session.get(Tenant, tenant_id)), to=to, kind=kind,
                  subject=subject, context=context, dedupe_key=dedupe_key, attachments=attachments,
                  reply_to=reply_to)
    session.add(row)
    session.flush()
    jobs.after_commit(session, jobs.Job.SEND_EMAIL, row.id)
    return row


def compose(head: Letterhead, *, to: str, kind: str, subject: str, context: dict,
            dedupe_key: str | None = None, attachments: tuple[Attachment, ...] = (),
            reply_to: str | None = None) -> OutboundEmail:
    """A pending row, rendered but not added: `queue_email` adds it and enqueues its delivery;
    a caller writing a batch (reminders) adds them together and delivers them itself with
    `deliver_many` after the commit, the sweeper standing behind it as behind every task.

    Header values never carry line breaks (a package title typed with one would otherwise make
    the message unsendable, or inject headers): they are folded to single spaces here."""
    subject = one_line(subject)
    to = one_line(to)
    tenant = head.tenant
    reply_to = head.reply_to if reply_to is None else reply_to
    reply_to = "" if one_line(reply_to).lower() == to.lower() else one_line(reply_to)
    values = {"tenant": tenant, "subject": subject, "accent": head.accent,
              "logo_cid": INLINE_LOGO if head.logo else "", **context}
    env = _templates()
    now = clock.now()
    row = OutboundEmail(
        tenant_id=tenant.id,
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
    if head.logo:
        row.attachments.append(EmailAttachment(tenant_id=tenant.id, filename=INLINE_PREFIX + INLINE_LOGO,
                                               content_type="image/png", content=head.logo))
    for a in attachments:
        row.attachments.append(
            EmailAttachment(
                tenant_id=tenant.id, filename=a.filename, content_type=a.content_type, content=a.content
            )
        )
    return row


def by_dedupe_key(session: Session, keys: list[str]) -> dict[str, OutboundEmail]:
    """The rows already written under these dedupe keys."""
    if not keys:
        return {}
    return {row.dedupe_key: row for row in session.scalars(
        select(OutboundEmail).where(OutboundEmail.dedupe_key.in_(keys)))}


# An attachment row whose filename starts with INLINE_PREFIX is a related part of the HTML body,
# its Content-ID the rest of the name (the tenant's logo, `cid:logo@mais`).
INLINE_PREFIX = "cid:"
INLINE_LOGO = "logo@mais"


def mime_message(row: OutboundEmail, sender: str, domain: str) -> Message:
    """The message as it goes on the wire, built with the `email.mime` classes (compat32): a
    quarter of the CPU of `EmailMessage`'s header registry, which was the largest cost of a
    reminder. Text and HTML alternatives; the logo a related part of the HTML (cid:); other
    attachments after them in multipart/mixed.

    A non-ASCII subject is folded into encoded words by `email.header.Header`, whose words keep
    their spaces inside (the modern policy's folder drops the space between two adjacent encoded
    words, "2027  –Lumière", a CPython bug)."""
    html: Message = MIMEText(row.html_body, "html", _charset_of(row.html_body))
    related = []
    attached = []
    for a in row.attachments:
        if a.filename.startswith(INLINE_PREFIX):  # shown inside the HTML (cid:), not attached
            part = _binary_part(a.content_type, a.content)
            part["Content-ID"] = f"<{a.filename[len(INLINE_PREFIX):]}>"
            part["Content-Disposition"] = "inline"
            related.append(part)
        else:
            part = _binary_part(a.content_type, a.content)
            part.add_header("Content-Disposition", "attachment",
                            filename=a.filename if a.filename.isascii() else ("utf-8", "", a.filename))
            attached.append(part)
    if related:
        html = MIMEMultipart("related", _subparts=[html, *related])
    msg = MIMEMultipart("alternative", _subparts=[MIMEText(row.text_body, "plain", _charset_of(row.text_body)),
                                                  html])
    if attached:
        msg = MIMEMultipart("mixed", _subparts=[msg, *attached])
    msg["From"] = _address(sender)
    msg["To"] = _address(row.to_addr)
    if row.reply_to:
        msg["Reply-To"] = _address(row.reply_to)
    msg["Subject"] = row.subject if row.subject.isascii() else Header(row.subject, "utf-8",
                                                                         header_name="Subject")
    msg["Date"] = formatdate(localtime=False)
    # Stable per row: should a crash make us send twice, clients fold the copies into one.
    msg["Message-ID"] = f"<outbox-{row.id}.{row.tenant_id}@{domain}>"
    msg["X-MAIS-Tenant"] = str(row.tenant_id)
    return msg


def build_message(row: OutboundEmail, sender: str, domain: str) -> EmailMessage:
    """`mime_message` read back as the server receives it (for inspection and tests)."""
    return message_from_bytes(mime_message(row, sender, domain).as_bytes(), policy=email_policy.default)


def _charset_of(text: str) -> str:
    return "us-ascii" if text.isascii() and all(len(line) <= 998 for line in text.splitlines()) else "utf-8"


def _address(value: str) -> str:
    if value.isascii():
        return value
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8")


def _binary_part(content_type: str, content: bytes) -> Message:
    maintype, _, subtype = content_type.partition("/")
    part = MIMEBase(maintype, subtype)
    part.set_payload(content)
    encoders.encode_base64(part)
    return part


@dataclass(frozen=True)
class DeliveryPolicy:
    sender: str
    domain: str
    max_attempts: int = 8
    retry_base_seconds: float = 30.0


def deliver(session: Session, email_id: int, transport: Transport, policy: DeliveryPolicy) -> str:
    """Send one outbox row if it is due and unclaimed. Returns sent|retry|failed|skipped."""
    return deliver_many(session, [email_id], transport, policy)[email_id]


def deliver_many(session: Session, email_ids: list[int], transport: Transport,
                 policy: DeliveryPolicy) -> dict[int, str]:
    """Send the due, unclaimed rows among `email_ids`, one after another over the transport's
    connection; returns sent|retry|failed|skipped per id.

    The rows are claimed together (one guarded UPDATE: pending and due -> sending), so a row
    another worker holds or has sent is skipped. Each send is still recorded on its own, in a
    commit at the server's 250, so a failure or a crash part-way costs only the rows not yet
    accepted: a failed one goes back to pending with its backoff, the others carry on; a crash
    leaves the unsent ones in `sending` for the sweeper (after EMAIL_STUCK_AFTER_SECONDS)."""
    now = clock.now()
    claimed = set(session.scalars(
        update(OutboundEmail)
        .where(
            OutboundEmail.id.in_(email_ids),
            OutboundEmail.status == "pending",
            OutboundEmail.next_attempt_at <= now,
        )
        .values(status="sending", claimed_at=now, attempts=OutboundEmail.attempts + 1)
        .returning(OutboundEmail.id)
        .execution_options(synchronize_session=False)
    )) if email_ids else set()
    session.commit()
    outcomes = {email_id: "skipped" for email_id in email_ids}
    for email_id in set(email_ids) - claimed:
        log.debug("email %s not claimed at %s (not pending or not yet due)", email_id, now)
    if not claimed:
        return outcomes
    rows = list(session.scalars(select(OutboundEmail).where(OutboundEmail.id.in_(claimed))
                                .options(selectinload(OutboundEmail.attachments))
                                .order_by(OutboundEmail.id)
                                .execution_options(populate_existing=True)))
    # Plain values: every commit below expires the ORM rows, and reading one again is a query.
    claims = [(_Claim(row.id, row.tenant_id, row.kind, row.attempts),
               mime_message(row, policy.sender, policy.domain)) for row in rows]
    session.commit()  # hold no transaction (on SQLite: no write lock) while talking SMTP
    for claim, message in claims:
        outcomes[claim.id] = _send_claimed(session, claim, message, transport, policy)
    return outcomes


@dataclass(frozen=True)
class _Claim:
    id: int
    tenant_id: int
    kind: str
    attempts: int  # counting this one


def _record(session: Session, email_id: int, **values) -> None:
    session.execute(update(OutboundEmail).where(OutboundEmail.id == email_id).values(**values)
                    .execution_options(synchronize_session=False))
    session.commit()


def _send_claimed(session: Session, claim: _Claim, message: Message, transport: Transport,
                  policy: DeliveryPolicy) -> str:
    recorded = []

    def record_sent() -> None:
        # At the server's 250, before QUIT: a worker killed from here on has recorded the send,
        # so the sweeper's resend window is this commit (milliseconds), not the whole session.
        _record(session, claim.id, status="sent", sent_at=clock.now(), transport=transport.name,
                message_id=f"outbox-{claim.id}", last_error="")
        recorded.append(True)

    try:
        transport.send(message, record_sent)
    except TransportError as exc:
        if recorded:
            log.info("email %s accepted; closing the session failed: %s", claim.id, exc)
            return "sent"
        error = str(exc)[:500]
        if claim.attempts >= policy.max_attempts:
            _record(session, claim.id, status="failed", last_error=error)
            outcome = "failed"
        else:
            delay = policy.retry_base_seconds * 2 ** (claim.attempts - 1)
            _record(session, claim.id, status="pending", last_error=error,
                    next_attempt_at=clock.now() + timedelta(seconds=delay))
            outcome = "retry"
        log.warning("email %s (tenant %s) attempt %s failed: %s", claim.id, claim.tenant_id,
                    claim.attempts, error)
        return outcome
    if not recorded:  # a transport that never called accepted() but did not fail
        record_sent()
    log.info("email %s (tenant %s, %s) sent via %s", claim.id, claim.tenant_id, claim.kind,
             transport.name)
    return "sent"


def next_attempt(session: Session, email_id: int):
    row = session.get(OutboundEmail, email_id)
    return row.next_attempt_at if row is not None and row.status == "pending" else None


def sweep(session: Session, stuck_after: timedelta = STUCK_AFTER,
          grace: timedelta = SWEEP_GRACE) -> list[int]:
    """Ids of rows whose delivery was lost, after returning rows stuck in `sending` to `pending`.

    A row is stuck when its worker died mid-send (no commit within `stuck_after`). A pending row
    counts as lost once it has been due for `grace`: until then its task (enqueued at the commit,
    scheduled for its retry, or the reminder batch that wrote it) is on its way, and re-queuing
    it would only add a task that finds it sent. Rows taken back from `sending` count at once.
    """
    now = clock.now()
    stuck = list(session.scalars(
        update(OutboundEmail)
        .where(OutboundEmail.status == "sending", OutboundEmail.claimed_at < now - stuck_after)
        .values(status="pending", next_attempt_at=now)
        .returning(OutboundEmail.id)
        .execution_options(synchronize_session=False)
    ))
    session.commit()
    lost = list(
        session.scalars(
            select(OutboundEmail.id)
            .where(OutboundEmail.status == "pending", OutboundEmail.next_attempt_at <= now - grace)
            .order_by(OutboundEmail.id)
            .limit(SWEEP_LIMIT)
        )
    )
    return sorted(set(stuck[:SWEEP_LIMIT]) | set(lost))


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
