"""Stripe Connect in Chromium: a new vendor signs up, connects its Stripe account through the
simulator's hosted onboarding, sees charges enabled; a couple books and pays the deposit, which
lands on the vendor's account with the platform fee; the vendor refunds part of it from the
dashboard and the refund is made on the vendor's account."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.helpers import confirm_refund, fill_date_and_wait_for_terms
from tests.integration.bookings.helpers import future, make_catalog
from tests.integration.payments.helpers import payments_of, wait_until
from tests.integration.refunds.helpers import sim_refunds


@pytest.fixture()
def platform_fee(app):
    saved = {k: app.config.get(k) for k in ("PLATFORM_FEE_BP", "PLATFORM_FEE_FIXED")}
    app.config.update(PLATFORM_FEE_BP=200, PLATFORM_FEE_FIXED={})
    yield
    app.config.update(saved)


def _pay(page, number: str, amount: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name=f"Pay {amount}").click()


from tests.fixtures.smtp import text_of  # noqa: E402

VERIFY = re.compile(r"(https?://\S+/auth/verify/[A-Za-z0-9_-]{43})")


def test_new_vendor_connects_takes_a_deposit_with_the_fee_and_refunds_on_its_own_account(
        app, live_server, consumer, browser, page, sim_webhooks, platform_fee, db_session, inbox):
    from app.models import Booking, Tenant, User

    sim = sim_webhooks
    page.goto(f"{live_server}/auth/signup")
    page.get_by_label("Business name").fill("Golden Hour Films")
    page.get_by_label("Public address (/t/...)").fill("golden-hour")
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Email").fill("ana@golden.example")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    verify = VERIFY.search(text_of(inbox.wait_for("ana@golden.example", subject="Confirm")[0])).group(1)
    page.goto(verify)
    page.get_by_role("button", name="Confirm my email").click()
    page.get_by_role("link", name="Couples cannot pay deposits online yet").click()  # the overview says
    expect(page.get_by_test_id("payments-account")).to_have_attribute("data-state", "not_connected")

    page.get_by_role("button", name="Connect with Stripe").click()  # to Stripe's onboarding
    expect(page.get_by_role("heading", name="Stripe onboarding (simulator)")).to_be_visible()
    page.get_by_role("button", name="Complete onboarding").click()  # and back to MAIS
    expect(page.get_by_test_id("payments-account")).to_have_attribute("data-state", "active")
    expect(page.get_by_test_id("charges")).to_contain_text("Charges enabled")
    tenant = db_session.scalar(select(Tenant).where(Tenant.slug == "golden-hour"))
    account = tenant.stripe_account_id
    owner = db_session.scalar(select(User).where(User.tenant_id == tenant.id))
    make_catalog(app, tenant.id, owner.id)  # Gold $2,500.00, 30 % deposit

    couple = browser.new_context().new_page()
    couple.goto(f"{live_server}/t/golden-hour/")
    couple.get_by_role("radio", name="Gold").check()
    couple.get_by_label("Your names").fill("Mia & Leo")
    couple.get_by_label("Email").fill("mia@example.com")
    fill_date_and_wait_for_terms(couple, future(app, tenant.id, 90).isoformat())
    couple.get_by_label("Venue").fill("Old Mill")
    expect(couple.get_by_test_id("terms-deposit")).to_have_text("$750.00")  # terms before paying
    # The terms panel refreshes after each change (htmx swaps it whole, checkbox included): tick
    # it once the refresh for the last change has landed.
    couple.wait_for_function("() => !document.querySelector('.htmx-request')")
    couple.get_by_role("checkbox", name="I have read and accept these terms").check()
    couple.get_by_role("button", name="Request this booking").click()
    expect(couple.get_by_role("heading", name="Pay $750.00")).to_be_visible()
    _pay(couple, "4242 4242 4242 4242", "$750.00")
    expect(couple.get_by_role("heading", name="Payment received")).to_be_visible()
    booking_id = db_session.scalar(select(Booking.id).where(Booking.tenant_id == tenant.id))
    [payment] = payments_of(app, booking_id)
    vendor = sim.client(account=account)
    pi = vendor.v1.payment_intents.retrieve(payment["intent"])  # on the vendor's account ...
    assert (pi.status, pi.amount, pi.application_fee_amount) == ("succeeded", 75000, 1500)
    assert sim.account_of("payment_intent", pi.id) == account  # ... and only there
    fee = sim.client().v1.application_fees.list().data[0]
    assert (fee.account, fee.amount) == (account, 1500)

    page.goto(f"{live_server}/dashboard/bookings/{booking_id}")
    expect(page.get_by_test_id("platform-fee")).to_have_text("platform fee $15.00")
    page.locator("#booking-refunds summary", has_text="Refund").first.click()
    page.get_by_label("Amount").fill("250.00")
    page.get_by_label("Reason").select_option("requested_by_customer")
    confirm_refund(page, "250.00")
    expect(page.get_by_test_id("refund-request").first.get_by_test_id("refund-status")).to_have_text(
        "succeeded", timeout=15000)
    [refund] = wait_until(lambda: sim_refunds(sim))
    assert refund["amount"] == 25000 and sim.account_of("refund", refund["id"]) == account
    calls = sim.control.requests("/v1/refunds", method="POST")
    assert [c["stripe_account"] for c in calls] == [account]
    assert sim.client().v1.application_fees.retrieve(fee.id).amount_refunded == 500
