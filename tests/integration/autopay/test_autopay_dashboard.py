"""The owner's side of autopay: the coming charges and those needing attention, a booking's
autopay panel, Retry now, Switch autopay off, the tenant's settings, and who may do what."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from tests.fixtures.portal import csrf_from
from tests.integration.autopay.rows import (
    autopay_booking,
    charge_of,
    failed,
    mandate_of,
    set_charge,
)

HTMX = {"HX-Request": "true"}


def _token(client) -> str:
    return csrf_from(client.get("/dashboard/autopay").get_data(as_text=True))


def _charge_jobs() -> list[tuple]:
    from app.queue import huey

    return [tuple(m.args) for m in huey.pending() if m.name.endswith("charge_autopay")]


def test_the_page_lists_the_next_charges_in_local_time_and_the_ones_needing_attention(
        app, owner_client, tenant_a, tenant_b, shop, shop_b):
    soon, soon_charges = autopay_booking(app, tenant_a, shop.package_id, names="Soon & Co")
    later, later_charges = autopay_booking(app, tenant_a, shop.package_id, days=90,
                                           names="Later & Co", brand="mastercard", last4="5454",
                                           email="later@example.com")
    stuck, stuck_charges = autopay_booking(app, tenant_a, shop.package_id, days=120,
                                           names="Stuck & Co", email="stuck@example.com")
    theirs, their_charges = autopay_booking(app, tenant_b, shop_b.package_id, names="Bravo Couple")
    # 14:00 UTC on 15 January is 09:00 in New York (the tenant's zone).
    set_charge(app, later_charges[1], next_attempt_at=datetime(2030, 1, 15, 14, 0, tzinfo=UTC))
    set_charge(app, soon_charges[1], status="retrying", attempts=1,
               next_attempt_at=datetime(2030, 1, 10, 14, 0, tzinfo=UTC),
               failure_message="Your card has insufficient funds.")
    for charge_id in (soon_charges[0], later_charges[0]):
        set_charge(app, charge_id, status="paid", next_attempt_at=None)
    failed(app, stuck_charges[0], "Your card was declined.", datetime(2030, 1, 2, 17, 30, tzinfo=UTC))
    failed(app, stuck_charges[1], "Your bank wants you to confirm this payment.",
           datetime(2030, 1, 3, 17, 30, tzinfo=UTC), status="needs_action", attempts=1)

    page = owner_client.get("/dashboard/autopay").get_data(as_text=True)

    assert "3 bookings</strong> have automatic payments on" in page
    upcoming = page[page.index('data-testid="autopay-upcoming"'):]
    rows = re.findall(r'data-testid="upcoming-row" data-status="(\w+)" data-charge="(\d+)"', upcoming)
    assert rows == [("retrying", str(soon_charges[1])), ("scheduled", str(later_charges[1]))]
    assert "Jan 15, 2030, 9:00\u202fAM" in upcoming and "Jan 10, 2030, 9:00" in upcoming
    assert "Mastercard ending 5454" in upcoming and "2 of 4" in upcoming  # 1 try + 3 retries
    assert f"#{later} Later &amp; Co" in upcoming and "$1,750.00" in upcoming
    attention = page[page.index('data-testid="autopay-attention"'):page.index('data-testid="autopay-upcoming"')]
    assert re.findall(r'data-testid="attention-row" data-status="(\w+)"', attention) == [
        "needs_action", "failed"]  # latest try first
    assert "Your card was declined." in attention and "Your bank wants you to confirm" in attention
    assert "Jan 2, 2030, 12:30\u202fPM" in attention  # the last try, New York time
    assert attention.count(">Retry now<") == 2 and attention.count(">Switch autopay off<") == 2
    assert "Bravo Couple" not in page and f"#{theirs} " not in page
    assert str(their_charges[0]) not in re.findall(r'data-charge="(\d+)"', page)


def test_retry_now_puts_a_failed_charge_back_in_the_queue(app, owner_client, db_session, tenant_a,
                                                          shop):
    from app.services.shared import clock

    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id)
    failed(app, charges[1], "Your card was declined.", clock.now() - timedelta(days=1))
    moment = clock.now().replace(microsecond=0) + timedelta(hours=1)
    clock.freeze(moment)  # "now" stands still, so the row can be compared with it

    response = owner_client.post(
        f"/dashboard/bookings/{booking_id}/autopay/charges/{charges[1]}/retry",
        data={"csrf_token": _token(owner_client), "back": "autopay"})

    assert response.status_code == 302 and response.location.endswith("/dashboard/autopay")
    row = charge_of(db_session, charges[1])
    assert (row.status, row.next_attempt_at) == ("retrying", moment)
    assert _charge_jobs() == [(charges[1],)]
    assert "being tried again" in owner_client.get("/dashboard/autopay").get_data(as_text=True)


def test_retry_now_from_the_booking_panel_answers_the_panel_to_htmx(app, owner_client, db_session,
                                                                   tenant_a, shop):
    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id)
    failed(app, charges[0], "The bank wants the couple.", datetime(2030, 1, 2, tzinfo=UTC),
           status="needs_action", attempts=1)
    url = f"/dashboard/bookings/{booking_id}/autopay/charges/{charges[0]}/retry"

    response = owner_client.post(url, data={"csrf_token": _token(owner_client), "back": "booking"},
                                 headers=HTMX)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="booking-autopay-panel"' in html
    assert "being tried again" in html and "<html" not in html
    assert charge_of(db_session, charges[0]).status == "retrying"
    # The try paid the stage meanwhile: a second click (another tab) is told, nothing is queued.
    set_charge(app, charges[0], status="paid", next_attempt_at=None)
    again = owner_client.post(url, data={"csrf_token": _token(owner_client)}, headers=HTMX)
    assert again.status_code == 409 and "not waiting for another try" in again.get_data(as_text=True)
    assert _charge_jobs() == [(charges[0],)]


def test_a_planned_charge_cannot_be_retried_and_the_plain_form_says_why(app, owner_client,
                                                                       db_session, tenant_a, shop):
    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id)
    before = charge_of(db_session, charges[1]).next_attempt_at

    response = owner_client.post(
        f"/dashboard/bookings/{booking_id}/autopay/charges/{charges[1]}/retry",
        data={"csrf_token": _token(owner_client)}, follow_redirects=True)

    assert "not waiting for another try" in response.get_data(as_text=True)
    row = charge_of(db_session, charges[1])
    assert (row.status, row.next_attempt_at) == ("scheduled", before)
    assert _charge_jobs() == []


def test_switch_off_stops_every_open_charge_and_keeps_the_paid_one(app, owner_client, db_session,
                                                                    tenant_a, shop):
    from app.models import AuditEvent

    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id)
    set_charge(app, charges[0], status="paid", next_attempt_at=None)
    failed(app, charges[1], "Declined.", datetime(2030, 1, 2, tzinfo=UTC), status="retrying",
           attempts=1)

    response = owner_client.post(f"/dashboard/bookings/{booking_id}/autopay/off",
                                 data={"csrf_token": _token(owner_client)})

    assert response.status_code == 302 and response.location.endswith(f"/dashboard/bookings/{booking_id}")
    mandate = mandate_of(db_session, booking_id)
    assert (mandate.status, mandate.switched_off_by) == ("off", "owner")
    assert [charge_of(db_session, c).status for c in charges] == ["paid", "off"]
    assert charge_of(db_session, charges[1]).next_attempt_at is None
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "autopay.off")).one()
    assert audit.actor_user_id == tenant_a.user_id
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/autopay",
                             headers=HTMX).get_data(as_text=True)
    assert 'data-mandate="off"' in panel and "switched off from the dashboard" in panel
    assert ">Switch autopay off<" not in panel and ">Retry now<" not in panel
    # A second click (another tab) is told, not shown a missing page.
    again = owner_client.post(f"/dashboard/bookings/{booking_id}/autopay/off",
                              data={"csrf_token": _token(owner_client)}, headers=HTMX)
    assert again.status_code == 409 and "not on for this booking" in again.get_data(as_text=True)


def test_the_booking_panel_shows_card_consent_and_each_charge_in_words(app, owner_client, tenant_a,
                                                                      shop):
    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id, brand="amex", last4="0005")
    set_charge(app, charges[0], status="paid", next_attempt_at=None, attempts=1)
    set_charge(app, charges[1], next_attempt_at=datetime(2030, 6, 1, 13, 0, tzinfo=UTC))

    detail = owner_client.get(f"/dashboard/bookings/{booking_id}").get_data(as_text=True)
    assert f'/dashboard/bookings/{booking_id}/autopay"' in detail  # loaded into the page, or a link
    page = owner_client.get(f"/dashboard/bookings/{booking_id}/autopay").get_data(as_text=True)
    assert "<html" in page  # without JavaScript: a page of its own

    assert "Amex ending 0005, expires 08/2031" in page
    assert re.search(r"<details[^>]*>\s*<summary>Consent given [^<]+</summary>", page)
    assert "I authorise Alpha to charge this card automatically" in page
    assert re.findall(r'data-testid="autopay-charge" data-status="(\w+)"', page) == ["paid", "scheduled"]
    assert "Paid" in page and "Planned" in page and "Jun 1, 2030, 9:00\u202fAM" in page
    assert page.count(">Switch autopay off<") == 1 and ">Retry now<" not in page


def test_a_booking_without_autopay_says_so(app, owner_client, tenant_a, shop):
    from tests.integration.invoices.helpers import confirmed_booking

    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    panel = owner_client.get(f"/dashboard/bookings/{booking_id}/autopay",
                             headers=HTMX).get_data(as_text=True)
    assert 'data-mandate="none"' in panel and "did not choose automatic payments" in panel
    assert "<form" not in panel


def _settings(db_session, tenant_id):
    from app.models import AutopaySettings

    db_session.expire_all()
    return db_session.scalar(select(AutopaySettings).where(AutopaySettings.tenant_id == tenant_id))


def test_the_owner_saves_the_autopay_settings(app, owner_client, db_session, tenant_a):
    response = owner_client.post("/dashboard/autopay/settings",
                                 data={"csrf_token": _token(owner_client), "retry_days": " 2, 4 "})
    assert response.status_code == 302
    row = _settings(db_session, tenant_a.tenant_id)
    assert (row.offered, row.retry_days) == (False, "2,4")  # an unticked box is off
    page = owner_client.get("/dashboard/autopay").get_data(as_text=True)
    assert "Autopay settings saved." in page and 'value="2, 4"' in page
    owner_client.post("/dashboard/autopay/settings",
                      data={"csrf_token": _token(owner_client), "offered": "y", "retry_days": ""})
    row = _settings(db_session, tenant_a.tenant_id)
    assert (row.offered, row.retry_days) == (True, "")  # no retries


def test_bad_retry_days_are_refused_next_to_the_field_and_nothing_is_saved(app, owner_client,
                                                                           db_session, tenant_a):
    for bad in ("0", "abc", "1,2,3,4,5,6,7", "31", "1.5", "²"):
        response = owner_client.post("/dashboard/autopay/settings",
                                     data={"csrf_token": _token(owner_client), "offered": "y",
                                           "retry_days": bad})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, bad
        assert re.search(r'<p id="retry_days-error" class="error">List up to 6 waits of 1 to 30 days',
                         html), bad
        assert 'aria-invalid="true"' in html
    assert _settings(db_session, tenant_a.tenant_id) is None


def test_another_tenants_charges_and_bookings_are_not_found(app, owner_client, db_session, tenant_a,
                                                            tenant_b, shop, shop_b):
    mine, my_charges = autopay_booking(app, tenant_a, shop.package_id)
    other, _ = autopay_booking(app, tenant_a, shop.package_id, days=70, email="o@example.com")
    theirs, their_charges = autopay_booking(app, tenant_b, shop_b.package_id)
    failed(app, their_charges[1], "Declined.", datetime(2030, 1, 2, tzinfo=UTC))
    failed(app, my_charges[1], "Declined.", datetime(2030, 1, 2, tzinfo=UTC))
    token = _token(owner_client)
    for method, url in [
        ("get", f"/dashboard/bookings/{theirs}/autopay"),
        ("post", f"/dashboard/bookings/{theirs}/autopay/off"),
        ("post", f"/dashboard/bookings/{theirs}/autopay/charges/{their_charges[1]}/retry"),
        ("post", f"/dashboard/bookings/{mine}/autopay/charges/{their_charges[1]}/retry"),
        ("post", f"/dashboard/bookings/{other}/autopay/charges/{my_charges[1]}/retry"),  # not its charge
        ("post", f"/dashboard/bookings/{mine}/autopay/charges/999999/retry"),
    ]:
        response = getattr(owner_client, method)(url, data={"csrf_token": token} if method == "post" else None)
        assert response.status_code == 404, url
    assert mandate_of(db_session, theirs).status == "active"
    assert charge_of(db_session, their_charges[1]).status == "failed"
    assert charge_of(db_session, my_charges[1]).status == "failed"
    assert _charge_jobs() == []


def test_staff_see_autopay_but_only_owners_act(app, staff_client, db_session, tenant_a, shop):
    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id)
    failed(app, charges[1], "Declined.", datetime(2030, 1, 2, tzinfo=UTC))
    page = staff_client.get("/dashboard/autopay")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Declined." in html
    assert "Retry now" not in html and "Switch autopay off" not in html
    assert "Only an owner can change this." in html and 'name="retry_days"' not in html
    panel = staff_client.get(f"/dashboard/bookings/{booking_id}/autopay", headers=HTMX)
    assert panel.status_code == 200 and "<form" not in panel.get_data(as_text=True)
    token = csrf_from(html)
    for url, data in [
        (f"/dashboard/bookings/{booking_id}/autopay/charges/{charges[1]}/retry", {}),
        (f"/dashboard/bookings/{booking_id}/autopay/off", {}),
        ("/dashboard/autopay/settings", {"offered": "y", "retry_days": "2"}),
    ]:
        assert staff_client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert charge_of(db_session, charges[1]).status == "failed"
    assert mandate_of(db_session, booking_id).status == "active"
    assert _settings(db_session, tenant_a.tenant_id) is None


def test_forms_without_a_csrf_token_are_refused(app, owner_client, db_session, tenant_a, shop):
    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id)
    for url in (f"/dashboard/bookings/{booking_id}/autopay/off", "/dashboard/autopay/settings"):
        assert owner_client.post(url, data={"retry_days": "2"}).status_code == 400
    assert mandate_of(db_session, booking_id).status == "active"


def test_the_autopay_page_runs_the_same_statements_for_2_and_8_bookings(app, owner_client, tenant_a,
                                                                       shop):
    from app.extensions import db

    with app.app_context():
        engine = db.engine

    def statements() -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = owner_client.get("/dashboard/autopay")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        return len(seen)

    def add(days: int) -> None:
        _, charges = autopay_booking(app, tenant_a, shop.package_id, days=days,
                                     email=f"c{days}@example.com")
        failed(app, charges[0], "Declined.", datetime(2030, 1, 2, tzinfo=UTC))

    for days in (40, 41):
        add(days)
    few = statements()
    for days in range(42, 48):
        add(days)
    assert statements() == few
