"""SQLite as a shared database for web threads and queue workers (the embedded default).

pysqlite opens transactions lazily with a deferred BEGIN; two of them that both read and then
write deadlock, and SQLite answers the second with "database is locked" at once, whatever the
busy timeout. Beginning every transaction with BEGIN IMMEDIATE takes the write lock up front, so
writers queue (up to the busy timeout) instead of failing. WAL lets readers go on meanwhile.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def serialize_writes(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
