"""The declared map from `Job` (what services name) to the Huey task that does it, and the
SQLAlchemy hooks that enqueue a transaction's jobs after it commits (or drop them on rollback)."""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.services.shared import clock, jobs
from app.services.shared.jobs import Job

log = logging.getLogger(__name__)

JOBS: dict[Job, object] = {}


def handles(job: Job) -> Callable:
    """Register the decorated Huey task as the one that runs `job`."""

    def register(task):
        if job in JOBS:
            raise RuntimeError(f"job {job} already has a task")
        JOBS[job] = task
        return task

    return register


def check_registry() -> None:
    missing = [job.value for job in Job if job not in JOBS]
    if missing:
        raise RuntimeError(f"jobs without a task: {', '.join(missing)}")


def _enqueue_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT was released; the rows are not committed until the outer COMMIT
    for job, args, eta in jobs.take_pending(session):
        try:
            task = JOBS[job]
            if eta is None:
                task(*args)
            else:
                task.schedule(args, delay=max(0.0, (eta - clock.now()).total_seconds()))
        except Exception:  # the row is committed; the sweeper enqueues it later
            log.exception("could not enqueue %s%r; the sweeper will pick it up", job.value, args)


def _drop_on_rollback(session: Session) -> None:
    jobs.take_pending(session)


def install_job_hooks() -> None:
    if not event.contains(Session, "after_commit", _enqueue_after_commit):
        event.listen(Session, "after_commit", _enqueue_after_commit)
        event.listen(Session, "after_rollback", _drop_on_rollback)
