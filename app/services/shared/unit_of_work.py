"""One transaction per use case: do the change, commit, or roll back and re-raise.

    with committing(session):
        ...change rows, raise a DomainError to refuse...

Any exception inside the block (a refusal, a constraint violated at flush or at COMMIT) rolls
the whole change back, so jobs queued with `jobs.after_commit` are dropped and nothing half-done
is left for the next use of the session; the exception reaches the caller unchanged.

Explicit `session.commit()` stays only where an external call (Stripe, SMTP) must happen between
two transactions, so that no transaction (on SQLite: no write lock) is held while we wait.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
