"""Reminders: the minute dispatcher that claims due rows, one send per reminder, nightly recovery."""
from __future__ import annotations

from datetime import timedelta

from huey import crontab

from app.queue import huey
from app.services.reminders import dispatch
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.email import deliver_now
from app.tasks.registry import handles
from app.web.links import WebLinks

# Claimed in batches of CLAIM_BATCH (one transaction each), sent SEND_BATCH to a task, up to
# MAX_PER_RUN a minute per consumer: one run used to claim 200 and stop, a ceiling of 200 a minute.
CLAIM_BATCH = 500
SEND_BATCH = 25
MAX_PER_RUN = 10_000


@huey.periodic_task(crontab(minute="*"))
def dispatch_reminders() -> int:
    """Claim due reminders and enqueue their sends in small batches; safe when several
    consumers run it (each claim is a guarded UPDATE, SKIP LOCKED on PostgreSQL)."""
    total = 0
    while total < MAX_PER_RUN:
        with app_session() as (app, session):
            stuck_after = timedelta(seconds=app.config["REMINDER_STUCK_AFTER_SECONDS"])
            claimed = dispatch.claim_due(session, limit=CLAIM_BATCH, stuck_after=stuck_after)
        for start in range(0, len(claimed), SEND_BATCH):
            send_reminders(claimed[start:start + SEND_BATCH])
        total += len(claimed)
        if len(claimed) < CLAIM_BATCH:
            break
    return total


def _send_reminder(reminder_id: int, manual: bool) -> str:
    with app_session() as (app, session):
        try:
            return dispatch.send(session, reminder_id, WebLinks(app), manual=manual).status
        except Exception as exc:
            dispatch.record_failure(session, reminder_id, f"{type(exc).__name__}: {exc}")
            raise


@huey.task()
def send_reminder(reminder_id: int) -> str:
    """Kept for tasks enqueued before batching (a queue drained across an upgrade)."""
    return _send_reminder(reminder_id, manual=False)


@huey.task()
def send_reminders(reminder_ids: list[int]) -> dict[str, int]:
    """Send claimed reminders one after another in one app context; each commits on its own, so
    a failure retries that reminder alone (record_failure) and the batch goes on. Each email is
    delivered right away over the worker's SMTP connection rather than queued behind the rest of
    the batch; its own send_email task (enqueued on commit) then finds it sent and skips it."""
    outcomes: dict[str, int] = {}
    failures = []
    with app_session() as (app, session):
        links = WebLinks(app)
        for reminder_id in reminder_ids:
            try:
                status = dispatch.send(session, reminder_id, links).status
            except Exception as exc:  # recorded on the row and re-raised after the batch
                dispatch.record_failure(session, reminder_id, f"{type(exc).__name__}: {exc}")
                failures.append(exc)
                status = "error"
            outcomes[status] = outcomes.get(status, 0) + 1
            email_id = dispatch.email_of(session, reminder_id) if status == "sent" else None
            if email_id is not None:
                deliver_now(app, session, email_id)
    if failures:
        raise failures[0]
    return outcomes


@handles(Job.SEND_REMINDER_NOW)
@huey.task()
def send_reminder_now(reminder_id: int) -> str:
    return _send_reminder(reminder_id, manual=True)


@huey.periodic_task(crontab(minute="30", hour="2"))
def recover_failed_reminders() -> int:
    with app_session() as (_, session):
        return dispatch.recover_failed(session)
