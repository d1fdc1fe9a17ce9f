"""Migration 0020: past-due rules for existing tenants, and a round trip, on a database of its own
(SQLite, or PostgreSQL when DATABASE_URL is set)."""
import secrets
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.fixtures.environment import ENV
from tests.integration.bookings.helpers import book, future, make_catalog

BEFORE, AFTER = "0019_vendor_notifications", "0020_past_due_reminders"


@pytest.fixture()
def own_app(app, tmp_path):
    """An app on an empty database of its own, migrated to the heads."""
    import flask_migrate

    from app import create_app
    from app.config import sqlalchemy_url
    from app.extensions import db

    if ENV.postgres:
        import psycopg

        name = f"mais_mig_{secrets.token_hex(4)}"
        with psycopg.connect(ENV.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(ENV.admin_url)._replace(path=f"/{name}"))
    else:
        name, url = None, f"sqlite:///{tmp_path / 'migrations.db'}"
    other = create_app({**{k: app.config[k] for k in ("TESTING", "SMTP_URL", "RATELIMIT_STORAGE_URI")},
                        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url), "SERVER_NAME": None})
    with other.app_context():
        flask_migrate.upgrade(revision="heads")
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
        if name:
            with psycopg.connect(ENV.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sql(app, statement: str, **params):
    from app.extensions import db

    with app.app_context():
        try:
            rows = db.session.execute(text(statement), params)
            result = rows.all() if rows.returns_rows else rows.rowcount
            db.session.commit()
            return result
        finally:
            db.session.remove()


def _migrate(app, action: str, revision: str) -> None:
    import flask_migrate

    with app.app_context():
        getattr(flask_migrate, action)(revision=revision)


def past_due_rules(app) -> Counter:
    return Counter((t, o, str(at)[:5]) for t, o, at in _sql(
        app, "SELECT tenant_id, offset_days, send_time FROM reminder_rules WHERE kind = 'past_due'"))


def test_upgrade_gives_tenants_with_rules_the_past_due_rules_once_and_downgrade_removes_them(own_app):
    from app.extensions import db
    from app.services.accounts import users as accounts

    with own_app.app_context():
        users = [accounts.signup(db.session, business_name=f"Vendor {i}", slug=f"vendor-{i}",
                                 timezone="Europe/Berlin", currency="EUR",
                                 email_addr=f"owner{i}@vendor.example", password="migrate-password-1",
                                 owner_name="Owner") for i in range(3)]
        (t1, u1), (t2, _), (t3, _) = [(u.tenant_id, u.id) for u in users]
        db.session.remove()
    # Tenant 1 has a confirmed booking with past-due reminders planned for its open stages.
    shop = make_catalog(own_app, t1, u1)
    book(own_app, t1, shop.package_id, future(own_app, t1, 90), actor="user", actor_user_id=u1,
         initial_status="confirmed")
    assert _sql(own_app, "SELECT count(*) FROM reminders WHERE kind = 'past_due'")[0][0] > 0

    _migrate(own_app, "downgrade", BEFORE)
    assert past_due_rules(own_app) == Counter()
    assert _sql(own_app, "SELECT count(*) FROM reminders WHERE kind = 'past_due'")[0][0] == 0
    assert _sql(own_app, "SELECT count(*) FROM reminders")[0][0] > 0  # the other kinds stay
    with pytest.raises(IntegrityError):  # the old CHECK is back
        _sql(own_app, "UPDATE reminder_rules SET kind = 'past_due' WHERE tenant_id = :t", t=t2)
    # Tenant 3 has no rules (it gets every default when its reminders are first planned).
    _sql(own_app, "DELETE FROM reminder_rules WHERE tenant_id = :t", t=t3)

    _migrate(own_app, "upgrade", AFTER)
    expected = Counter({(t, o, "10:00"): 1 for t in (t1, t2) for o in (3, 10)})
    assert past_due_rules(own_app) == expected
    # Run again over rules already there (as after a restored backup): nothing is added twice.
    _migrate(own_app, "stamp", BEFORE)
    _migrate(own_app, "upgrade", AFTER)
    assert past_due_rules(own_app) == expected
    assert _sql(own_app, "SELECT count(*) FROM reminder_rules WHERE tenant_id = :t", t=t3)[0][0] == 0
    # The new CHECK holds: past_due is accepted, an unknown kind is not.
    _sql(own_app, "UPDATE reminder_rules SET kind = 'past_due' WHERE tenant_id = :t AND kind = 'after_event'",
         t=t2)
    with pytest.raises(IntegrityError):
        _sql(own_app, "UPDATE reminders SET kind = 'overdue' WHERE tenant_id = :t", t=t1)

    _migrate(own_app, "downgrade", BEFORE)
    assert past_due_rules(own_app) == Counter()
    _migrate(own_app, "upgrade", "heads")
    assert past_due_rules(own_app) == expected
