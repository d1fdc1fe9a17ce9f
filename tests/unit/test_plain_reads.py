"""Which statements a PostgreSQL page view may run outside a transaction (app/postgres.py): a
plain SELECT only; anything that writes, locks, sets a savepoint or moves a sequence begins one."""
import pytest

from app.postgres import is_plain_read


@pytest.mark.parametrize(("statement", "plain"), [
    ("SELECT 1", True),
    ("  select id from bookings", True),
    ("SELECT id FROM notes WHERE body = 'for update'", False),  # wary of text: a transaction costs little
    ("SELECT id FROM bookings FOR UPDATE", False),
    ("SELECT id FROM bookings FOR NO KEY UPDATE SKIP LOCKED", False),
    ("SELECT id FROM bookings\nFOR  SHARE", False),
    ("SELECT pg_advisory_xact_lock(1)", False),
    ("SELECT nextval('invoice_seq')", False),
    ("WITH x AS (UPDATE bookings SET status = 'x' RETURNING id) SELECT * FROM x", False),
    ("INSERT INTO t VALUES (1)", False),
    ("SAVEPOINT sa_savepoint_1", False),
])
def test_which_statements_may_run_outside_a_transaction(statement, plain):
    assert is_plain_read(statement) is plain
