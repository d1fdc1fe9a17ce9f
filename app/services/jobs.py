"""Work to enqueue once the current transaction commits.

Services name the job and its row ids; `app/tasks.py` maps names to Huey tasks and enqueues them
in an `after_commit` hook, so a rolled-back change never triggers work, and a job is never seen
by a worker before the row it reads.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

PENDING_KEY = "mais_jobs_after_commit"


def after_commit(session: Session, job: str, *args: object, eta: datetime | None = None) -> None:
    session.info.setdefault(PENDING_KEY, []).append((job, args, eta))


def take_pending(session: Session) -> list[tuple[str, tuple, datetime | None]]:
    return session.info.pop(PENDING_KEY, [])
