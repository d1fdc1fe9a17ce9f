"""The simulator's Stripe.js stand-in in a real browser (Chromium via Playwright)."""
from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, expect

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
elements.create("payment").mount("#payment-element");
document.getElementById("payment-form").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const result = await stripe.confirmPayment({{
    elements, confirmParams: {{return_url: location.origin + "/done"}}, redirect: cfg.redirect}});
  document.getElementById("message").textContent = result.error
    ? result.error.message : "Payment " + result.paymentIntent.status;
}});
</script></body></html>"""


def _shop(sim_url: str) -> Any:
    """A tiny merchant site: "/" renders the checkout, "/done" the return page."""
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if environ["PATH_INFO"] == "/done":
            body = "<p id='done'>" + html.escape(json.dumps(query, sort_keys=True)) + "</p>"
        else:
            cfg = {"pk": query["pk"], "clientSecret": query["cs"],
                   "redirect": query.get("redirect", "if_required")}
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
    page.goto(f"{shop}/?pk={stripe_sim.publishable_key}&cs={pi.client_secret}"
              f"&redirect={redirect}")
    return pi


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
