"""Every dashboard page and the couple's pages, at desktop and phone widths: a screenshot of each
(kept in build/screenshots/, not committed), no sideways scrolling, and axe-core finds no serious
or critical accessibility violation."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fixtures.browser import PHONE
from tests.integration.bookings.helpers import book, future, make_catalog, outbox_links
from tests.integration.invoices.helpers import confirmed_booking, deliver_all
from tests.integration.payments.helpers import checkout_path, stages
from tests.integration.reports.helpers import record_cash

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "build" / "axe.min.js"
SHOTS = ROOT / "build" / "screenshots"
WIDTHS = {"desktop": {"viewport": {"width": 1280, "height": 900}}, "phone": PHONE}
SKIP = {"/dashboard/invoices.csv", "/dashboard/bookings.csv", "/dashboard/payments/received.csv"}


def dashboard_urls(app, booking_id: int) -> list[str]:
    urls = sorted(r.rule for r in app.url_map.iter_rules()
                  if r.rule.startswith("/dashboard") and "GET" in r.methods and not r.arguments
                  and r.rule not in SKIP)
    return urls + [f"/dashboard/bookings/{booking_id}", f"/dashboard/bookings/{booking_id}/edit"]


def shot_name(url: str) -> str:
    return url.strip("/").replace("/", "_").replace("?", "_") or "root"


def axe_problems(page) -> list[str]:
    # Evaluated through the DevTools protocol, so our CSP (no inline script) stays on.
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
          .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [json.dumps(v) for v in result]


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_is_accessible_and_fits_the_screen(app, live_server, browser, tenant_a, payments_sim, width):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make install` installs axe-core from npm")
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = confirmed_booking(app, tenant_a, shop.package_id, names="Alexandra Montgomery-Smith & Sam")
    record_cash(app, tenant_a, booking_id)
    pending = book(app, tenant_a.tenant_id, shop.other_package_id, future(app, tenant_a.tenant_id, 20),
                   email="pending@example.com")
    deliver_all(app)
    manage = outbox_links(app, booking_id)[-1]
    couple = {f"couple_{k}": manage[k].replace(live_server, "") for k in ("manage", "reschedule", "cancel")
              if k in manage}
    couple["public_booking_page"] = f"/t/{tenant_a.slug}/"
    couple["couple_checkout"] = checkout_path(app, tenant_a.slug, tenant_a.tenant_id, stages(app, pending)[0]["id"])

    context = browser.new_context(**WIDTHS[width])
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/auth/login")
        page.get_by_label("Email").fill(tenant_a.email)
        page.get_by_label("Password").fill(tenant_a.password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Alpha").first.wait_for()
        out = SHOTS / width
        out.mkdir(parents=True, exist_ok=True)
        viewport = WIDTHS[width]["viewport"]["width"]
        too_wide, violations = {}, {}
        pages = {shot_name(url): url for url in dashboard_urls(app, booking_id)} | couple
        for name, url in pages.items():
            response = page.goto(live_server + url)
            assert response.status < 400, (url, response.status)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            extra = page.evaluate("document.documentElement.scrollWidth") - viewport
            if extra > 1:
                too_wide[url] = extra
            found = axe_problems(page)
            if found:
                violations[url] = found
        assert too_wide == {}, f"pages wider than the screen (px): {too_wide}"
        assert violations == {}, "axe-core found serious or critical problems:\n" + "\n".join(
            f"{u}: {v}" for u, vs in violations.items() for v in vs)
    finally:
        context.close()


def test_screenshots_are_not_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "build/" in ignored and os.path.relpath(SHOTS, ROOT).startswith("build")
