"""PostgreSQL connections: checked before use only after they have sat idle, and a request that
only reads runs its statements without a transaction around them.

`pool_pre_ping` checks every connection at every checkout: one more round trip per request,
which profiling put at half the cost of a stored page (app/web/page_cache.py). A connection
checked in a moment ago is almost never dead; one idle for longer may have been closed by the
server, a restart, a firewall or a pooler's idle timeout. So a connection idle for more than
DATABASE_PING_AFTER_SECONDS (10) is pinged when it is checked out, and replaced (the pool
retries with a fresh one) if the ping fails; a busy one is not. A server restart while
connections are busy is noticed by the first statement on each of them, which fails, and
SQLAlchemy then replaces the pool's connections.

A transaction costs two round trips besides its statements: psycopg sends BEGIN before the first
statement and the request's end sends ROLLBACK. For a stored page (app/web/page_cache.py), which
is one statement, that tripled the database time. So a GET or HEAD request whose view is not
marked `@writes` (app/web/transactions.py) reads in autocommit: under READ COMMITTED, PostgreSQL's
default and ours, every statement takes its own snapshot either way, so the reads see the same
rows. The first statement that is not a plain read (a write, a SAVEPOINT, a row or advisory lock,
a sequence) switches the connection back before it runs, so psycopg begins a transaction for it
and what follows, and commit and rollback behave as in any other request.
"""
from __future__ import annotations

import re
import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

from app.reads import read_only_request

_CHECKED_IN = "mais_checked_in_at"
_AUTOCOMMIT_READS = "mais_autocommit_reads"
_PLAIN_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_NOT_PLAIN = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b"
                        r"|\bpg_advisory|\bnextval\s*\(|\bsetval\s*\(", re.IGNORECASE)


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


def is_plain_read(statement: str) -> bool:
    """A SELECT that neither locks nor moves a sequence: the same outside a transaction."""
    return bool(_PLAIN_READ.match(statement)) and not _NOT_PLAIN.search(statement)


def read_without_transactions(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return

    def _end_autocommit(record_info, dbapi_connection) -> None:
        if record_info.pop(_AUTOCOMMIT_READS, False) and dbapi_connection is not None:
            dbapi_connection.autocommit = False  # idle: no statement of ours is running

    @event.listens_for(engine, "begin")
    def _begin(connection):
        dbapi_connection = connection.connection.dbapi_connection
        if read_only_request.get() and not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True
            connection.connection.info[_AUTOCOMMIT_READS] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection, _cursor, statement, *_args):
        info = connection.connection.info
        if info.get(_AUTOCOMMIT_READS) and not is_plain_read(statement):
            _end_autocommit(info, connection.connection.dbapi_connection)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection):
        _end_autocommit(connection.connection.info, connection.connection.dbapi_connection)

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record):
        _end_autocommit(record.info, dbapi_connection)
