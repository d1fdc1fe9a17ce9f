"""The dashboard's bookings: list, detail, manual booking, edit, status changes, calendar, catalog."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select

from tests.fixtures.portal import csrf_from, post_form
from tests.integration.bookings.helpers import book, booking_form, future, outbox_links


def _insert_bookings(app, tenant_id, package_id, count, start):
    """Bulk rows for list tests (no slots needed: the list does not read them)."""
    from app.extensions import db
    from app.models import Booking
    from app.services.shared import clock

    now = clock.now()
    statuses = ("pending_deposit", "confirmed", "paid_in_full", "completed", "canceled", "expired")
    rows = [dict(tenant_id=tenant_id, package_id=package_id, package_title="Gold", package_price_minor=1000,
                 total_minor=1000 + i, currency="USD", status=statuses[i % 6], couple_names=f"Couple {i:04d}",
                 email=f"c{i:04d}@example.com", phone="", event_date=start + timedelta(days=i % 400),
                 venue="Hall", notes="", source="dashboard", ics_sequence=0, created_at=now, updated_at=now)
            for i in range(count)]
    with app.app_context():
        db.session.execute(insert(Booking), rows)
        db.session.commit()
        db.session.remove()


def _count_statements(app, client, url) -> tuple[int, str]:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def test_bookings_list_runs_the_same_statements_for_100_and_1000_bookings(app, owner_client, shop, tenant_a):
    day = future(app, tenant_a.tenant_id)
    _insert_bookings(app, tenant_a.tenant_id, shop.package_id, 100, day)
    with_100, html = _count_statements(app, owner_client, "/dashboard/bookings")
    assert "100 bookings" in html
    _insert_bookings(app, tenant_a.tenant_id, shop.package_id, 900, day)
    with_1000, html = _count_statements(app, owner_client, "/dashboard/bookings")
    assert "1000 bookings" in html and "Page 1 of 20" in html
    assert with_100 == with_1000
    filtered_100, _ = _count_statements(app, owner_client, "/dashboard/bookings?status=confirmed&q=couple&page=3")
    assert filtered_100 == with_1000


def test_bookings_list_filters_searches_sorts_and_pages(app, owner_client, shop, tenant_a, tenant_b, shop_b):
    day = future(app, tenant_a.tenant_id)
    _insert_bookings(app, tenant_a.tenant_id, shop.package_id, 120, day)
    _insert_bookings(app, tenant_b.tenant_id, shop_b.package_id, 5, day)
    html = owner_client.get("/dashboard/bookings").get_data(as_text=True)
    assert "120 bookings" in html  # tenant B's rows are not counted
    html = owner_client.get("/dashboard/bookings?status=canceled").get_data(as_text=True)
    assert "20 bookings" in html
    html = owner_client.get("/dashboard/bookings?q=C0007%40EXAMPLE").get_data(as_text=True)
    assert "1 booking" in html and "Couple 0007" in html
    html = owner_client.get("/dashboard/bookings?q=100%25").get_data(as_text=True)
    assert "0 bookings" in html  # % is matched literally
    html = owner_client.get(f"/dashboard/bookings?from={day + timedelta(days=10)}&to={day + timedelta(days=19)}")
    assert "10 bookings" in html.get_data(as_text=True)
    html = owner_client.get("/dashboard/bookings?sort=total&dir=desc").get_data(as_text=True)
    assert html.index("Couple 0119") < html.index("Couple 0118")
    html = owner_client.get("/dashboard/bookings?sort=names&page=3").get_data(as_text=True)
    assert "Couple 0100" in html and "Couple 0099" not in html and "Page 3 of 3" in html
    fragment = owner_client.get("/dashboard/bookings?status=confirmed",
                                headers={"HX-Request": "true", "HX-Target": "booking-results"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="booking-results">') and "<html" not in body


def test_detail_shows_timeline_and_status_changes_follow_the_state_machine(app, owner_client, shop, tenant_a,
                                                                          consumer, inbox):
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id))
    url = f"/dashboard/bookings/{booking_id}"
    response = post_form(owner_client, url + "/status", {"to": "confirmed"}, get_url=url)
    assert response.status_code == 302
    inbox.wait_for("couple@example.com", subject="Booking confirmed")
    # Not allowed from confirmed: back to awaiting deposit, or expired.
    for bad in ("pending_deposit", "expired", "bogus"):
        response = post_form(owner_client, url + "/status", {"to": bad}, get_url=url)
        assert response.status_code == 302
        assert "cannot become" in owner_client.get(url).get_data(as_text=True)
    # Paid in full is not a button while money is due: recording the payments gets there.
    assert "Mark paid in full" not in owner_client.get(url).get_data(as_text=True)
    post_form(owner_client, url + "/status", {"to": "paid_in_full"}, get_url=url)
    assert "Stages are still due" in owner_client.get(url).get_data(as_text=True)
    settle_all_stages_offline(app, tenant_a, booking_id)
    post_form(owner_client, url + "/status", {"to": "completed"}, get_url=url)
    html = owner_client.get(url).get_data(as_text=True)
    assert "completed" in html and "Mark " not in html
    for action in ("created", "confirmed", "paid in full", "completed"):
        assert action in html


def settle_all_stages_offline(app, account, booking_id):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import PaymentStage
    from app.services.payments import recording as payments
    from app.web.links import WebLinks

    with app.app_context():
        ids = db.session.scalars(select(PaymentStage.id).where(PaymentStage.booking_id == booking_id)).all()
        payments.record_offline_payment(db.session, account.tenant_id, booking_id,
                                        payments.OfflinePayment(stage_ids=list(ids), method="cash"),
                                        WebLinks(app), actor_user_id=account.user_id)
        db.session.remove()


def test_invalid_transitions_raise_named_errors(app, shop, tenant_a):
    from app.extensions import db
    from app.services.bookings import status as status_buttons
    from app.services.shared.errors import InvalidTransition
    from app.web.links import WebLinks

    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id))
    with app.app_context():
        status_buttons.change_status(db.session, tenant_a.tenant_id, booking_id, "canceled", WebLinks(app),
                               actor_user_id=tenant_a.user_id)
        for to in ("confirmed", "pending_deposit", "completed", "canceled"):
            with pytest.raises(InvalidTransition):
                status_buttons.change_status(db.session, tenant_a.tenant_id, booking_id, to, WebLinks(app),
                                       actor_user_id=tenant_a.user_id)


def test_owner_creates_a_confirmed_booking_manually(app, owner_client, shop, tenant_a):
    from app.extensions import db
    from app.models import Booking

    day = future(app, tenant_a.tenant_id)
    data = booking_form(shop.package_id, day, initial_status="confirmed", add_on_ids=[str(shop.add_on_id)])
    response = post_form(owner_client, "/dashboard/bookings/new", data)
    assert response.status_code == 302
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert (booking.status, booking.source, booking.hold_expires_at, booking.total_minor) == (
            "confirmed", "dashboard", None, 280050)
    response = post_form(owner_client, "/dashboard/bookings/new", data)
    assert response.status_code == 409  # the date is taken now


def test_edit_changes_details_and_moves_the_date_without_cut_off(app, owner_client, shop, tenant_a):
    from app.extensions import db
    from app.models import Booking, DateSlot

    day = future(app, tenant_a.tenant_id, days=5)  # inside the couple's 14-day cut-off
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day, initial_status="confirmed")
    url = f"/dashboard/bookings/{booking_id}/edit"
    new_day = day + timedelta(days=1)
    data = {"couple_names": "Jo & Max", "email": "jo@example.com", "phone": "+1 555", "venue": "Barn",
            "event_date": new_day.isoformat(), "start_time": "14:00", "notes": "vegan"}
    assert post_form(owner_client, url, data).status_code == 302
    with app.app_context():
        b = db.session.get(Booking, booking_id)
        assert (b.couple_names, b.email, b.event_date, b.ics_sequence) == ("Jo & Max", "jo@example.com", new_day, 1)
        assert db.session.scalars(select(DateSlot.event_date)).all() == [new_day]
    assert len(outbox_links(app)) == 2  # confirmed + rescheduled
    bad = post_form(owner_client, url, {**data, "couple_names": "x" * 201})
    assert bad.status_code == 400
    with app.app_context():
        assert db.session.get(Booking, booking_id).couple_names == "Jo & Max"


def test_calendar_shows_live_bookings_of_the_month(app, owner_client, shop, tenant_a):
    day = future(app, tenant_a.tenant_id)
    live = book(app, tenant_a.tenant_id, shop.package_id, day, email="live@example.com")
    html = owner_client.get(f"/dashboard/calendar?month={day:%Y-%m}").get_data(as_text=True)
    assert f"/dashboard/bookings/{live}" in html
    from app.extensions import db
    from app.services.bookings import status as status_buttons
    from app.web.links import WebLinks
    with app.app_context():
        status_buttons.change_status(db.session, tenant_a.tenant_id, live, "canceled", WebLinks(app),
                               actor_user_id=tenant_a.user_id)
    html = owner_client.get(f"/dashboard/calendar?month={day:%Y-%m}").get_data(as_text=True)
    assert f"/dashboard/bookings/{live}" not in html


def test_catalog_inline_create_edit_and_deactivate_with_htmx(app, owner_client, tenant_a):
    from app.extensions import db
    from app.models import AddOn, Package

    hx = {"HX-Request": "true"}
    page = owner_client.get("/dashboard/catalog").get_data(as_text=True)
    csrf = csrf_from(page)
    response = owner_client.post("/dashboard/catalog/packages", headers={**hx, "X-CSRFToken": csrf},
                                 data={"title": "Gold", "price": "1,250.50", "description": "Full day"})
    assert response.status_code == 200 and "$1,250.50" in response.get_data(as_text=True)
    bad = owner_client.post("/dashboard/catalog/packages", headers={**hx, "X-CSRFToken": csrf},
                            data={"title": "Cheap", "price": "12.345"})
    assert bad.status_code == 400 and "at most 2 decimals" in bad.get_data(as_text=True)
    with app.app_context():
        package = db.session.scalars(select(Package)).one()
        assert (package.price_minor, package.currency) == (125050, "USD")
        package_id = package.id
    form = owner_client.get(f"/dashboard/catalog/packages/{package_id}/edit", headers=hx)
    assert 'value="1,250.50"' in form.get_data(as_text=True)
    row = owner_client.post(f"/dashboard/catalog/packages/{package_id}/edit", headers={**hx, "X-CSRFToken": csrf},
                            data={"title": "Gold+", "price": "1300", "description": ""})
    assert row.status_code == 200 and 'id="package-' in row.get_data(as_text=True)
    row = owner_client.post(f"/dashboard/catalog/packages/{package_id}/active",
                            headers={**hx, "X-CSRFToken": csrf}, data={"active": "0"})
    assert "Inactive" in row.get_data(as_text=True)
    response = owner_client.post("/dashboard/catalog/add-ons", headers={**hx, "X-CSRFToken": csrf},
                                 data={"title": "Album", "price": "99", "package_id": str(package_id)})
    assert response.status_code == 200 and "Gold+" in response.get_data(as_text=True)
    with app.app_context():
        package = db.session.get(Package, package_id)
        add_on = db.session.scalars(select(AddOn)).one()
        assert (package.title, package.price_minor, package.active) == ("Gold+", 130000, False)
        assert (add_on.package_id, add_on.price_minor) == (package_id, 9900)


def test_zero_decimal_currency_prices(app, make_account):
    from app.extensions import db
    from app.services.bookings import catalog
    from app.services.shared.errors import ValidationFailed

    account = make_account("sakura", currency="JPY", timezone="Asia/Tokyo")
    with app.app_context():
        package = catalog.save_package(db.session, account.tenant_id, account.user_id, title="Garden",
                                       description="", price_text="480000")
        assert (package.price_minor, package.currency) == (480000, "JPY")
        with pytest.raises(ValidationFailed):
            catalog.save_package(db.session, account.tenant_id, account.user_id, title="X", description="",
                                 price_text="100.5")


def test_availability_rules_and_blackouts_from_the_dashboard(app, owner_client, shop, tenant_a, client):
    from app.extensions import db
    from app.models import BlackoutDate

    day = future(app, tenant_a.tenant_id)
    response = post_form(owner_client, "/dashboard/availability/blackouts", {"day": day.isoformat(), "reason": "x"},
                         get_url="/dashboard/availability")
    assert response.status_code == 302
    assert 'data-available="no"' in client.get(f"/t/alpha/availability?event_date={day}").get_data(as_text=True)
    response = post_form(owner_client, "/dashboard/availability", {
        "capacity_per_day": "2", "min_notice_days": "0", "horizon_days": "30", "hold_minutes": "60",
        "reschedule_cutoff_days": "7"})
    assert response.status_code == 302
    far = client.get(f"/t/alpha/availability?event_date={day}").get_data(as_text=True)
    assert "up to" in far  # beyond the new 30-day horizon
    bad = post_form(owner_client, "/dashboard/availability", {
        "capacity_per_day": "0", "min_notice_days": "0", "horizon_days": "30", "hold_minutes": "60",
        "reschedule_cutoff_days": "7"})
    assert bad.status_code == 400
    with app.app_context():
        blackout_id = db.session.scalars(select(BlackoutDate.id)).one()
    response = post_form(owner_client, f"/dashboard/availability/blackouts/{blackout_id}/delete", {},
                         get_url="/dashboard/availability")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(BlackoutDate)).all() == []
