"""PostgreSQL connections in the pool (app/postgres.py): one that sat idle is checked before use
and replaced when the server has closed it; a busy one is not checked (a round trip per request
saved), so a server-side close is met by its next statement, after which the pool renews."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, exc

from app.postgres import ping_idle_connections
from tests.fixtures.environment import ENV

pytestmark = pytest.mark.skipif(not ENV.postgres, reason="needs PostgreSQL (set DATABASE_URL)")


def _engine(app, after_seconds: float):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    ping_idle_connections(engine, after_seconds)
    return engine


def _backend(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def _kill(pid: int) -> None:
    with psycopg.connect(ENV.admin_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]


def test_an_idle_connection_the_server_closed_is_replaced_before_use(app):
    engine = _engine(app, after_seconds=0)  # every checkout counts as idle
    try:
        first = _backend(engine)
        _kill(first)
        second = _backend(engine)  # no error: the check found it dead and the pool reconnected
        assert second != first
    finally:
        engine.dispose()


def test_a_busy_connection_is_not_checked_and_the_pool_renews_after_a_failed_statement(app):
    engine = _engine(app, after_seconds=3600)
    try:
        first = _backend(engine)
        _kill(first)
        with pytest.raises(exc.OperationalError), engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert _backend(engine) != first
    finally:
        engine.dispose()
