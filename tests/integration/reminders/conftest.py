from __future__ import annotations

import time as _time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.integration.bookings.helpers import book, future, make_catalog


@pytest.fixture()
def shop(app, tenant_a):
    return make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)


def set_payment_rules(app, tenant_id: int, user_id: int, active: bool) -> None:
    """Turn the tenant's payment reminder rules (balance due, past due) on or off."""
    from app.extensions import db
    from app.models.reminder import STAGE_KINDS
    from app.services.reminders import dispatch as reminders

    with app.app_context():
        for rule in reminders.rules(db.session, tenant_id):
            if rule.kind in STAGE_KINDS:
                reminders.set_rule_active(db.session, tenant_id, user_id, rule.id, active)
        db.session.remove()


@pytest.fixture()
def confirmed(app, tenant_a, shop):
    """Book-and-confirm factory: returns the booking id of a confirmed booking `days` ahead.

    Payment reminders (balance due, past due) are off unless `balance=True` on the first call, so
    the event reminders under test are the only ones due (payment reminders have tests of their
    own)."""
    state = {"first": True}

    def make(days: int = 30, email: str = "couple@example.com", balance: bool = False, **kwargs) -> int:
        if state["first"]:
            state["first"] = False
            if not balance:
                set_payment_rules(app, tenant_a.tenant_id, tenant_a.user_id, False)
        return book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, days),
                    email=email, actor="user", actor_user_id=tenant_a.user_id,
                    initial_status="confirmed", **kwargs)

    return make


def reminders_of(db_session, booking_id):
    from app.models import Reminder

    db_session.expire_all()
    return db_session.scalars(select(Reminder).where(Reminder.booking_id == booking_id)
                              .order_by(Reminder.due_at)).all()


def wait_until(predicate, timeout=15.0, message="condition"):
    deadline = _time.monotonic() + timeout
    while _time.monotonic() < deadline:
        if predicate():
            return
        _time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


def at(moment, plus=timedelta(0)):
    from app.services.shared import clock

    clock.travel(moment + plus)
