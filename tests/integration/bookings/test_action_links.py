"""Action links in booking emails: GET never consumes, one POST acts, every refusal changes nothing."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.fixtures.portal import csrf_from, without_csrf
from tests.integration.bookings.helpers import book, future, outbox_links, path_of


def _state(app, booking_id):
    from app.extensions import db
    from app.models import ActionToken, Booking, DateSlot

    with app.app_context():
        b = db.session.get(Booking, booking_id)
        slots = db.session.scalars(select(DateSlot.event_date).where(DateSlot.booking_id == booking_id)).all()
        used = db.session.scalars(select(ActionToken.id).where(ActionToken.used_at.is_not(None))).all()
        result = (b.status, b.event_date, tuple(slots), len(used))
        db.session.remove()
    return result


def _post(client, url, data=None):
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return client.post(url, data={**(data or {}), "csrf_token": csrf_from(page.get_data(as_text=True))})


def test_gets_of_every_link_change_nothing(client, app, shop, tenant_a):
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id))
    before = _state(app, booking_id)
    links = outbox_links(app)[-1]
    for _ in range(3):  # what a mail scanner does, repeatedly
        for url in links.values():
            response = client.get(path_of(url))
            assert response.status_code == 200
            assert response.headers["Referrer-Policy"] == "no-referrer"
        client.get(path_of(links["manage"]) + "/reschedule")
        client.get(path_of(links["manage"]) + "/cancel")
        client.get(path_of(links["reschedule"]).replace("/reschedule", "/dates"))
    assert _state(app, booking_id) == before
    assert before[3] == 0  # no token used


def test_same_cancel_post_twice_gives_one_change_and_one_refusal(client, app, shop, tenant_a):
    day = future(app, tenant_a.tenant_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day)
    links = outbox_links(app)[-1]
    url = path_of(links["cancel"])
    page = client.get(url).get_data(as_text=True)
    token = csrf_from(page)
    first = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    second = client.post(url, data={"csrf_token": token})
    assert first.status_code == 200 and "is canceled" in first.get_data(as_text=True)
    assert second.status_code == 410 and "Email me a fresh link" in second.get_data(as_text=True)
    for earlier in (links["manage"], links["reschedule"]):  # the booking's earlier links end too
        assert client.get(path_of(earlier)).status_code == 410
    assert client.get(path_of(outbox_links(app)[-1]["manage"])).status_code == 200  # the new one works
    assert _state(app, booking_id)[:3] == ("canceled", day, ())
    assert len(outbox_links(app)) == 2  # received + one canceled email


def test_same_reschedule_post_twice_gives_one_change_and_one_refusal(client, app, shop, tenant_a):
    day = future(app, tenant_a.tenant_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day)
    url = path_of(outbox_links(app)[-1]["reschedule"])
    token = csrf_from(client.get(url).get_data(as_text=True))
    new_day, other_day = day + timedelta(days=3), day + timedelta(days=4)
    first = client.post(url, data={"csrf_token": token, "event_date": new_day.isoformat()},
                        follow_redirects=True)
    second = client.post(url, data={"csrf_token": token, "event_date": other_day.isoformat()})
    assert first.status_code == 200 and "is moved" in first.get_data(as_text=True)
    assert second.status_code == 410
    assert _state(app, booking_id)[:3] == ("pending_deposit", new_day, (new_day,))


def test_after_reschedule_all_earlier_links_fail_and_the_new_email_has_working_ones(client, app, shop, tenant_a):
    day = future(app, tenant_a.tenant_id)
    book(app, tenant_a.tenant_id, shop.package_id, day)
    old = outbox_links(app)[-1]
    response = _post(client, path_of(old["manage"]) + "/reschedule",
                     {"event_date": (day + timedelta(days=2)).isoformat()})
    assert response.status_code == 303  # POST, then redirect to the booking with a fresh link
    landed = client.get(response.headers["Location"])
    assert landed.status_code == 200 and "Your booking is moved" in landed.get_data(as_text=True)
    assert client.get(response.headers["Location"]).status_code == 200  # a reload shows it again
    for url in old.values():
        page = client.get(path_of(url))
        assert page.status_code == 410 and "/t/alpha/fresh-link" in page.get_data(as_text=True)
    new = outbox_links(app)[-1]
    assert set(new) == {"manage", "reschedule", "cancel"} and set(new.values()).isdisjoint(old.values())
    assert client.get(path_of(new["manage"])).status_code == 200


def test_a_taken_date_is_refused_with_409_and_the_link_still_works(client, app, shop, tenant_a):
    day = future(app, tenant_a.tenant_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day)
    links = outbox_links(app)[-1]
    taken = day + timedelta(days=5)
    book(app, tenant_a.tenant_id, shop.package_id, taken, email="other@example.com")
    picker = client.get(path_of(links["reschedule"])).get_data(as_text=True)
    assert f'value="{(day + timedelta(days=4)).isoformat()}"' in picker or taken.month != day.month
    assert f'value="{taken.isoformat()}"' not in picker
    response = _post(client, path_of(links["reschedule"]), {"event_date": taken.isoformat()})
    assert response.status_code == 409 and "no longer available" in response.get_data(as_text=True)
    assert _state(app, booking_id)[:3] == ("pending_deposit", day, (day,))
    assert client.get(path_of(links["reschedule"])).status_code == 200  # not consumed


def test_reschedule_inside_the_cut_off_is_refused(client, app, shop, tenant_a):
    day = future(app, tenant_a.tenant_id, days=10)  # default cut-off: 14 days
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day)
    url = path_of(outbox_links(app)[-1]["reschedule"])
    page = client.get(url)
    assert "until 14 days before" in page.get_data(as_text=True)
    csrf = csrf_from(client.get("/t/alpha/fresh-link").get_data(as_text=True))  # the page has no form
    response = client.post(url, data={"csrf_token": csrf, "event_date": (day + timedelta(days=30)).isoformat()})
    assert response.status_code == 409
    assert _state(app, booking_id)[:2] == ("pending_deposit", day)


def test_tenant_a_token_on_tenant_b_url_is_refused(client, app, shop, tenant_a, tenant_b):
    day = future(app, tenant_a.tenant_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day)
    before = _state(app, booking_id)
    for url in outbox_links(app)[-1].values():
        foreign = path_of(url).replace("/t/alpha/", "/t/bravo/")
        response = client.get(foreign)
        # Another business's live link is not found here (not "expired": it is not one of
        # bravo's), and the page says nothing about the booking.
        assert response.status_code == 404
        assert "Alex" not in response.get_data(as_text=True)
    # A POST with a valid CSRF token from elsewhere is refused too.
    csrf = csrf_from(client.get("/t/bravo/fresh-link").get_data(as_text=True))
    cancel = path_of(outbox_links(app)[-1]["cancel"]).replace("/t/alpha/", "/t/bravo/")
    assert client.post(cancel, data={"csrf_token": csrf}).status_code == 404
    assert _state(app, booking_id) == before


def test_expired_link_is_refused(client, app, shop, tenant_a):
    from app.services.shared import clock

    day = future(app, tenant_a.tenant_id, days=90)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day, initial_status="confirmed")
    links = outbox_links(app)[-1]
    csrf = csrf_from(client.get(path_of(links["cancel"])).get_data(as_text=True))
    clock.advance(timedelta(days=7, minutes=1))
    assert client.get(path_of(links["manage"])).status_code == 410
    assert client.post(path_of(links["cancel"]), data={"csrf_token": csrf}).status_code == 410
    assert _state(app, booking_id)[:2] == ("confirmed", day)


def test_token_for_another_purpose_is_refused(client, app, shop, tenant_a):
    day = future(app, tenant_a.tenant_id)
    booking_id = book(app, tenant_a.tenant_id, shop.package_id, day)
    links = outbox_links(app)[-1]
    cancel_token = path_of(links["cancel"]).removesuffix("/cancel")
    reschedule_token = path_of(links["reschedule"]).removesuffix("/reschedule")
    assert client.get(cancel_token + "/reschedule").status_code == 410
    assert client.get(reschedule_token + "/cancel").status_code == 410
    assert client.get(cancel_token).status_code == 410  # a cancel link is not a manage link
    csrf = csrf_from(client.get(path_of(links["cancel"])).get_data(as_text=True))
    refused = client.post(cancel_token + "/reschedule",
                          data={"csrf_token": csrf, "event_date": (day + timedelta(days=2)).isoformat()})
    assert refused.status_code == 410
    refused = client.post(reschedule_token + "/cancel", data={"csrf_token": csrf})
    assert refused.status_code == 410
    assert _state(app, booking_id)[:3] == ("pending_deposit", day, (day,))


def test_fresh_link_answers_the_same_and_emails_only_known_addresses(client, app, shop, tenant_a, consumer,
                                                                    inbox):
    book(app, tenant_a.tenant_id, shop.package_id, future(app, tenant_a.tenant_id), email="known@example.com")
    inbox.wait_for("known@example.com", subject="Booking received")
    replies = []
    for address in ("known@example.com", "unknown@example.com"):
        page = client.get("/t/alpha/fresh-link")
        response = client.post("/t/alpha/fresh-link", data={
            "email": address, "csrf_token": csrf_from(page.get_data(as_text=True))})
        # The page's CSRF token carries a timestamp: two replies a second apart differ there only.
        replies.append((response.status_code, without_csrf(response.get_data(as_text=True))))
    assert replies[0] == replies[1] and replies[0][0] == 200
    msg = inbox.wait_for("known@example.com", subject="Your booking links")[0]
    assert "/t/alpha/b/" in msg.get_body(preferencelist=("plain",)).get_content()
    assert inbox.to("unknown@example.com") == []


def test_fresh_link_requests_are_rate_limited(client, app, tenant_a):
    statuses = []
    for _ in range(5):
        page = client.get("/t/alpha/fresh-link")
        statuses.append(client.post("/t/alpha/fresh-link", data={
            "email": "someone@example.com", "csrf_token": csrf_from(page.get_data(as_text=True))}).status_code)
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
