"""SQLite as a shared database for web threads and queue workers (the embedded default).

pysqlite opens transactions lazily with a deferred BEGIN; two of them that both read and then
write deadlock, and SQLite answers the second with "database is locked" at once, whatever the
busy timeout. Beginning every transaction with BEGIN IMMEDIATE takes the write lock up front, so
writers queue (up to the busy timeout) instead of failing. WAL lets readers go on meanwhile.

A page view does not write, and under BEGIN IMMEDIATE it would hold the one write lock for the
whole request, rendering included: every worker's page views then run one at a time, and the
waiters sleep in SQLite's busy-handler steps (up to 100 ms each), which is where the long p99
came from. So a GET or HEAD request begins deferred (a WAL snapshot, no lock) unless its view is
marked `@writes` (app/web/transactions.py); everything else, jobs included, stays IMMEDIATE.
"""
from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.reads import read_only_request

log = logging.getLogger(__name__)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def serialize_writes(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # WAL + NORMAL is durable against application crashes; only an OS crash or power loss
        # may lose the last commits (SQLite's documented trade-off), for one fsync less per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        endpoint = read_only_request.get()
        connection.info["read_only"] = endpoint
        connection.exec_driver_sql("BEGIN" if endpoint else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _warn_on_unmarked_write(connection, _cursor, statement, *_args):
        endpoint = connection.info.get("read_only")
        if endpoint and statement.lstrip()[:7].upper().startswith(_WRITES):
            log.warning("%s writes during a GET without @writes; under load SQLite may answer "
                        "'database is locked'", endpoint)
            connection.info["read_only"] = None  # once per transaction
