"""Steps several Chromium tests share."""
from __future__ import annotations

from playwright.sync_api import expect


def confirm_refund(page, amount: str) -> None:
    """Press Refund and accept the question, which must name the amount typed."""
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_test_id("refund-request").first).to_be_visible()
    assert asked and f"Refund {amount} USD" in asked[0] and "cannot be undone" in asked[0], asked


def fill_date_and_wait_for_terms(page, value: str) -> None:
    """Type the event date and wait until the terms panel it refreshes has been swapped in:
    the acceptance box is part of that panel, and terms accepted from a stale panel are
    (rightly) refused."""
    with page.expect_response(lambda r: "/terms?" in r.url):
        page.locator("#event_date").fill(value)
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
