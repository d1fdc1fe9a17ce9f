"""Reminders are rows scheduled at the right UTC moments, and follow the booking's life."""
from datetime import UTC, datetime, time, timedelta

from app.services.reminders.times import resolve_local
from tests.integration.reminders.conftest import reminders_of


def test_confirming_schedules_the_default_reminders_at_local_wall_times(app, db_session, confirmed):
    from app.models import Booking

    booking_id = confirmed(days=30)
    booking = db_session.get(Booking, booking_id)
    rows = reminders_of(db_session, booking_id)
    got = [(r.kind, r.local_date, r.local_time, r.due_at, r.status) for r in rows]
    ny = "America/New_York"
    d = booking.event_date
    def expect(kind, days, at):
        day = d + timedelta(days=days)
        return (kind, day, at, resolve_local(day, at, ny), "scheduled")

    assert got == [expect("before_event", -3, time(10)), expect("before_event", -1, time(14)),
                   expect("after_event", 1, time(10))]
    assert all(r.timezone == ny and r.tenant_id == booking.tenant_id for r in rows)


def test_a_pending_booking_has_no_reminders(app, db_session, tenant_a, shop):
    from tests.integration.bookings.helpers import book, future

    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, 30))
    assert reminders_of(db_session, booking_id) == []


def test_reschedule_moves_the_reminders_and_cancel_cancels_them(app, db_session, tenant_a, confirmed):
    from app.extensions import db
    from app.services.bookings import lifecycle as bookings
    from app.services.bookings import status as status_buttons
    from app.web.links import WebLinks

    booking_id = confirmed(days=30)
    before = {r.key: r.due_at for r in reminders_of(db_session, booking_id)}
    with app.app_context():
        booking = bookings.get_booking(db.session, tenant_a.tenant_id, booking_id)
        new_date = booking.event_date + timedelta(days=10)
        bookings.reschedule(db.session, booking, new_date, WebLinks(app), actor="user",
                            actor_user_id=tenant_a.user_id, enforce_cutoff=False)
    after = {r.key: r.due_at for r in reminders_of(db_session, booking_id)}
    assert after.keys() == before.keys()
    assert all(after[k] - before[k] in (timedelta(days=10), timedelta(days=10, hours=1),
                                        timedelta(days=10, hours=-1)) for k in after)
    with app.app_context():
        status_buttons.change_status(db.session, tenant_a.tenant_id, booking_id, "canceled", WebLinks(app),
                               actor_user_id=tenant_a.user_id)
    rows = reminders_of(db_session, booking_id)
    assert {r.status for r in rows} == {"canceled"}
    assert all(r.skip_reason == "booking canceled" for r in rows)


def test_a_timezone_change_recomputes_utc_but_keeps_the_wall_time(app, db_session, tenant_a, confirmed):
    from app.extensions import db
    from app.services.accounts import tenants

    booking_id = confirmed(days=30)
    with app.app_context():
        tenants.update_settings(db.session, tenant_a.tenant_id, tenant_a.user_id,
                                {"timezone": "Asia/Kathmandu"})
    rows = reminders_of(db_session, booking_id)
    assert rows[0].local_time == time(10) and rows[0].timezone == "Asia/Kathmandu"
    assert rows[0].due_at == datetime.combine(rows[0].local_date, time(4, 15), tzinfo=UTC)


def test_rules_added_or_disabled_apply_to_live_bookings(app, db_session, tenant_a, confirmed):
    from app.extensions import db
    from app.services.reminders import dispatch as reminders

    booking_id = confirmed(days=30)
    with app.app_context():
        rule = reminders.add_rule(db.session, tenant_a.tenant_id, tenant_a.user_id, "before_event", 14, time(9))
        rule_id = rule.id
    keys = {r.key: r.status for r in reminders_of(db_session, booking_id)}
    assert keys[f"{rule_id}:0"] == "scheduled" and len(keys) == 4
    with app.app_context():
        reminders.set_rule_active(db.session, tenant_a.tenant_id, tenant_a.user_id, rule_id, False)
    keys = {r.key: r.status for r in reminders_of(db_session, booking_id)}
    assert keys[f"{rule_id}:0"] == "canceled"


def test_a_late_confirmation_skips_moments_already_gone(app, db_session, confirmed):
    booking_id = confirmed(days=2)  # the 3-days-before reminder is already in the past
    kinds = [(r.kind, r.local_time) for r in reminders_of(db_session, booking_id)]
    assert ("before_event", time(10)) not in kinds and ("before_event", time(14)) in kinds


def test_a_rule_turned_back_on_schedules_its_reminders_again(app, db_session, tenant_a, confirmed):
    from app.extensions import db
    from app.services.reminders import dispatch as reminders

    booking_id = confirmed(days=30)
    rule_id = int(reminders_of(db_session, booking_id)[0].key.split(":")[0])
    with app.app_context():
        reminders.set_rule_active(db.session, tenant_a.tenant_id, tenant_a.user_id, rule_id, False)
        reminders.set_rule_active(db.session, tenant_a.tenant_id, tenant_a.user_id, rule_id, True)
    keys = {r.key: r.status for r in reminders_of(db_session, booking_id)}
    assert keys[f"{rule_id}:0"] == "scheduled"


def test_a_reschedule_back_out_of_the_past_schedules_the_reminder_again(app, db_session, tenant_a,
                                                                        confirmed):
    from app.extensions import db
    from app.services.bookings import lifecycle as bookings
    from app.web.links import WebLinks
    from tests.integration.bookings.helpers import future

    booking_id = confirmed(days=30)
    three_days = reminders_of(db_session, booking_id)[0]
    assert (three_days.kind, three_days.local_time) == ("before_event", time(10))
    # First inside the 3 days (the reminder is gone), then well ahead again.
    for day in (future(app, tenant_a.tenant_id, 2), future(app, tenant_a.tenant_id, 40)):
        with app.app_context():
            booking = bookings.get_booking(db.session, tenant_a.tenant_id, booking_id)
            bookings.reschedule(db.session, booking, day,
                                WebLinks(app), actor="user", actor_user_id=tenant_a.user_id,
                                enforce_cutoff=False)
    row = {r.key: r for r in reminders_of(db_session, booking_id)}[three_days.key]
    assert row.status == "scheduled"
    assert row.local_date == future(app, tenant_a.tenant_id, 40) - timedelta(days=3)
