"""PostgreSQL connections in the pool: checked before use only after they have sat idle.

`pool_pre_ping` checks every connection at every checkout: one more round trip per request,
which profiling put at half the cost of a stored page (app/web/page_cache.py). A connection
checked in a moment ago is almost never dead; one idle for longer may have been closed by the
server, a restart, a firewall or a pooler's idle timeout. So a connection idle for more than
DATABASE_PING_AFTER_SECONDS (10) is pinged when it is checked out, and replaced (the pool
retries with a fresh one) if the ping fails; a busy one is not. A server restart while
connections are busy is noticed by the first statement on each of them, which fails, and
SQLAlchemy then replaces the pool's connections.
"""
from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_CHECKED_IN = "mais_checked_in_at"


def ping_idle_connections(engine: Engine, after_seconds: float) -> None:
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        since = record.info.get(_CHECKED_IN)
        if since is not None and time.monotonic() - since <= after_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means: do not use this one
            raise exc.DisconnectionError("idle connection failed its check") from error
