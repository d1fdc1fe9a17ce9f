"""Settings that guide: time zone, currency and locale are lists; the payment schedule page
previews what a couple would be asked to pay, as the owner edits it."""
from __future__ import annotations

from tests.fixtures.portal import csrf_from
from tests.integration.bookings.helpers import make_catalog


def test_settings_offer_lists_of_time_zones_currencies_and_locales(owner_client):
    page = owner_client.get("/dashboard/settings").get_data(as_text=True)
    assert 'data-searchable="time zones" id="timezone" name="timezone"><optgroup' in page
    assert '<optgroup label="Europe">' in page and '<option value="Europe/Berlin">Europe/Berlin</option>' in page
    assert '<option selected value="America/New_York">America/New York</option>' in page
    assert '<option selected value="USD">USD – US Dollar</option>' in page
    assert 'value="de_DE">German (Germany) (de_DE)</option>' in page


def test_the_schedule_page_previews_the_stages_a_couple_pays(app, owner_client, tenant_a):
    make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)  # Silver $1,200.00 comes first
    page = owner_client.get("/dashboard/payments/settings").get_data(as_text=True)
    stages = page.split('data-testid="preview-stages"', 1)[1].split("</ol>", 1)[0]
    assert "$360.00" in stages and "when booking" in stages and "$840.00" in stages and "Silver" in page
    assert 'data-show-if="mode:installments"' in page

    form = {"csrf_token": csrf_from(page), "mode": "installments", "deposit_kind": "percent",
            "deposit_percent": "30", "deposit_amount": "", "balance_due_days": "30",
            "installments-0-percent": "20", "installments-0-anchor": "event", "installments-0-days": "",
            "installments-1-percent": "30", "installments-1-anchor": "booking", "installments-1-days": "30",
            "installments-2-percent": "50", "installments-2-anchor": "event", "installments-2-days": "14"}
    fragment = owner_client.post("/dashboard/payments/settings/preview", data=form,
                                 headers={"HX-Request": "true", "X-CSRFToken": csrf_from(page)})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert [s in text for s in ("$240.00", "$360.00", "$600.00")] == [True, True, True]
    bad = owner_client.post("/dashboard/payments/settings/preview", data={**form, "installments-2-percent": "70"},
                            headers={"X-CSRFToken": csrf_from(page)})
    assert 'data-testid="preview-problem"' in bad.get_data(as_text=True)
