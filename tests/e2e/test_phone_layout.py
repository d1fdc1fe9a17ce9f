"""Every dashboard page and the couple's pages fit a phone: no sideways scrolling of the page
(wide tables scroll inside their own box)."""
from __future__ import annotations

from datetime import timedelta

from tests.integration.autopay.rows import autopay_booking, failed
from tests.integration.bookings.helpers import make_catalog, outbox_links
from tests.integration.invoices.helpers import confirmed_booking, deliver_all

PHONE_WIDTH = 390


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth") - PHONE_WIDTH


def test_pages_fit_a_phone(app, live_server, phone_page, tenant_a):
    from app.services.shared import clock

    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = confirmed_booking(app, tenant_a, shop.package_id, names="Alexandra Montgomery-Smith & Sam")
    # Autopay with long names and a long decline reason: the autopay page and booking panel.
    autopay_id, charges = autopay_booking(app, tenant_a, shop.package_id, days=75, brand="mastercard",
                                          names="Maximilian Alexander-Worthington & Bartholomew",
                                          email="autopay@example.com")
    failed(app, charges[0], "Your card does not support this type of purchase; the bank "
           "asks the cardholder to call them before trying again.", clock.now() - timedelta(days=1))
    deliver_all(app)
    page = phone_page
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(tenant_a.email)
    page.get_by_label("Password").fill(tenant_a.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Alpha").wait_for()
    # Not pages: a CSV, and the Payments account's redirects to and from Stripe.
    skip = {"/dashboard/invoices.csv", "/dashboard/payments-account/stripe-dashboard",
            "/dashboard/payments-account/refresh", "/dashboard/payments-account/return"}
    urls = sorted(r.rule for r in app.url_map.iter_rules()
                  if r.rule.startswith("/dashboard") and "GET" in r.methods and not r.arguments
                  and r.rule not in skip and not r.rule.endswith(".csv"))
    urls += [f"/dashboard/bookings/{booking_id}", f"/dashboard/bookings/{booking_id}/edit",
             f"/dashboard/bookings/{autopay_id}", f"/dashboard/bookings/{autopay_id}/autopay"]
    assert "/dashboard/autopay" in urls
    manage = outbox_links(app, booking_id)[-1]["manage"]
    too_wide = {}
    for url in urls + [manage.replace(live_server, ""), f"/t/{tenant_a.slug}/"]:
        page.goto(live_server + url)
        page.wait_for_load_state("networkidle")
        if overflow(page) > 1:
            too_wide[url] = overflow(page)
    assert too_wide == {}, f"pages wider than a phone (px too wide): {too_wide}"
