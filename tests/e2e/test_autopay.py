"""Autopay in Chromium, as a couple on a phone: tick autopay at the deposit and pass the bank's
check with a card that always asks for it (4000 0027 6000 3184); on the next due date the
off-session charge needs the couple, whose email link completes it with the saved card; the
booking page shows the saved card and the charges to come. Screenshots go to MAIS_SCREENSHOTS."""
from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.fixtures.smtp import text_of
from tests.integration.autopay.helpers import (
    charges,
    installments_shop,
    mandate,
    run_due_charges,
    travel_to_charge_moment,
    wait_until,
)
from tests.integration.bookings.helpers import outbox_links
from tests.integration.payments.helpers import checkout_path, new_booking, stages

SHOTS = os.environ.get("MAIS_SCREENSHOTS")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")


def _authenticate(page: Page) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Complete authentication").click()


def test_autopay_with_a_card_the_bank_checks_every_time(
        app, live_server, consumer, inbox, phone_page, tenant_a, payments_sim):
    shop = installments_shop(app, tenant_a)
    booking_id = new_booking(app, tenant_a, shop.package_id, days=200)
    page = phone_page
    deposit = stages(app, booking_id)[0]
    page.goto(live_server + checkout_path(app, tenant_a.slug, tenant_a.tenant_id, deposit["id"]))
    expect(page.get_by_role("heading", name="Pay $625.00")).to_be_visible()
    offer = page.get_by_test_id("autopay-offer")
    expect(offer).to_contain_text("$625.00")
    box = page.get_by_role("checkbox", name="Pay the remaining installments automatically")
    expect(box).not_to_be_checked()  # unticked by default
    box.check()
    expect(page.get_by_test_id("autopay-saved")).to_have_attribute("data-chosen", "yes")
    _shot(page, "autopay-checkout-phone")
    _card(page, "4000 0027 6000 3184")
    page.get_by_role("button", name="Pay $625.00").click()
    _authenticate(page)
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    saved = wait_until(lambda: (m := mandate(app, booking_id)) and m["status"] == "active" and m,
                       "autopay turning on")
    assert saved["last4"] == "3184"

    # The couple's booking page shows the card and what comes next.
    manage = outbox_links(app, booking_id)[-1]["manage"]
    page.goto(manage)
    section = page.get_by_test_id("portal-autopay")
    expect(section).to_have_attribute("data-state", "on")
    expect(section.get_by_test_id("saved-card")).to_contain_text("Visa ending 3184")
    expect(section.get_by_test_id("autopay-line")).to_have_count(3)
    _shot(page, "autopay-portal-phone")

    # The second installment's date: the off-session charge needs the couple.
    second = stages(app, booking_id)[1]
    travel_to_charge_moment(app, tenant_a, second["due"])
    assert run_due_charges(app) == ["needs_action"]
    mail = inbox.wait_for("couple@example.com", subject="Please confirm your payment")[0]
    [pay_link] = re.findall(r"https?://\S+/pay/\S+", text_of(mail))
    page.goto(pay_link)
    expect(page.get_by_role("heading", name="Pay $625.00")).to_be_visible()
    _shot(page, "autopay-confirm-saved-card-phone")
    page.get_by_role("button", name="Pay $625.00 with Visa ending 3184").click()
    _authenticate(page)
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    assert stages(app, booking_id)[1]["status"] == "paid"
    assert charges(app, booking_id)[0]["status"] == "paid"
    inbox.wait_for("couple@example.com", subject="Receipt: $625.00", count=2)


def test_the_couple_saves_another_card_from_their_booking_page(
        app, live_server, consumer, inbox, page, tenant_a, payments_sim):
    from app.extensions import db
    from app.services.payments import recording
    from app.web.links import WebLinks

    shop = installments_shop(app, tenant_a)
    booking_id = new_booking(app, tenant_a, shop.package_id, days=200)
    with app.app_context():  # the deposit was paid by bank transfer: no card saved yet
        recording.record_offline_payment(
            db.session, tenant_a.tenant_id, booking_id,
            recording.OfflinePayment([stages(app, booking_id)[0]["id"]], "bank_transfer"),
            WebLinks(app), actor_user_id=tenant_a.user_id)
        db.session.remove()
    page.goto(outbox_links(app, booking_id)[-1]["manage"])
    section = page.get_by_test_id("portal-autopay")
    expect(section).to_have_attribute("data-state", "off")
    section.get_by_role("link", name="Set up automatic payments").click()
    expect(page.get_by_test_id("consent")).to_contain_text("I authorise Alpha to charge this card")
    _shot(page, "autopay-card-page-desktop")
    _card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Agree and save card").click()
    expect(page.get_by_test_id("done")).to_have_attribute("data-action", "autopay_on")
    expect(page.get_by_test_id("portal-autopay")).to_have_attribute("data-state", "on")
    assert mandate(app, booking_id)["last4"] == "4242"
    assert [c["status"] for c in charges(app, booking_id)] == ["scheduled"] * 3
    _shot(page, "autopay-portal-desktop")

    page.get_by_role("button", name="Switch automatic payments off").click()
    expect(page.get_by_test_id("done")).to_have_attribute("data-action", "autopay_off")
    assert mandate(app, booking_id)["status"] == "off"
    assert [c["status"] for c in charges(app, booking_id)] == ["off"] * 3
