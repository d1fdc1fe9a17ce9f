"""Reminders: the minute dispatcher that claims due rows, one send per reminder, nightly recovery."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from huey import crontab

from app.queue import huey
from app.services.reminders import dispatch
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.email import deliver_batch
from app.tasks.registry import handles
from app.web.links import WebLinks

log = logging.getLogger(__name__)

# Claimed in batches of CLAIM_BATCH (one transaction each), sent SEND_BATCH to a task, up to
# MAX_PER_RUN per run and consumer. Besides the minute run, each run schedules three more at
# 15 s intervals: a reminder that falls due just after a run waits 15 s, not a minute.
CLAIM_BATCH = 500
SEND_BATCH = 100
MAX_PER_RUN = 10_000
DISPATCH_EVERY_SECONDS = 15


@huey.periodic_task(crontab(minute="*"))
def dispatch_reminders() -> int:
    """Claim due reminders and enqueue their sends in batches; safe when several consumers run
    it (each claim is a guarded UPDATE, SKIP LOCKED on PostgreSQL). Schedules the runs between
    this minute's and the next (lost with the queue, they only delay a reminder to the next
    minute's run)."""
    for delay in range(DISPATCH_EVERY_SECONDS, 60, DISPATCH_EVERY_SECONDS):
        dispatch_reminders_between.schedule(delay=delay)
    return _dispatch()


@huey.task()
def dispatch_reminders_between() -> int:
    return _dispatch()


def _dispatch() -> int:
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
    """Write the emails of claimed reminders in one transaction (`send_batch`), then deliver
    them over this worker's SMTP connection, each recorded at its own 250. A reminder whose
    email could not be prepared is retried alone (record_failure) and the others go on; should
    the batch itself fail, it was rolled back whole and the reminders are sent one by one, each
    committing on its own. The first failure is re-raised after the batch."""
    failures: list[Exception] = []
    with app_session() as (app, session):
        links = WebLinks(app)
        try:
            batch = dispatch.send_batch(session, reminder_ids, links)
        except Exception:
            log.warning("a batch of %s reminders failed; sending them one by one", len(reminder_ids),
                        exc_info=True)
            outcomes = _send_one_by_one(session, reminder_ids, links, failures)
        else:
            outcomes = batch.outcomes
            for reminder_id, exc in batch.failed.items():
                dispatch.record_failure(session, reminder_id, f"{type(exc).__name__}: {exc}")
                failures.append(exc)
                outcomes[reminder_id] = dispatch.Outcome("error")
        deliver_batch(app, session, [o.email_id for o in outcomes.values() if o.email_id is not None])
    if failures:
        raise failures[0]
    return dict(Counter(o.status for o in outcomes.values()))


def _send_one_by_one(session, reminder_ids: list[int], links: WebLinks,
                     failures: list[Exception]) -> dict[int, dispatch.Outcome]:
    outcomes = {}
    for reminder_id in reminder_ids:
        try:
            outcomes[reminder_id] = dispatch.send(session, reminder_id, links)
        except Exception as exc:  # recorded on the row; the caller re-raises after the batch
            dispatch.record_failure(session, reminder_id, f"{type(exc).__name__}: {exc}")
            failures.append(exc)
            outcomes[reminder_id] = dispatch.Outcome("error")
    return outcomes


@handles(Job.SEND_REMINDER_NOW)
@huey.task()
def send_reminder_now(reminder_id: int) -> str:
    return _send_reminder(reminder_id, manual=True)


@huey.periodic_task(crontab(minute="30", hour="2"))
def recover_failed_reminders() -> int:
    with app_session() as (_, session):
        return dispatch.recover_failed(session)
