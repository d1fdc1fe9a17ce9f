"""On PostgreSQL a page view reads without BEGIN and ROLLBACK around its statements
(app/postgres.py), while anything that writes, locks or sets a savepoint still runs in one
transaction: observed in the wire protocol (libpq's trace of what the client sends)."""
from __future__ import annotations

import re
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from app.postgres import read_without_transactions
from app.reads import read_only_request
from tests.fixtures.environment import ENV
from tests.fixtures.portal import csrf_from

pytestmark = pytest.mark.skipif(not ENV.postgres, reason="needs PostgreSQL (set DATABASE_URL)")
MESSAGE = re.compile(r"^(?=[FB]\t\d+\t)", re.MULTILINE)


@contextmanager
def traced(engine, path):
    """Every query the engine's connections send while the block runs, in order."""
    sink = open(path, "w")  # noqa: SIM115 - libpq writes to its descriptor until untraced

    def _checkout(dbapi_connection, _record, _proxy):
        dbapi_connection.pgconn.trace(sink.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _checkin(dbapi_connection, _record):
        if dbapi_connection is not None:
            dbapi_connection.pgconn.untrace()

    event.listen(engine, "checkout", _checkout)
    event.listen(engine, "checkin", _checkin)
    sent: list[str] = []
    try:
        yield sent
    finally:
        event.remove(engine, "checkout", _checkout)
        event.remove(engine, "checkin", _checkin)
        sink.close()
        with open(path) as trace:
            sent.extend(_queries(trace.read()))


def _queries(trace: str) -> list[str]:
    """The SQL of each simple query and each statement parsed, from libpq's trace."""
    found = []
    for message in MESSAGE.split(trace):
        direction, _length, kind, rest = (message.split("\t", 3) + ["", "", "", ""])[:4]
        if direction == "F" and kind in ("Query", "Parse"):
            rest = rest.removeprefix(' "" ') if kind == "Parse" else rest
            found.append(rest[rest.index('"') + 1:rest.rindex('"')])
    return found


def _controls(sent: list[str]) -> list[str]:
    return [s.split()[0].upper() for s in sent
            if s.split()[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT")]


def test_a_page_view_sends_its_reads_without_begin_or_rollback(app, owner_client, tmp_path):
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    with traced(engine, tmp_path / "get.trace") as sent:
        response = owner_client.get("/dashboard/bookings")
    assert response.status_code == 200
    assert any(s.lstrip().upper().startswith("SELECT") for s in sent), sent
    assert _controls(sent) == [], sent


def test_a_form_post_still_commits_in_one_transaction(app, owner_client, tmp_path):
    from app.extensions import db

    page = owner_client.get("/dashboard/calendar").get_data(as_text=True)
    with app.app_context():
        engine = db.engine
    with traced(engine, tmp_path / "post.trace") as sent:
        response = owner_client.post("/dashboard/calendar/feed", data={"csrf_token": csrf_from(page)})
    assert response.status_code in (200, 302)
    controls = _controls(sent)
    assert controls[0] == "BEGIN" and "COMMIT" in controls, sent
    first_write = next(i for i, s in enumerate(sent) if s.split()[0].upper() in ("INSERT", "UPDATE"))
    assert sent.index("BEGIN") < first_write


@pytest.fixture()
def reading(app):
    """An engine set up like the app's, a probe table, and a read-only request in progress."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    read_without_transactions(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE autocommit_probe (id integer PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO autocommit_probe VALUES (1)")
    token = read_only_request.set("test.read_only")
    try:
        yield engine
    finally:
        read_only_request.reset(token)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE autocommit_probe")
        engine.dispose()


def _url(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _ids(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM autocommit_probe ORDER BY id")).scalars())


def test_writes_during_a_read_only_request_still_roll_back_together(reading, tmp_path):
    with traced(reading, tmp_path / "w.trace") as sent, Session(reading) as session:
        assert session.execute(text("SELECT count(*) FROM autocommit_probe")).scalar() == 1
        session.execute(text("INSERT INTO autocommit_probe VALUES (2)"))
        session.execute(text("INSERT INTO autocommit_probe VALUES (3)"))
        session.rollback()
    assert _ids(reading) == [1]
    # The read went alone; BEGIN came just before the first write.
    assert sent[:3] == ["SELECT count(*) FROM autocommit_probe", "BEGIN",
                        "INSERT INTO autocommit_probe VALUES (2)"], sent
    assert sent[-1] == "ROLLBACK"


def test_writes_during_a_read_only_request_commit_and_the_next_request_reads_alone_again(reading, tmp_path):
    with Session(reading) as session:
        session.execute(text("INSERT INTO autocommit_probe VALUES (2)"))
        session.commit()
    assert _ids(reading) == [1, 2]
    with traced(reading, tmp_path / "r.trace") as sent, Session(reading) as session:
        session.execute(text("SELECT id FROM autocommit_probe")).all()
    assert _controls(sent) == [], sent


def test_a_savepoint_during_a_read_only_request_works_as_in_a_transaction(reading):
    with Session(reading) as session:
        session.execute(text("SELECT id FROM autocommit_probe")).all()
        with session.begin_nested():
            session.execute(text("INSERT INTO autocommit_probe VALUES (2)"))
        nested = session.begin_nested()
        session.execute(text("INSERT INTO autocommit_probe VALUES (3)"))
        nested.rollback()
        session.commit()
    assert _ids(reading) == [1, 2]


def test_a_row_lock_taken_while_reading_is_held_until_the_transaction_ends(reading):
    with Session(reading) as session:
        session.execute(text("SELECT id FROM autocommit_probe WHERE id = 1 FOR UPDATE")).all()
        with psycopg.connect(_url(reading), autocommit=True) as other, \
                pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("SELECT id FROM autocommit_probe WHERE id = 1 FOR UPDATE NOWAIT")
        session.rollback()
    with psycopg.connect(_url(reading), autocommit=True) as other:
        assert other.execute("SELECT id FROM autocommit_probe WHERE id = 1 FOR UPDATE NOWAIT").fetchone()


def test_outside_a_read_only_request_reads_begin_a_transaction_as_before(reading, tmp_path):
    read_only_request.set(None)
    with traced(reading, tmp_path / "j.trace") as sent, Session(reading) as session:
        session.execute(text("SELECT id FROM autocommit_probe")).all()
    assert _controls(sent) == ["BEGIN", "ROLLBACK"], sent
