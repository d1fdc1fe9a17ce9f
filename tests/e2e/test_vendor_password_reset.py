"""A vendor signs up, logs out, resets the password from the emailed link, in Chromium."""
import re

from tests.fixtures.smtp import text_of

LINK = re.compile(r"(https?://\S+/auth/reset/[A-Za-z0-9_-]{43})")
VERIFY = re.compile(r"(https?://\S+/auth/verify/[A-Za-z0-9_-]{43})")


def test_vendor_signup_reset_and_reused_link(live_server, phone_page, consumer, inbox):
    page = phone_page
    page.goto(f"{live_server}/auth/signup")
    page.get_by_label("Business name").fill("Bloom & Vow")
    page.get_by_label("Public address (/t/...)").fill("bloom-vow")
    page.get_by_label("Your name").fill("Rosa")
    page.get_by_label("Email").fill("rosa@bloom.example")
    page.get_by_label("Password").fill("first-password-1")
    page.get_by_label("Filter time zones").fill("paris")  # the filter box picks the first match
    assert page.get_by_label("Time zone", exact=True).input_value() == "Europe/Paris"
    page.get_by_label("Currency", exact=True).select_option("EUR")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    verify = VERIFY.search(text_of(inbox.wait_for("rosa@bloom.example", subject="Confirm")[0])).group(1)
    page.goto(verify)
    page.get_by_role("button", name="Confirm my email").click()
    page.get_by_role("heading", name="Bloom & Vow").wait_for()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("rosa@bloom.example")
    page.get_by_role("button", name="Email me a reset link").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    link = LINK.search(text_of(inbox.wait_for("rosa@bloom.example", subject="Reset")[0])).group(1)
    page.goto(link)
    page.get_by_label("New password").fill("second-password-2")
    page.get_by_label("Repeat it").fill("second-password-2")
    page.get_by_role("button", name="Save new password").click()
    page.get_by_text("Your password is changed").wait_for()

    page.get_by_label("Email").fill("rosa@bloom.example")
    page.get_by_label("Password").fill("first-password-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("do not match an account").wait_for()

    page.get_by_label("Email").fill("rosa@bloom.example")
    page.get_by_label("Password").fill("second-password-2")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Bloom & Vow").wait_for()

    response = page.goto(link)
    assert response.status == 410
    page.get_by_role("heading", name="This link has expired or was already used").wait_for()
    page.get_by_role("link", name="Email me a fresh link").click()
    assert page.url.endswith("/auth/forgot")
