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
