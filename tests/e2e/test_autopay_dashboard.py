"""Autopay in Chromium: the owner retries a declined automatic payment from the booking's panel
(asked first, the panel swapped in place) and switches autopay off from the autopay page (asked
first, then the page reloads with the news)."""
from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.fixtures.accounts import PASSWORD
from tests.integration.autopay.rows import autopay_booking, charge_of, failed, mandate_of
from tests.integration.bookings.helpers import make_catalog


def test_owner_retries_from_the_booking_panel_and_switches_off_from_the_autopay_page(
        app, live_server, page, db_session, tenant_a):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id, charges = autopay_booking(app, tenant_a, shop.package_id, names="Priya & Tom")
    failed(app, charges[0], "Your card was declined.", datetime(2030, 1, 1, tzinfo=UTC))
    failed(app, charges[1], "Your bank wants you to confirm this payment.",
           datetime(2030, 1, 2, tzinfo=UTC), status="needs_action", attempts=1)
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(tenant_a.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Alpha").first.wait_for()

    page.goto(f"{live_server}/dashboard/bookings/{booking_id}")
    panel = page.locator("#booking-autopay-panel")
    expect(panel.get_by_test_id("autopay-charge")).to_have_count(2)
    url_before = page.url
    panel.get_by_role("button", name="Retry now").first.click()
    expect(panel.get_by_text("The payment is being tried again now.")).to_be_visible()
    assert page.url == url_before  # swapped in place, no navigation
    assert asked == ["Charge $750.00 to Priya & Tom's Visa card ending 4242 now?"]
    assert charge_of(db_session, charges[0]).status == "retrying"

    page.goto(f"{live_server}/dashboard/autopay")
    expect(page.get_by_test_id("attention-row")).to_have_count(1)
    page.get_by_role("button", name="Switch autopay off").click()
    expect(page.get_by_text(f"Automatic payments are off for booking #{booking_id}.")).to_be_visible()
    expect(page.get_by_test_id("attention-row")).to_have_count(0)
    assert "Only the couple can turn them on again." in asked[-1]
    assert mandate_of(db_session, booking_id).status == "off"
    assert [charge_of(db_session, c).status for c in charges] == ["off", "off"]
