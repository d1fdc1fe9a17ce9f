"""Work to enqueue once the current transaction commits.

Services name the job (a member of `Job`) and its row ids; `app.tasks` declares one Huey task
per job and enqueues them in an `after_commit` hook, so a rolled-back change never triggers
work, and a job is never seen by a worker before the row it reads. A job without a task fails
when `app.tasks` is imported, and a name that is not a `Job` fails at the call, never silently
in a worker.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

PENDING_KEY = "mais_jobs_after_commit"


class Job(StrEnum):
    SEND_EMAIL = "send_email"
    SEND_REMINDER_NOW = "send_reminder_now"
    PROCESS_STRIPE_EVENT = "process_stripe_event"
    CANCEL_CHECKOUT_INTENT = "cancel_checkout_intent"
    PROCESS_REFUND_PART = "process_refund_part"
    REFUND_PART_SUCCEEDED = "refund_part_succeeded"
    DELIVER_DOCUMENT = "deliver_document"
    ACTIVATE_AUTOPAY = "activate_autopay"
    CHARGE_AUTOPAY = "charge_autopay"


def after_commit(session: Session, job: Job, *args: object, eta: datetime | None = None) -> None:
    if not isinstance(job, Job):
        raise TypeError(f"unknown job {job!r}: name a member of app.services.shared.jobs.Job")
    session.info.setdefault(PENDING_KEY, []).append((job, args, eta))


def take_pending(session: Session) -> list[tuple[Job, tuple, datetime | None]]:
    return session.info.pop(PENDING_KEY, [])
