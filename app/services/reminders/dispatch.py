"""Reminders: rows first, claimed by a dispatcher, each sent at most once.

Invariants: a booking has at most one reminder per (rule, stage) (`key`); a reminder is claimed
with a guarded UPDATE (scheduled -> sending; SKIP LOCKED on PostgreSQL), so two dispatchers never
both take it; its email carries the dedupe key `reminder:<id>`, so even a reminder re-claimed after
a crash writes one email; a reminder found past its window is skipped with a reason, not sent late.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Booking, OutboundEmail, PaymentStage, Reminder, ReminderRule, Tenant
from app.models.reminder import REMINDER_KINDS, STAGE_KINDS
from app.services.email import outbox as email
from app.services.notifications import vendor as tell_team
from app.services.reminders.times import Occurrence, occurrence
from app.services.shared import audit, clock, jobs, paging, tokens
from app.services.shared.errors import InvalidTransition, ValidationFailed
from app.services.shared.links import Links
from app.services.shared.tenancy import get_owned
from app.services.shared.unit_of_work import committing

log = logging.getLogger(__name__)

DEFAULT_RULES = (
    ("before_event", 3, time(10, 0)),
    ("before_event", 1, time(14, 0)),
    ("after_event", 1, time(10, 0)),
    ("balance_due", 7, time(10, 0)),
    ("balance_due", 0, time(10, 0)),
    ("past_due", 3, time(10, 0)),
    ("past_due", 10, time(10, 0)),
)
# Bookings whose reminders go out; any other status cancels what is still pending.
LIVE_STATUSES = ("confirmed", "paid_in_full", "completed", "partially_refunded")
OPEN_STAGE_STATUSES = ("due", "processing")
PENDING = ("scheduled", "sending", "failed")
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)
STUCK_AFTER = timedelta(minutes=10)
RECOVERY_HORIZON = timedelta(days=7)
SUBJECTS = {
    "before_event": "Your event with {tenant} is coming up",
    "after_event": "Thank you from {tenant}",
    "balance_due": "Payment due for your booking with {tenant}",
    "past_due": "Payment overdue for your booking with {tenant}",
}


# --- rules -------------------------------------------------------------------------------------

def ensure_default_rules(session: Session, tenant_id: int) -> None:
    """Give a tenant without rules the defaults (3 and 1 days before, 1 day after, balance 7/0
    days before a payment's due date, past due 3/10 days after it)."""
    if session.scalar(select(func.count(ReminderRule.id)).where(ReminderRule.tenant_id == tenant_id)):
        return
    now = clock.now()
    for kind, offset, at in DEFAULT_RULES:
        session.add(ReminderRule(tenant_id=tenant_id, kind=kind, offset_days=offset, send_time=at,
                                 active=True, created_at=now))
    session.flush()


def rules(session: Session, tenant_id: int, active_only: bool = False) -> list[ReminderRule]:
    query = select(ReminderRule).where(ReminderRule.tenant_id == tenant_id)
    if active_only:
        query = query.where(ReminderRule.active.is_(True))
    return list(session.scalars(query.order_by(ReminderRule.kind, ReminderRule.offset_days.desc(),
                                               ReminderRule.send_time)))


def add_rule(session: Session, tenant_id: int, actor_user_id: int, kind: str, offset_days: int,
             send_time: time) -> ReminderRule:
    problems = {}
    if kind not in REMINDER_KINDS:
        problems["kind"] = "Choose when the reminder goes out."
    if not 0 <= offset_days <= 365:
        problems["offset_days"] = "Use 0 to 365 days."
    if not problems and session.scalars(select(ReminderRule.id).where(
            ReminderRule.tenant_id == tenant_id, ReminderRule.kind == kind,
            ReminderRule.offset_days == offset_days, ReminderRule.send_time == send_time)).first():
        problems["offset_days"] = "That reminder already exists."
    if problems:
        raise ValidationFailed(problems)
    rule = ReminderRule(tenant_id=tenant_id, kind=kind, offset_days=offset_days, send_time=send_time,
                        active=True, created_at=clock.now())
    session.add(rule)
    session.flush()
    audit.record(session, tenant_id, "reminder_rule.added", actor="user", actor_user_id=actor_user_id,
                 subject_type="reminder_rule", subject_id=rule.id, kind=kind, offset_days=offset_days,
                 send_time=send_time.isoformat())
    sync_tenant(session, tenant_id)
    session.commit()
    return rule


def set_rule_active(session: Session, tenant_id: int, actor_user_id: int, rule_id: int,
                    active: bool) -> ReminderRule:
    rule = get_owned(session, ReminderRule, tenant_id, rule_id)
    rule.active = active
    audit.record(session, tenant_id, "reminder_rule." + ("enabled" if active else "disabled"),
                 actor="user", actor_user_id=actor_user_id, subject_type="reminder_rule",
                 subject_id=rule.id)
    sync_tenant(session, tenant_id)
    session.commit()
    return rule


# --- planning ----------------------------------------------------------------------------------

def plan(session: Session, booking: Booking, tenant: Tenant) -> list[Occurrence]:
    """Every reminder the tenant's active rules give this booking now."""
    planned = []
    stages = None
    for rule in rules(session, tenant.id, active_only=True):
        common = dict(kind=rule.kind, rule_id=rule.id, offset_days=rule.offset_days,
                      send_time=rule.send_time, timezone=tenant.timezone,
                      event_date=booking.event_date, start_time=booking.start_time)
        if rule.kind not in STAGE_KINDS:
            planned.append(occurrence(**common))
            continue
        if stages is None:
            stages = list(session.scalars(select(PaymentStage).where(
                PaymentStage.tenant_id == tenant.id, PaymentStage.booking_id == booking.id,
                PaymentStage.status.in_(OPEN_STAGE_STATUSES))))
        for stage in stages:
            planned.append(occurrence(**common, stage_id=stage.id, stage_due=stage.due_date))
    return planned


def sync_booking(session: Session, tenant_id: int, booking_id: int) -> None:
    """Bring a booking's reminders in line with its status, dates, stages and the rules, in the
    caller's transaction. Sent and skipped reminders are history and never change."""
    booking = get_owned(session, Booking, tenant_id, booking_id)
    tenant = session.get(Tenant, tenant_id)
    ensure_default_rules(session, tenant_id)
    now = clock.now()
    existing = {r.key: r for r in session.scalars(select(Reminder).where(
        Reminder.tenant_id == tenant_id, Reminder.booking_id == booking_id))}
    wanted = {o.key: o for o in plan(session, booking, tenant)} if booking.status in LIVE_STATUSES else {}
    for key, row in existing.items():
        occ = wanted.get(key)
        if row.status == "canceled" and occ is not None and occ.due_at >= now:
            # Canceled because its rule was off or its moment had passed; wanted again (the rule
            # is back on, the booking moved back out): schedule it again rather than never.
            _apply(row, occ, now)
            row.status, row.skip_reason, row.attempts, row.next_attempt_at = "scheduled", "", 0, occ.due_at
            continue
        if row.status not in PENDING:
            continue
        if occ is None:
            _cancel(row, now, "booking canceled" if booking.status not in LIVE_STATUSES
                    else "no longer needed (rule off or stage paid)")
        elif occ.due_at != row.due_at or occ.window_ends_at != row.window_ends_at:
            _apply(row, occ, now)
            row.status, row.attempts, row.next_attempt_at = "scheduled", 0, occ.due_at
            if occ.due_at < now:
                _cancel(row, now, "moved into the past")
    for key, occ in wanted.items():
        if key in existing or occ.due_at < now:
            continue  # nothing to add for moments already gone when the booking was confirmed
        row = Reminder(tenant_id=tenant_id, booking_id=booking_id, rule_id=occ.rule_id,
                       stage_id=occ.stage_id, key=key, status="scheduled", attempts=0, last_error="",
                       skip_reason="", created_at=now)
        _apply(row, occ, now)
        row.next_attempt_at = occ.due_at
        session.add(row)
    session.flush()


def _apply(row: Reminder, occ: Occurrence, now: datetime) -> None:
    row.kind, row.local_date, row.local_time, row.timezone = occ.kind, occ.local_date, occ.local_time, occ.timezone
    row.due_at, row.window_ends_at, row.updated_at = occ.due_at, occ.window_ends_at, now


def _cancel(row: Reminder, now: datetime, reason: str) -> None:
    row.status, row.skip_reason, row.updated_at = "canceled", reason, now


def sync_tenant(session: Session, tenant_id: int) -> int:
    """Recompute every live booking of a tenant (rules or timezone changed); returns how many.
    Bookings whose event is past are included while a stage is still open (past-due reminders)."""
    today = clock.now().date() - timedelta(days=3)
    open_stage = select(PaymentStage.booking_id).where(
        PaymentStage.tenant_id == tenant_id, PaymentStage.status.in_(OPEN_STAGE_STATUSES))
    ids = list(session.scalars(select(Booking.id).where(
        Booking.tenant_id == tenant_id, Booking.status.in_(LIVE_STATUSES),
        or_(Booking.event_date >= today, Booking.id.in_(open_stage)))))
    for booking_id in ids:
        sync_booking(session, tenant_id, booking_id)
    return len(ids)


# --- dispatch ----------------------------------------------------------------------------------

def claim_due(session: Session, limit: int = 200, stuck_after: timedelta = STUCK_AFTER) -> list[int]:
    """Claim due reminders (and ones stuck in `sending`) for sending; commit; return their ids."""
    now = clock.now()
    due = (select(Reminder.id, Reminder.tenant_id)
           .where(or_(
               (Reminder.status == "scheduled") & (Reminder.next_attempt_at <= now),
               (Reminder.status == "sending") & (Reminder.claimed_at < now - stuck_after)))
           .order_by(Reminder.next_attempt_at)
           .limit(limit)
           .with_for_update(skip_locked=True))
    rows = session.execute(due).all()
    ids, tenant_ids = [r.id for r in rows], sorted({r.tenant_id for r in rows})
    claimed = []
    if ids:
        result = session.execute(
            update(Reminder)
            .where(Reminder.id.in_(ids), Reminder.tenant_id.in_(tenant_ids),  # names the tenants changed
                   or_(Reminder.status == "scheduled",
                       (Reminder.status == "sending") & (Reminder.claimed_at < now - stuck_after)))
            .values(status="sending", claimed_at=now, attempts=Reminder.attempts + 1, updated_at=now)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False))
        claimed = sorted(result.scalars())
    session.commit()
    return claimed


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""
    email_id: int | None = None  # the outbox row of a sent reminder


def send(session: Session, reminder_id: int, links: Links, *, manual: bool = False) -> Outcome:
    """Write the email of a claimed reminder to the outbox, once; or skip/cancel it with a reason."""
    row = session.get(Reminder, reminder_id)
    if row is None or row.status != "sending":
        return Outcome("ignored")
    now = clock.now()
    booking = session.get(Booking, row.booking_id)
    stage = session.get(PaymentStage, row.stage_id) if row.stage_id else None
    if _settle_unsendable(session, row, booking, stage, now, manual):
        mail = None
    else:
        tenant = session.get(Tenant, row.tenant_id)
        try:
            with session.begin_nested():
                mail = email.compose(email.letterhead(session, tenant),
                                     **_reminder_email(session, row, booking, stage, tenant, links))
                session.add(mail)
                session.flush()
                jobs.after_commit(session, jobs.Job.SEND_EMAIL, mail.id)
        except IntegrityError:
            # An earlier attempt already wrote this reminder's email (it crashed before marking it).
            mail = session.scalars(select(OutboundEmail).where(
                OutboundEmail.dedupe_key == f"reminder:{row.id}")).one()
        _mark_sent(row, mail, now)
    session.commit()
    return Outcome(row.status, row.skip_reason, mail.id if mail is not None else None)


@dataclass
class BatchResult:
    outcomes: dict[int, Outcome]
    failed: dict[int, Exception]  # raised while preparing; still `sending`, for record_failure


def send_batch(session: Session, reminder_ids: list[int], links: Links) -> BatchResult:
    """`send` for many claimed reminders in one transaction: their rows, bookings, stages and
    tenants read together, each tenant's letterhead once, their emails inserted together, one
    commit. The emails are not enqueued: the caller delivers them (`deliver_many`) after the
    commit, and the outbox sweeper re-queues any it did not get to.

    Exactly-once holds as in `send`: only reminders still `sending` are written; a reminder whose
    email already exists (re-claimed after a crash) is marked sent with that email. A reminder
    whose email cannot be prepared is left out of the transaction (what it added is expunged)
    and returned in `failed`, for the caller to `record_failure` after the commit. Should the
    insert still collide (another worker wrote one of the emails meanwhile) or the commit fail,
    the whole batch rolls back and the exception propagates, so the caller can send the
    reminders one by one with `send`."""
    rows = list(session.scalars(select(Reminder).where(
        Reminder.id.in_(reminder_ids), Reminder.status == "sending").order_by(Reminder.id)))
    bookings = _by_id(session, Booking, {r.booking_id for r in rows})
    stages = _by_id(session, PaymentStage, {r.stage_id for r in rows if r.stage_id})
    tenants = _by_id(session, Tenant, {r.tenant_id for r in rows})
    written = email.by_dedupe_key(session, [f"reminder:{r.id}" for r in rows])
    heads: dict[int, email.Letterhead] = {}
    now = clock.now()
    result = BatchResult({reminder_id: Outcome("ignored") for reminder_id in reminder_ids}, {})
    mails = {}
    try:
        for row in rows:
            booking, stage = bookings[row.booking_id], stages.get(row.stage_id)
            if _settle_unsendable(session, row, booking, stage, now, manual=False):
                continue
            mail = written.get(f"reminder:{row.id}")
            if mail is None:
                before = set(session.new)
                try:
                    tenant = tenants[row.tenant_id]
                    if tenant.id not in heads:
                        heads[tenant.id] = email.letterhead(session, tenant)
                    mail = email.compose(heads[tenant.id],
                                         **_reminder_email(session, row, booking, stage, tenant, links))
                except Exception as exc:  # noqa: BLE001 (returned; recorded and re-raised by the task)
                    for added in set(session.new) - before:
                        session.expunge(added)
                    result.failed[row.id] = exc
                    continue
                session.add(mail)
            mails[row.id] = mail
        session.flush()
        for row in rows:
            if row.id in result.failed:
                continue
            mail = mails.get(row.id)
            if mail is not None:
                _mark_sent(row, mail, now)
            # Read before the commit, which expires every row (reading after it reloads each).
            result.outcomes[row.id] = Outcome(row.status, row.skip_reason,
                                              mail.id if mail is not None else None)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def _by_id(session: Session, model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {obj.id: obj for obj in session.scalars(select(model).where(model.id.in_(ids)))}


def _settle_unsendable(session: Session, row: Reminder, booking: Booking, stage: PaymentStage | None,
                       now: datetime, manual: bool) -> bool:
    """Cancel or skip a claimed reminder that must not go out now (and audit it); False when
    it is to be sent. Checked at send time, not only when planning: a payment may settle the
    stage (or the booking may be canceled) between the claim and the send, and no payment
    reminder goes out then."""
    if booking.status not in LIVE_STATUSES:
        _cancel(row, now, "booking is " + booking.status)
    elif stage is not None and stage.status not in OPEN_STAGE_STATUSES:
        _cancel(row, now, "stage is " + stage.status)
    elif not manual and now > row.window_ends_at:
        row.status, row.updated_at = "skipped", now
        row.skip_reason = (f"found at {now:%Y-%m-%d %H:%M} UTC, after its window closed at "
                           f"{row.window_ends_at:%Y-%m-%d %H:%M} UTC")
    else:
        return False
    audit.record(session, row.tenant_id, f"reminder.{row.status}", subject_type="booking",
                 subject_id=row.booking_id, reminder_id=row.id, reason=row.skip_reason)
    return True


def _mark_sent(row: Reminder, mail: OutboundEmail, now: datetime) -> None:
    row.status, row.sent_at, row.email_id, row.updated_at, row.last_error = "sent", now, mail.id, now, ""


def record_failure(session: Session, reminder_id: int, error: str) -> Outcome:
    """An attempt raised: retry with exponential backoff, or fail after the last attempt."""
    session.rollback()
    row = session.get(Reminder, reminder_id)
    if row is None or row.status != "sending":
        return Outcome("ignored")
    now = clock.now()
    row.last_error, row.updated_at = error[:500], now
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        booking = session.get(Booking, row.booking_id)
        tell_team.notify_team(
            session, row.tenant_id, event_key=f"reminder_failed-{row.id}-{row.attempts}",
            booking=booking,
            sentence=f"The {row.kind.replace('_', ' ')} reminder to {booking.couple_names} "
                     f"for booking #{booking.id} could not be sent: {row.last_error}")
    else:
        row.status = "scheduled"
        row.next_attempt_at = now + RETRY_BASE * 2 ** (row.attempts - 1)
    session.commit()
    log.warning("reminder %s (tenant %s) attempt %s failed", row.id, row.tenant_id, row.attempts)
    return Outcome(row.status, row.last_error)


def _reminder_email(session: Session, row: Reminder, booking: Booking, stage: PaymentStage | None,
                    tenant: Tenant, links: Links) -> dict:
    """What `email.compose` needs for a reminder's email (a fresh manage link included)."""
    locale = tenant.locale or "en_US"
    manage = tokens.issue(session, tenant.id, "booking_manage", booking.id)
    # Counted from the day it is actually sent, which may be later than planned.
    today = clock.now().astimezone(ZoneInfo(row.timezone)).date()
    context = {
        "booking": booking,
        "date_text": format_date(booking.event_date, format="full", locale=locale),
        "manage_url": links.booking_manage(tenant.slug, manage),
        "stage": stage,
        "due_text": format_date(stage.due_date, format="long", locale=locale) if stage else "",
        "days": (booking.event_date - today).days,
        "days_overdue": (today - stage.due_date).days if stage else 0,
    }
    return dict(to=booking.email, kind=f"reminder_{row.kind}",
                subject=SUBJECTS[row.kind].format(tenant=tenant.name), context=context,
                dedupe_key=f"reminder:{row.id}")


def recover_failed(session: Session, cap: int = 200) -> int:
    """Nightly: give failed reminders of the last 7 days (and their failed emails) another go."""
    now = clock.now()
    ids = list(session.scalars(select(Reminder.id).where(
        Reminder.status == "failed", Reminder.due_at >= now - RECOVERY_HORIZON)
        .order_by(Reminder.due_at.desc()).limit(cap)))
    if ids:
        session.execute(update(Reminder).where(Reminder.id.in_(ids), Reminder.status == "failed")
                        .values(status="scheduled", attempts=0, next_attempt_at=now, updated_at=now)
                        .execution_options(synchronize_session=False))
    emails = session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.status == "failed", OutboundEmail.kind.like("reminder_%"),
               OutboundEmail.created_at >= now - RECOVERY_HORIZON)
        .values(status="pending", attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return len(ids) + emails


# --- dashboard actions and queries --------------------------------------------------------------

def get_reminder(session: Session, tenant_id: int, reminder_id: int) -> Reminder:
    row = get_owned(session, Reminder, tenant_id, reminder_id)
    return row


def _owner_action(session: Session, tenant_id: int, actor_user_id: int, reminder_id: int, *,
                  from_statuses: tuple[str, ...], values: dict, action: str, refused: str) -> Reminder:
    """Move one of the tenant's reminders from one of `from_statuses` (guarded UPDATE, so a
    worker that got there first wins) and record who did it; InvalidTransition(`refused`)."""
    with committing(session):
        row = get_reminder(session, tenant_id, reminder_id)
        now = clock.now()
        changed = session.execute(
            update(Reminder).where(Reminder.id == row.id, Reminder.tenant_id == tenant_id,
                                   Reminder.status.in_(from_statuses))
            .values(updated_at=now, **{k: (now if v is _NOW else v) for k, v in values.items()})
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise InvalidTransition(refused)
        audit.record(session, tenant_id, f"reminder.{action}", actor="user",
                     actor_user_id=actor_user_id, subject_type="booking", subject_id=row.booking_id,
                     reminder_id=row.id)
        if action == "send_now":
            jobs.after_commit(session, jobs.Job.SEND_REMINDER_NOW, row.id)
    session.refresh(row)
    return row


_NOW = object()  # in `values`: the time of the change


def send_now(session: Session, tenant_id: int, actor_user_id: int, reminder_id: int) -> Reminder:
    """Claim a pending reminder for immediate sending (its window is not checked)."""
    return _owner_action(session, tenant_id, actor_user_id, reminder_id,
                         from_statuses=("scheduled", "failed", "skipped"),
                         values={"status": "sending", "claimed_at": _NOW,
                                 "attempts": Reminder.attempts + 1},
                         action="send_now", refused="This reminder was already sent or canceled.")


def retry(session: Session, tenant_id: int, actor_user_id: int, reminder_id: int) -> Reminder:
    """Put a failed reminder back in the schedule, due now."""
    return _owner_action(session, tenant_id, actor_user_id, reminder_id, from_statuses=("failed",),
                         values={"status": "scheduled", "attempts": 0, "next_attempt_at": _NOW},
                         action="retry", refused="Only a failed reminder can be retried.")


def for_booking(session: Session, tenant_id: int, booking_id: int) -> list[Reminder]:
    return list(session.scalars(select(Reminder).where(
        Reminder.tenant_id == tenant_id, Reminder.booking_id == booking_id).order_by(Reminder.due_at)))


@dataclass(frozen=True)
class LogFilter:
    status: str = ""
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None


def log_page(session: Session, tenant_id: int, f: LogFilter, page: int = 1, per_page: int = 50
             ) -> tuple[list[tuple[Reminder, Booking]], int]:
    """The reminder log, newest due first, filtered; returns (rows, total)."""
    query = select(Reminder, Booking).join(Booking, Booking.id == Reminder.booking_id).where(
        Reminder.tenant_id == tenant_id, Booking.tenant_id == tenant_id)
    if f.status:
        query = query.where(Reminder.status == f.status)
    if f.kind:
        query = query.where(Reminder.kind == f.kind)
    if f.date_from:
        query = query.where(Reminder.local_date >= f.date_from)
    if f.date_to:
        query = query.where(Reminder.local_date <= f.date_to)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(Reminder.due_at.desc(), Reminder.id.desc())
                           .offset(paging.offset(page, per_page)).limit(per_page)).all()
    return [(r, b) for r, b in rows], total
