"""In Chromium: the couple downloads their invoice from the portal (a real PDF naming them),
and the owner downloads the same stored PDF from the invoice register."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.fixtures.accounts import PASSWORD
from tests.integration.bookings.helpers import make_catalog, outbox_links
from tests.integration.invoices.helpers import confirmed_booking, deliver_all, documents, pdf_text, squash

NAMES = 'Zoë & "Léo" <script>x</script>'


def test_couple_and_owner_download_the_invoice(app, live_server, phone_page, browser, tenant_a, tmp_path):
    shop = make_catalog(app, tenant_a.tenant_id, tenant_a.user_id)
    booking_id = confirmed_booking(app, tenant_a, shop.package_id, add_on_ids=[shop.add_on_id],
                                   names=NAMES)
    deliver_all(app)
    [invoice] = documents(app, booking_id)
    manage = outbox_links(app)[-1]["manage"]

    page = phone_page
    page.goto(manage)
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name=f"Download {invoice['number']} (PDF)").click()
    download = info.value
    assert download.suggested_filename == f"{invoice['number']}.pdf"
    saved = tmp_path / "couple.pdf"
    download.save_as(saved)
    text = squash(pdf_text(saved.read_bytes()))
    assert NAMES in text and invoice["number"] in text
    assert saved.read_bytes() == invoice["pdf"]

    owner = browser.new_context().new_page()
    owner.goto(f"{live_server}/auth/login")
    owner.get_by_label("Email").fill(tenant_a.email)
    owner.get_by_label("Password").fill(PASSWORD)
    owner.get_by_role("button", name="Log in").click()
    owner.get_by_role("link", name="Invoices").click()
    row = owner.get_by_test_id("document-row").filter(has_text=invoice["number"])
    expect(row).to_contain_text(NAMES)
    expect(row.get_by_test_id("document-status")).to_have_text("viewed")
    with owner.expect_download() as info:
        row.get_by_role("link", name=f"Download {invoice['number']}").click()
    owner_copy = Path(tmp_path / "owner.pdf")
    info.value.save_as(owner_copy)
    assert owner_copy.read_bytes() == invoice["pdf"]
    owner.context.close()
