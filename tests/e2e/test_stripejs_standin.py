"""The simulator's Stripe.js stand-in in a real browser (Chromium via Playwright): card
payments, 3D Secure through the stand-in's dialog, SetupIntents and saved cards."""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Locator, Page, expect

from stripe_sim import serve

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay</title><script src="{sim}/js/v3/"></script></head>
<body><main><h1>Pay your deposit</h1>
<form id="payment-form"><div id="payment-element"></div>
<button type="submit">Pay</button></form><p id="message" role="status"></p></main>
<script>
const cfg = {cfg};
const stripe = Stripe(cfg.pk);
const elements = stripe.elements({{clientSecret: cfg.clientSecret}});
// A saved card (cfg.paymentMethod) is confirmed without any element, as Stripe.js allows.
if (!cfg.paymentMethod) elements.create("payment").mount("#payment-element");
const setup = cfg.clientSecret.startsWith("seti_");
document.getElementById("payment-form").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const confirmParams = {{return_url: location.origin + "/done"}};
  if (cfg.paymentMethod) confirmParams.payment_method = cfg.paymentMethod;
  const result = await stripe[setup ? "confirmSetup" : "confirmPayment"]({{
    elements: cfg.paymentMethod ? undefined : elements, clientSecret: cfg.clientSecret,
    confirmParams, redirect: cfg.redirect}});
  document.getElementById("message").textContent = result.error ? result.error.message
    : setup ? "Setup " + result.setupIntent.status : "Payment " + result.paymentIntent.status;
}});
</script></body></html>"""


def _shop(sim_url: str) -> Any:
    """A tiny merchant site: "/" renders the checkout, "/done" the return page."""
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if environ["PATH_INFO"] == "/done":
            body = "<p id='done'>" + html.escape(json.dumps(query, sort_keys=True)) + "</p>"
        elif environ["PATH_INFO"] != "/":  # e.g. the browser's /favicon.ico
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found"]
        else:
            cfg = {"pk": query["pk"], "clientSecret": query["cs"],
                   "redirect": query.get("redirect", "if_required"),
                   "paymentMethod": query.get("pm")}
            body = PAGE.format(sim=sim_url, cfg=json.dumps(cfg))
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]
    return app


@pytest.fixture()
def shop(stripe_sim) -> Iterator[str]:
    running = serve(_shop(stripe_sim.url))
    try:
        yield running.url
    finally:
        running.stop()


def _open_checkout(page: Page, shop: str, stripe_sim, redirect: str = "if_required"):
    pi = stripe_sim.client().v1.payment_intents.create(
        params={"amount": 15000, "currency": "usd", "metadata": {"stage_id": "1"}})
    _open(page, shop, stripe_sim, pi.client_secret, redirect)
    return pi


def _open(page: Page, shop: str, stripe_sim, client_secret: str, redirect: str = "if_required",
          payment_method: str = "") -> None:
    page.goto(f"{shop}/?pk={stripe_sim.publishable_key}&cs={client_secret}"
              f"&redirect={redirect}&pm={payment_method}")


def _challenge(page: Page, title: str = "Authenticate this payment") -> Locator:
    """The stand-in's 3D Secure dialog once it is open, with focus on its first button."""
    dialog = page.get_by_role("dialog", name=title)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Complete authentication")).to_be_focused()
    return dialog


def _authenticate(page: Page, button: str, title: str = "Authenticate this payment") -> None:
    """Answer the stand-in's 3D Secure dialog and wait until it has closed."""
    dialog = _challenge(page, title)
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_have_count(0)


def _fill(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")


def test_visa_payment_succeeds(page: Page, shop: str, stripe_sim) -> None:
    pi = _open_checkout(page, shop, stripe_sim)
    _fill(page, "4242 4242 4242 4242")
    expect(page.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#message")).to_have_text("Payment succeeded")
    after = stripe_sim.client().v1.payment_intents.retrieve(pi.id)
    assert after.status == "succeeded" and after.amount_received == 15000
    confirm = stripe_sim.control.requests(f"/v1/payment_intents/{pi.id}/confirm")
    assert confirm[-1]["params"]["client_secret"] == pi.client_secret
    assert "key" not in confirm[-1]["params"]  # taken as the publishable key
    fetched = page.evaluate("stripe.retrievePaymentIntent(cfg.clientSecret)")
    assert fetched["paymentIntent"]["id"] == pi.id
    assert fetched["paymentIntent"]["status"] == "succeeded"


def test_declined_card_shows_the_decline_message(page: Page, shop: str, stripe_sim) -> None:
    pi = _open_checkout(page, shop, stripe_sim)
    _fill(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#message")).to_have_text("Your card was declined.")
    after = stripe_sim.client().v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.decline_code == "generic_decline"


def test_incomplete_card_is_caught_in_the_browser(page: Page, shop: str, stripe_sim) -> None:
    pi = _open_checkout(page, shop, stripe_sim)
    page.get_by_label("Card number").fill("4242 4242")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#message")).to_have_text("Your card number is incomplete.")
    expect(page.get_by_role("alert")).to_have_text("Your card number is incomplete.")
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    assert stripe_sim.control.requests(f"/v1/payment_intents/{pi.id}/confirm") == []


def test_redirect_on_phone_carries_stripe_return_params(phone_page: Page, shop: str,
                                                        stripe_sim) -> None:
    pi = _open_checkout(phone_page, shop, stripe_sim, redirect="always")
    _fill(phone_page, "4242424242424242")
    box = phone_page.get_by_label("Card number").bounding_box()
    assert box is not None and box["width"] <= 390 and box["height"] >= 44
    phone_page.get_by_role("button", name="Pay").click()
    phone_page.wait_for_url("**/done?**")
    returned = json.loads(phone_page.locator("#done").inner_text())
    assert returned == {"payment_intent": pi.id, "payment_intent_client_secret":
                        pi.client_secret, "redirect_status": "succeeded"}


def test_3184_payment_is_authenticated_in_the_dialog(page: Page, shop: str, stripe_sim) -> None:
    pi = _open_checkout(page, shop, stripe_sim)
    _fill(page, "4000 0027 6000 3184")
    page.get_by_role("button", name="Pay").click()
    _authenticate(page, "Complete authentication")
    expect(page.locator("#message")).to_have_text("Payment succeeded")
    after = stripe_sim.client().v1.payment_intents.retrieve(pi.id)
    assert after.status == "succeeded" and after.amount_received == 15000
    (auth,) = stripe_sim.control.requests(f"/v1/payment_intents/{pi.id}/_authenticate")
    assert auth["params"] == {"client_secret": pi.client_secret, "result": "complete"}


def test_failed_authentication_resolves_with_the_error(page: Page, shop: str, stripe_sim
                                                       ) -> None:
    pi = _open_checkout(page, shop, stripe_sim)
    _fill(page, "4000002760003184")
    page.get_by_role("button", name="Pay").click()
    dialog = _challenge(page)  # open (the confirm has answered) before any key is pressed
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Fail authentication")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Complete authentication")).to_be_focused()
    _authenticate(page, "Fail authentication")
    expect(page.locator("#message")).to_have_text(re.compile(
        "^The provided PaymentMethod has failed authentication"))
    after = stripe_sim.client().v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "payment_intent_authentication_failure"


def test_confirm_setup_saves_the_card_for_the_customer(page: Page, shop: str, stripe_sim
                                                       ) -> None:
    client = stripe_sim.client()
    cus = client.v1.customers.create(params={"email": "couple@example.com"})
    si = client.v1.setup_intents.create(params={"customer": cus.id})
    _open(page, shop, stripe_sim, si.client_secret)
    _fill(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#message")).to_have_text("Setup succeeded")
    done = client.v1.setup_intents.retrieve(si.id)
    assert done.status == "succeeded"
    saved = client.v1.customers.payment_methods.list(cus.id).data
    assert [pm.id for pm in saved] == [done.payment_method]
    fetched = page.evaluate("stripe.retrieveSetupIntent(cfg.clientSecret)")
    assert fetched["setupIntent"]["status"] == "succeeded"


def test_confirm_setup_with_3155_authenticates_then_redirects(page: Page, shop: str,
                                                              stripe_sim) -> None:
    client = stripe_sim.client()
    cus = client.v1.customers.create(params={"email": "couple@example.com"})
    si = client.v1.setup_intents.create(params={"customer": cus.id})
    _open(page, shop, stripe_sim, si.client_secret, redirect="always")
    _fill(page, "4000 0025 0000 3155")
    page.get_by_role("button", name="Pay").click()
    _authenticate(page, "Complete authentication", "Authenticate this card")
    page.wait_for_url("**/done?**")
    returned = json.loads(page.locator("#done").inner_text())
    assert returned == {"setup_intent": si.id, "setup_intent_client_secret": si.client_secret,
                        "redirect_status": "succeeded"}
    pm = client.v1.setup_intents.retrieve(si.id).payment_method
    paid = client.v1.payment_intents.create(params={
        "amount": 5000, "currency": "usd", "customer": cus.id, "payment_method": pm,
        "off_session": True, "confirm": True})
    assert paid.status == "succeeded"


def test_saved_card_needing_authentication_is_paid_without_elements(page: Page, shop: str,
                                                                    stripe_sim) -> None:
    client = stripe_sim.client()
    cus = client.v1.customers.create(params={"email": "couple@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_authenticationRequired",
                                          params={"customer": cus.id})
    pi = client.v1.payment_intents.create(params={"amount": 9000, "currency": "usd",
                                                  "customer": cus.id})
    _open(page, shop, stripe_sim, pi.client_secret, payment_method=pm.id)
    expect(page.get_by_label("Card number")).to_have_count(0)
    page.get_by_role("button", name="Pay").click()
    _authenticate(page, "Complete authentication")
    expect(page.locator("#message")).to_have_text("Payment succeeded")
    after = client.v1.payment_intents.retrieve(pi.id)
    assert (after.status, after.payment_method, after.amount_received) == (
        "succeeded", pm.id, 9000)
