"""Unpaid holds expire and free their date; concurrent bookings of one date: exactly one wins."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.integration.bookings.helpers import book, future


def _status_and_slots(app, booking_id):
    from app.extensions import db
    from app.models import Booking, DateSlot

    with app.app_context():
        status = db.session.get(Booking, booking_id).status
        slots = db.session.scalars(select(DateSlot.id).where(DateSlot.booking_id == booking_id)).all()
        db.session.remove()
    return status, len(slots)


def test_unpaid_hold_expires_and_frees_the_date(app, shop, tenant_a):
    from app.extensions import db
    from app.services.bookings import availability
    from app.services.bookings import lifecycle as bookings
    from app.services.shared import clock

    day = future(app, tenant_a.tenant_id)
    held = book(app, tenant_a.tenant_id, shop.package_id, day)
    confirmed = book(app, tenant_a.tenant_id, shop.package_id, day + timedelta(days=1), initial_status="confirmed")
    with app.app_context():
        assert bookings.release_expired_holds(db.session) == 0  # not yet due
    clock.advance(timedelta(minutes=29))
    with app.app_context():
        assert bookings.release_expired_holds(db.session) == 0
    assert _status_and_slots(app, held) == ("pending_deposit", 1)
    clock.advance(timedelta(minutes=2))
    with app.app_context():
        assert bookings.release_expired_holds(db.session) == 1
        assert availability.date_problem(db.session, tenant_a.tenant_id, day) is None
        db.session.remove()
    assert _status_and_slots(app, held) == ("expired", 0)
    assert _status_and_slots(app, confirmed) == ("confirmed", 1)
    # The freed date can be booked again.
    assert book(app, tenant_a.tenant_id, shop.package_id, day, email="next@example.com")


def test_the_periodic_task_expires_holds_in_the_consumer(app, shop, tenant_a, consumer):
    from app.services.shared import clock
    from app.tasks.bookings import release_expired_holds

    held = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id))
    clock.advance(timedelta(minutes=31))
    release_expired_holds()  # enqueue the periodic task now instead of waiting for the minute
    deadline = time.monotonic() + 10  # Huey keeps no results of periodic tasks: watch the row
    while _status_and_slots(app, held) != ("expired", 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _status_and_slots(app, held) == ("expired", 0)


def test_hold_length_follows_the_tenants_setting(app, shop, tenant_a):
    from app.extensions import db
    from app.services.bookings import availability
    from app.services.bookings import lifecycle as bookings
    from app.services.shared import clock

    with app.app_context():
        availability.update_rules(db.session, tenant_a.tenant_id, tenant_a.user_id, {
            "capacity_per_day": 1, "min_notice_days": 1, "horizon_days": 730, "hold_minutes": 120,
            "reschedule_cutoff_days": 14})
    held = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id))
    clock.advance(timedelta(minutes=90))
    with app.app_context():
        assert bookings.release_expired_holds(db.session) == 0
    clock.advance(timedelta(minutes=31))
    with app.app_context():
        assert bookings.release_expired_holds(db.session) == 1
    assert _status_and_slots(app, held)[0] == "expired"


def test_capacity_two_takes_two_bookings_then_refuses(app, shop, tenant_a):
    from app.extensions import db
    from app.services.bookings import availability
    from app.services.shared.errors import DateTaken

    with app.app_context():
        availability.update_rules(db.session, tenant_a.tenant_id, tenant_a.user_id, {
            "capacity_per_day": 2, "min_notice_days": 1, "horizon_days": 730, "hold_minutes": 30,
            "reschedule_cutoff_days": 14})
    day = future(app, tenant_a.tenant_id)
    book(app, tenant_a.tenant_id, shop.package_id, day, email="one@example.com")
    book(app, tenant_a.tenant_id, shop.package_id, day, email="two@example.com")
    with pytest.raises(DateTaken) as err:
        book(app, tenant_a.tenant_id, shop.package_id, day, email="three@example.com")
    assert err.value.free_dates and day not in err.value.free_dates


def _race(app, tenant_id, package_id, day, n):
    from app.extensions import db
    from app.services.bookings import lifecycle as bookings
    from app.services.shared.errors import DateTaken
    from app.web.links import WebLinks

    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i):
        with app.app_context():
            request = bookings.BookingRequest(couple_names=f"Couple {i}", email=f"c{i}@example.com",
                                              event_date=day, venue="Hall", package_id=package_id)
            barrier.wait()
            try:
                bookings.create_booking(db.session, tenant_id, request, WebLinks(app))
                result = "won"
            except DateTaken as exc:
                result = "taken" if exc.free_dates else "taken-without-dates"
            except Exception as exc:  # anything else is a failure of the test
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(outcomes)


@pytest.mark.postgres
def test_concurrent_bookings_of_one_date_on_postgresql_one_wins(app, shop, tenant_a):
    from app.extensions import db
    from app.models import Booking, DateSlot

    day = future(app, tenant_a.tenant_id)
    for round_no in range(3):  # several rounds: a lucky interleaving must not hide a race
        target = day + timedelta(days=round_no * 7)
        outcomes = _race(app, tenant_a.tenant_id, shop.package_id, target, 6)
        assert outcomes == ["taken"] * 5 + ["won"], outcomes
        with app.app_context():
            live = db.session.scalars(select(Booking).where(Booking.event_date == target)).all()
            slots = db.session.scalars(select(DateSlot).where(DateSlot.event_date == target)).all()
            assert len(live) == 1 and len(slots) == 1 and slots[0].booking_id == live[0].id
            db.session.remove()


def test_ten_couples_rescheduling_to_a_date_of_capacity_two_fill_both_slots(app, shop, tenant_a):
    """Each couple follows its own reschedule link at the same moment: the date's two slots go
    to two of them (a couple that lost slot 1 takes slot 2), the others are told it is taken and
    keep their date and their link."""
    from app.extensions import db
    from app.models import Booking, DateSlot
    from app.services.bookings import actions, availability
    from app.services.shared.errors import DateTaken
    from app.web.links import WebLinks
    from tests.integration.bookings.helpers import outbox_links

    with app.app_context():
        availability.update_rules(db.session, tenant_a.tenant_id, tenant_a.user_id, {
            "capacity_per_day": 2, "min_notice_days": 1, "horizon_days": 730, "hold_minutes": 30,
            "reschedule_cutoff_days": 14})
    target = future(app, tenant_a.tenant_id, 200)
    n = 10
    couples = []
    for i in range(n):
        booking_id = book(app, tenant_a.tenant_id, shop.package_id,
                          future(app, tenant_a.tenant_id, 100 + i), email=f"r{i}@example.com")
        couples.append((booking_id, outbox_links(app)[-1]["reschedule"].rsplit("/", 2)[-2]))
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(token: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                actions.reschedule_by_link(db.session, tenant_a.tenant_id, token, target, WebLinks(app))
                result = "moved"
            except DateTaken as exc:
                result = "taken" if exc.free_dates else "taken-without-dates"
            except Exception as exc:  # anything else is a failure of the test
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(token,)) for _, token in couples]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["moved"] * 2 + ["taken"] * (n - 2), outcomes
    with app.app_context():
        moved = db.session.scalars(select(Booking.id).where(Booking.event_date == target)).all()
        slots = db.session.scalars(select(DateSlot).where(DateSlot.event_date == target)).all()
        assert sorted(s.slot_no for s in slots) == [1, 2]
        assert sorted(s.booking_id for s in slots) == sorted(moved)
        # Those told "taken" kept their date, their slot and their unused link.
        for booking_id, token in couples:
            if booking_id not in moved:
                assert actions.booking_for_link(db.session, tenant_a.tenant_id, token,
                                                "reschedule").id == booking_id
        assert len(db.session.scalars(select(DateSlot)).all()) == n
        db.session.remove()
