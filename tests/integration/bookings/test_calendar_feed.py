"""The month calendar marks today and colours bookings by status; the owner's private iCal feed
parses as a calendar, lists only that tenant's bookings, and answers 404 once revoked."""
from __future__ import annotations

import re

from icalendar import Calendar

from tests.fixtures.accounts import login
from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import book, future, local_today, make_catalog


def make_link(client) -> str:
    page = client.get("/dashboard/calendar").get_data(as_text=True)
    response = client.post("/dashboard/calendar/feed", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.search(r'value="(http[^"]+/calendar/[^"]+\.ics)"', html).group(1)


def test_the_calendar_feed_lists_only_this_tenants_bookings_and_stops_when_revoked(
        app, owner_client, tenant_a, tenant_b):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    mine = [book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id, d),
                 email=f"c{d}@example.com", actor="user", actor_user_id=tenant_a.user_id,
                 initial_status="confirmed") for d in (20, 45)]
    mine.append(book(app, tenant_a.tenant_id, shop.other_package_id, future(app, tenant_a.tenant_id, 60),
                     email="pending@example.com"))
    book(app, tenant_b.tenant_id, shop_b.package_id, future(app, tenant_b.tenant_id, 20), email="b@example.com")
    client_b = app.test_client()
    login(client_b, tenant_b.email)
    make_link(client_b)  # B has a feed too; A's must not show B's bookings

    url = make_link(owner_client)
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = app.test_client().get("/" + path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    calendar = Calendar.from_ical(response.get_data())
    events = calendar.walk("VEVENT")
    assert sorted(str(e["UID"]) for e in events) == sorted(f"booking-{i}-t{tenant_a.tenant_id}@mais" for i in mine)
    statuses = {str(e["STATUS"]) for e in events}
    assert statuses == {"CONFIRMED", "TENTATIVE"}
    first = min(events, key=lambda e: e.decoded("DTSTART"))
    assert first.decoded("DTSTART") == future(app, tenant_a.tenant_id, 20)
    assert "Alex & Sam" in str(first["SUMMARY"])

    page = owner_client.get("/dashboard/calendar").get_data(as_text=True)
    assert path.rsplit("/", 1)[1] not in page  # the secret is shown once only
    owner_client.post("/dashboard/calendar/feed/revoke", data={"csrf_token": csrf_from(page)})
    assert app.test_client().get("/" + path).status_code == 404
    assert app.test_client().get("/calendar/not-a-real-token.ics").status_code == 404


def test_a_new_link_replaces_the_old_one(app, owner_client, tenant_a):
    old = make_link(owner_client).split("/calendar/", 1)[1]
    new = make_link(owner_client).split("/calendar/", 1)[1]
    assert old != new
    assert app.test_client().get(f"/calendar/{old}").status_code == 404
    assert app.test_client().get(f"/calendar/{new}").status_code == 200


def test_the_month_marks_today_and_colours_bookings_by_status(app, owner_client, tenant_a):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    today = local_today(app, tenant_a.tenant_id)
    page = owner_client.get("/dashboard/calendar").get_data(as_text=True)
    assert page.count('aria-current="date"') == 1
    assert f">{today.day}<" in page.split('aria-current="date"', 1)[1].split("</td>", 1)[0]
    day = future(app, tenant_a.tenant_id, 3)
    book(app, tenant_a.tenant_id, shop.package_id, day, email="soon@example.com")
    page = owner_client.get(f"/dashboard/calendar?month={day:%Y-%m}").get_data(as_text=True)
    cell = page.split(f'<span class="day-number">{day.day}</span>', 1)[1].split("</td>", 1)[0]
    assert 'data-status="pending_deposit"' in cell and "(awaiting deposit)" in cell
