"""Reminders: the minute dispatcher that claims due rows, one send per reminder, nightly recovery."""
from __future__ import annotations

from datetime import timedelta

from huey import crontab

from app.queue import huey
from app.services.reminders import dispatch
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.registry import handles
from app.web.links import WebLinks


@huey.periodic_task(crontab(minute="*"))
def dispatch_reminders() -> int:
    """Claim due reminders and enqueue one send each; safe when several consumers run it."""
    with app_session() as (app, session):
        claimed = dispatch.claim_due(
            session, stuck_after=timedelta(seconds=app.config["REMINDER_STUCK_AFTER_SECONDS"]))
    for reminder_id in claimed:
        send_reminder(reminder_id)
    return len(claimed)


def _send_reminder(reminder_id: int, manual: bool) -> str:
    with app_session() as (app, session):
        try:
            return dispatch.send(session, reminder_id, WebLinks(app), manual=manual).status
        except Exception as exc:
            dispatch.record_failure(session, reminder_id, f"{type(exc).__name__}: {exc}")
            raise


@huey.task()
def send_reminder(reminder_id: int) -> str:
    return _send_reminder(reminder_id, manual=False)


@handles(Job.SEND_REMINDER_NOW)
@huey.task()
def send_reminder_now(reminder_id: int) -> str:
    return _send_reminder(reminder_id, manual=True)


@huey.periodic_task(crontab(minute="30", hour="2"))
def recover_failed_reminders() -> int:
    with app_session() as (_, session):
        return dispatch.recover_failed(session)
