"""Refunds in Chromium: an owner refunds part of a paid booking and watches it settle without
reloading, refunds again, and is told clearly when asking for more than is left; a couple cancels
from the portal and gets the refund their policy promises, at the simulator."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.helpers import confirm_refund
from tests.fixtures.accounts import PASSWORD
from tests.integration.bookings.helpers import make_catalog, outbox_links
from tests.integration.payments.helpers import booking_status, wait_until
from tests.integration.refunds.helpers import paid_booking, sim_refunds


def _log_in(page, live_server, account) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _refund(page, amount: str) -> None:
    page.locator("#booking-refunds summary", has_text="Refund").first.click()
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Reason").select_option("requested_by_customer")
    confirm_refund(page, amount)


def test_owner_watches_partial_refunds_settle_and_is_refused_more_than_is_left(
        app, client, live_server, consumer, inbox, page, tenant_a, sim_webhooks):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = paid_booking(app, client, sim_webhooks, tenant_a, shop.package_id, balance=True,
                              email="refund.couple@example.com")  # $2,500.00 in two payments
    sim_webhooks.control.configure(refund_delay=2.0)  # long enough to see it on its way
    _log_in(page, live_server, tenant_a)
    page.goto(f"{live_server}/dashboard/bookings/{booking_id}")
    expect(page.get_by_test_id("refundable")).to_have_text("$2,500.00")

    page.locator("#booking-refunds summary", has_text="Refund").first.click()
    page.get_by_label("Amount").fill("300.00")
    expect(page.get_by_test_id("split-line")).to_have_count(1)
    expect(page.get_by_test_id("split-line")).to_contain_text("$300.00")
    confirm_refund(page, "300.00")
    first = page.get_by_test_id("refund-request").first
    expect(first.get_by_test_id("refund-status")).to_have_text("processing")
    url_before = page.url
    expect(first.get_by_test_id("refund-status")).to_have_text("succeeded", timeout=15000)
    assert page.url == url_before  # no reload: htmx polled the request until it was final
    expect(first).not_to_have_attribute("hx-trigger", "load delay:1s")
    # Every total on the page follows, still without a reload: the refund panel's figures, the
    # payments panel, and the documents list with the refund's credit note.
    expect(page.get_by_test_id("refunded")).to_have_text("$300.00")
    expect(page.get_by_test_id("refundable")).to_have_text("$2,200.00")
    expect(page.locator("#booking-documents")).to_contain_text("Credit note", timeout=10000)
    assert page.url == url_before
    inbox.wait_for("refund.couple@example.com", subject="Refund of $300.00 completed")
    assert booking_status(app, booking_id) == "partially_refunded"

    sim_webhooks.control.configure(refund_delay=0.2)
    page.reload()
    _refund(page, "200.00")
    second = page.get_by_test_id("refund-request").filter(has_text="$200.00")
    expect(second.get_by_test_id("refund-status")).to_have_text("succeeded", timeout=15000)
    expect(page.get_by_test_id("refundable")).to_have_text("$2,000.00")

    _refund(page, "2000.01")
    expect(page.locator("#amount-error")).to_contain_text(
        "That is more than can still be refunded ($2,000.00).")
    expect(page.get_by_test_id("refund-request")).to_have_count(2)
    assert sorted(r["amount"] for r in sim_refunds(sim_webhooks)) == [20000, 30000]  # once each


def test_couple_cancels_from_the_portal_and_the_policy_refund_reaches_stripe(
        app, client, live_server, consumer, phone_page, tenant_a, sim_webhooks):
    from app.extensions import db
    from app.services.refunds import policy as cancellation_policy

    with app.app_context():
        cancellation_policy.save(db.session, tenant_a.tenant_id, tenant_a.user_id, deposit_refundable=True,
                                 tiers=[("90", "100"), ("30", "50")])
        db.session.remove()
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = paid_booking(app, client, sim_webhooks, tenant_a, shop.package_id, days=60)
    cancel_url = [links for links in outbox_links(app) if links.get("cancel")][-1]["cancel"]

    page = phone_page
    page.goto(cancel_url)
    expect(page.get_by_test_id("policy-refund")).to_have_text(
        "Cancel now: refund of $375.00 under this policy.")  # 50 % of the $750.00 deposit, 60 days out
    page.get_by_role("button", name="Yes, cancel my booking").click()
    expect(page.get_by_role("heading", name="Your booking is canceled")).to_be_visible()
    expect(page.get_by_test_id("refund-started")).to_contain_text("$375.00")
    assert booking_status(app, booking_id) == "canceled"
    refund = wait_until(lambda: sim_refunds(sim_webhooks))
    assert [(r["amount"], r["reason"]) for r in refund] == [(37500, "requested_by_customer")]
    assert refund[0]["metadata"]["tenant_id"] == str(tenant_a.tenant_id)
