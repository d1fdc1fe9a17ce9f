"""The public booking page: a couple books, the date is held, bad input writes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.fixtures.portal import post_form
from tests.fixtures.smtp import text_of
from tests.integration.bookings.helpers import book, booking_form, future, local_today, make_catalog


def _count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return n


def test_page_lists_active_packages_with_formatted_prices(client, shop, app, tenant_a):
    from app.extensions import db
    from app.services.bookings import catalog

    with app.app_context():
        catalog.set_package_active(db.session, tenant_a.tenant_id, tenant_a.user_id, shop.other_package_id, False)
    html = client.get("/t/alpha/").get_data(as_text=True)
    assert "Gold · $2,500.00" in html
    assert "Silver" not in html
    assert "Album · +$300.50" in html


def test_unknown_tenant_is_404(client):
    assert client.get("/t/nobody/").status_code == 404
    assert client.get("/t/nobody/availability?event_date=2030-01-01").status_code == 404


def test_booking_holds_the_date_copies_prices_and_emails_the_couple(client, shop, app, tenant_a, consumer,
                                                                    inbox):
    from app.extensions import db
    from app.models import Booking, DateSlot

    day = future(app, tenant_a.tenant_id)
    response = post_form(client, "/t/alpha/", booking_form(
        shop.other_package_id, day, add_on_ids=[str(shop.add_on_id), str(shop.package_add_on_id)],
        start_time="15:30", notes="Line one\nline two"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    # The flow continues to the deposit checkout (tests/integration/payments cover it).
    assert response.headers["Location"].startswith("/t/alpha/pay/")
    received = client.get("/t/alpha/received").get_data(as_text=True)
    assert "Booking received" in received and "$1,599.50" in received

    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert booking.status == "pending_deposit" and booking.tenant_id == tenant_a.tenant_id
        assert (booking.package_price_minor, booking.total_minor, booking.currency) == (120000, 159950, "USD")
        assert sorted(a.price_minor for a in booking.add_ons) == [9900, 30050]
        assert booking.hold_expires_at is not None
        assert db.session.scalars(select(DateSlot.event_date)).all() == [day]

    msg = inbox.wait_for("couple@example.com", subject="Booking received")[0]
    assert "Alpha" in msg["Subject"] and "/t/alpha/b/" in text_of(msg)
    calendar = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    content = calendar[0].get_content()
    content = content if isinstance(content, str) else content.decode()
    assert len(calendar) == 1 and "DTSTART;VALUE=DATE:" + day.strftime("%Y%m%d") in content
    # The catalog changing later does not change what was agreed.
    from app.services.bookings import catalog
    with app.app_context():
        catalog.save_package(db.session, tenant_a.tenant_id, tenant_a.user_id, title="Silver", description="",
                             price_text="5000", package_id=shop.other_package_id)
        assert db.session.scalars(select(Booking.total_minor)).one() == 159950


def test_availability_fragment_reports_taken_dates_and_nearby_free_ones(client, shop, app, tenant_a):
    day = future(app, tenant_a.tenant_id)
    html = client.get(f"/t/alpha/availability?event_date={day}").get_data(as_text=True)
    assert 'data-available="yes"' in html
    book(app, tenant_a.tenant_id, shop.package_id, day)
    html = client.get(f"/t/alpha/availability?event_date={day}").get_data(as_text=True)
    assert 'data-available="no"' in html and "already booked" in html
    assert (day + timedelta(days=1)).isoformat() in html


def test_a_taken_date_answers_409_with_nearby_free_dates(client, shop, app, tenant_a):
    from app.models import Booking

    day = future(app, tenant_a.tenant_id)
    book(app, tenant_a.tenant_id, shop.package_id, day)
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, day, email="late@example.com"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "no longer available" in html and (day - timedelta(days=1)).isoformat() in html
    assert _count(app, Booking) == 1


BAD = {
    "past date": lambda c, d: {"event_date": (d - timedelta(days=1)).isoformat()},
    "today within notice": lambda c, d: {"event_date": d.isoformat()},
    "beyond the horizon": lambda c, d: {"event_date": (d + timedelta(days=800)).isoformat()},
    "not a date": lambda c, d: {"event_date": "31/12/2030"},
    "no package": lambda c, d: {"package_id": ""},
    "unknown package": lambda c, d: {"package_id": "999999"},
    "add-on of another package": lambda c, d: {"add_on_ids": [str(c.package_add_on_id)]},
    "unknown add-on": lambda c, d: {"add_on_ids": ["999999"]},
    "over-long names": lambda c, d: {"couple_names": "x" * 201},
    "over-long venue": lambda c, d: {"venue": "v" * 201},
    "over-long notes": lambda c, d: {"notes": "n" * 2001},
    "over-long phone": lambda c, d: {"phone": "1" * 41},
    "bad email": lambda c, d: {"email": "not-an-email"},
    "missing venue": lambda c, d: {"venue": ""},
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_form_errors_and_writes_nothing(case, client, shop, app, tenant_a):
    from app.models import Booking, DateSlot, OutboundEmail

    today = local_today(app, tenant_a.tenant_id)
    data = booking_form(shop.package_id, today + timedelta(days=30))
    data.update(BAD[case](shop, today))
    response = post_form(client, "/t/alpha/", data)
    assert response.status_code == 400, case
    assert 'class="error"' in response.get_data(as_text=True)
    assert (_count(app, Booking), _count(app, DateSlot), _count(app, OutboundEmail)) == (0, 0, 0)


def test_blackout_dates_are_refused(client, shop, app, tenant_a):
    from app.extensions import db
    from app.models import Booking
    from app.services.bookings import availability

    day = future(app, tenant_a.tenant_id)
    with app.app_context():
        availability.add_blackout(db.session, tenant_a.tenant_id, tenant_a.user_id, day, "Family wedding")
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, day))
    assert response.status_code == 400 and "not available on that date" in response.get_data(as_text=True)
    assert _count(app, Booking) == 0


def test_another_tenants_package_and_add_on_ids_are_refused(client, shop, app, tenant_a, make_account):
    from app.models import Booking

    other = make_account("charlie")
    other_catalog = make_catalog(app, other.tenant_id, other.user_id)
    day = future(app, tenant_a.tenant_id)
    for data in (booking_form(other_catalog.package_id, day),
                 booking_form(shop.package_id, day, add_on_ids=[str(other_catalog.add_on_id)])):
        response = post_form(client, "/t/alpha/", data)
        assert response.status_code == 400
    assert _count(app, Booking) == 0


def test_service_refuses_over_long_text_even_without_the_form(app, shop, tenant_a):
    from app.extensions import db
    from app.models import Booking
    from app.services.bookings import lifecycle as bookings
    from app.services.shared.errors import ValidationFailed
    from app.web.links import WebLinks

    day = future(app, tenant_a.tenant_id)
    with app.app_context():
        request = bookings.BookingRequest(couple_names="A" * 500, email="a@example.com", event_date=day,
                                          venue="V", package_id=shop.package_id)
        with pytest.raises(ValidationFailed) as err:
            bookings.create_booking(db.session, tenant_a.tenant_id, request, WebLinks(app))
        assert "couple_names" in err.value.fields
    assert _count(app, Booking) == 0


def test_script_in_names_is_escaped_in_pages_and_emails(client, owner_client, shop, app, tenant_a):
    from app.extensions import db
    from app.models import Booking, OutboundEmail

    evil = "<script>alert(1)</script>"
    day = future(app, tenant_a.tenant_id)
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, day, couple_names=evil,
                                                           venue=evil, notes=evil))
    assert response.status_code == 302
    with app.app_context():
        booking_id = db.session.scalars(select(Booking.id)).one()
        # The couple's "booking received" (the vendor's notice is checked below with it).
        mail = db.session.scalars(select(OutboundEmail).where(
            OutboundEmail.kind == "booking_received")).one()
        html_body, text_body = mail.html_body, mail.text_body
        notices = [m.html_body for m in db.session.scalars(select(OutboundEmail).where(
            OutboundEmail.kind != "booking_received"))]
    pages = [client.get("/t/alpha/received").get_data(as_text=True),
             owner_client.get("/dashboard/bookings").get_data(as_text=True),
             owner_client.get(f"/dashboard/bookings/{booking_id}").get_data(as_text=True),
             owner_client.get(f"/dashboard/calendar?month={day:%Y-%m}").get_data(as_text=True),
             owner_client.get(f"/dashboard/bookings/{booking_id}/edit").get_data(as_text=True),
             html_body, *notices]
    from tests.integration.bookings.helpers import links_in, path_of
    pages.append(client.get(path_of(links_in(text_body)["manage"])).get_data(as_text=True))
    for html in pages:
        assert evil not in html
        assert "&lt;script&gt;" in html
    assert evil in text_body  # plain text is not HTML: shown as typed


def test_an_add_on_priced_in_another_currency_is_refused_not_summed(client, shop, app, tenant_a):
    """After the owner switches currency, old packages keep theirs: a booking never adds yen to dollars."""
    from app.extensions import db
    from app.models import Booking
    from app.services.accounts import tenants
    from app.services.bookings import catalog

    with app.app_context():
        tenants.update_settings(db.session, tenant_a.tenant_id, tenant_a.user_id, {"currency": "JPY"})
        kimono = catalog.save_add_on(db.session, tenant_a.tenant_id, tenant_a.user_id, title="Kimono",
                                     description="", price_text="5000", package_id=None).id
        db.session.remove()
    day = future(app, tenant_a.tenant_id)
    response = post_form(client, "/t/alpha/", booking_form(shop.package_id, day, add_on_ids=[str(kimono)]))
    assert response.status_code == 400
    assert "Choose add-ons from the list shown for your package" in response.get_data(as_text=True)
    assert _count(app, Booking) == 0
