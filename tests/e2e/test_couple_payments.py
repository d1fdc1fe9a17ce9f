"""A couple books and pays in Chromium through the Stripe simulator's Payment Element stand-in:
a declined card first, then 4242; the dashboard shows the booking confirmed; later the balance
from the portal makes it paid in full."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import fill_date_and_wait_for_terms
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.smtp import text_of
from tests.integration.bookings.helpers import future, links_in, make_catalog
from tests.integration.payments.helpers import booking_status, payments_of, stored_events, wait_until


def _pay(page: Page, number: str, amount: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name=f"Pay {amount}").click()


def test_couple_pays_deposit_after_a_decline_then_the_balance_from_the_portal(
        app, live_server, consumer, inbox, phone_page, browser, tenant_a, sim_webhooks):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Booking

    make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    page = phone_page  # couples arrive from their email, on a phone
    day = future(app, tenant_a.tenant_id, 75)
    address = "pay.couple@example.com"

    page.goto(f"{live_server}/t/alpha/")
    page.get_by_role("radio", name="Gold").check()
    page.get_by_label("Your names").fill("Mia & Leo")
    page.get_by_label("Email").fill(address)
    fill_date_and_wait_for_terms(page, day.isoformat())
    page.get_by_label("Venue").fill("Old Mill")
    expect(page.get_by_test_id("terms-deposit")).to_have_text("$750.00")
    # The terms panel refreshes after each change (htmx swaps it whole, checkbox included): tick
    # it once the refresh for the last change has landed.
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.get_by_role("checkbox", name="I have read and accept these terms").check()
    page.get_by_role("button", name="Request this booking").click()

    # The deposit checkout: 30 % of $2,500.00 on the Payment Element.
    expect(page.get_by_role("heading", name="Pay $750.00")).to_be_visible()
    _pay(page, "4000 0000 0000 0002", "$750.00")
    expect(page.locator("#payment-message")).to_contain_text("Your card was declined.")
    expect(page.locator("#payment-message")).to_contain_text("try another card")
    with app.app_context():
        booking_id = db.session.scalars(select(Booking.id)).one()
        db.session.remove()
    assert booking_status(app, booking_id) == "pending_deposit"

    _pay(page, "4242 4242 4242 4242", "$750.00")
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(page.get_by_test_id("booking-status")).to_have_text("confirmed")
    assert booking_status(app, booking_id) == "confirmed"

    # The webhook arrives too; the payment is still recorded once.
    wait_until(lambda: any(e["type"] == "payment_intent.succeeded" and e["status"] == "processed"
                           for e in stored_events(app)))
    assert len(payments_of(app, booking_id)) == 1
    confirmed = inbox.wait_for(address, subject="Booking confirmed")
    receipt = inbox.wait_for(address, subject="Receipt: $750.00")
    assert len(confirmed) == 1 and len(receipt) == 1

    # The owner's dashboard shows the booking confirmed.
    owner = browser.new_context().new_page()
    owner.goto(f"{live_server}/auth/login")
    owner.get_by_label("Email").fill(tenant_a.email)
    owner.get_by_label("Password").fill(PASSWORD)
    owner.get_by_role("button", name="Log in").click()
    owner.goto(f"{live_server}/dashboard/bookings/{booking_id}")
    expect(owner.get_by_test_id("status")).to_have_text("confirmed")
    expect(owner.locator("#booking-payments [data-testid=payment]")).to_have_count(1)

    # Later: the balance, from the manage link in the confirmation email.
    manage = links_in(text_of(confirmed[0]))["manage"]
    page.goto(manage)
    page.get_by_role("link", name="Pay balance").click()
    page.get_by_role("link", name="Pay $1,750.00 now").click()
    expect(page.get_by_role("heading", name="Pay $1,750.00")).to_be_visible()
    _pay(page, "4242424242424242", "$1,750.00")
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(page.get_by_test_id("booking-status")).to_have_text("paid in full")
    assert booking_status(app, booking_id) == "paid_in_full"
    assert [p["amount"] for p in payments_of(app, booking_id)] == [75000, 175000]
    owner.reload()
    expect(owner.get_by_test_id("status")).to_have_text("paid in full")
    owner.context.close()
