"""Invoices, receipts and credit notes: numbering, frozen snapshots, stored PDFs, delivery."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.fixtures.portal import post_form
from tests.integration.bookings.helpers import outbox_links, path_of
from tests.integration.invoices.helpers import (
    confirmed_booking,
    deliver_all,
    documents,
    pdf_text,
    pending_booking,
    set_invoice_settings,
    squash,
)

XSS_NAMES = """<script>alert("x")</script> O'Brien & "Zoë" """.strip()


def test_confirming_a_booking_issues_an_invoice_whose_pdf_holds_number_lines_tax_and_total(
        app, tenant_a, shop):
    set_invoice_settings(app, tenant_a, tax_rate_bp=2000, tax_inclusive=False, tax_label="VAT",
                         terms="Pay within 14 days.")
    booking_id = confirmed_booking(app, tenant_a, shop.package_id, add_on_ids=[shop.add_on_id])
    assert deliver_all(app) == ["sent"]
    [invoice] = documents(app, booking_id)
    year = datetime.now(UTC).year
    assert invoice["kind"] == "invoice" and invoice["number"] == f"ALPHA-{year}-0001"
    # Gold 2,500.00 + Album 300.50 = 2,800.50; VAT 20 % on top = 560.10; total 3,360.60.
    assert (invoice["tax"], invoice["total"]) == (56010, 336060)
    text = squash(pdf_text(invoice["pdf"]))
    for expected in (invoice["number"], "Gold", "$2,500.00", "Album", "$300.50", "VAT 20 %",
                     "$560.10", "$3,360.60", "Alex & Sam", "Pay within 14 days.", "Page 1 of 1"):
        assert expected in text, (expected, text)
    import hashlib

    assert hashlib.sha256(invoice["pdf"]).hexdigest() == invoice["sha"]
    assert invoice["status"] == "sent"


def test_numbers_are_consecutive_per_kind_and_restart_each_year(app, tenant_a, shop):
    from app.services.shared import clock

    ids = [confirmed_booking(app, tenant_a, shop.package_id, days=d) for d in (40, 41, 42)]
    year = datetime.now(UTC).year
    assert [d["number"] for d in documents(app)] == [f"ALPHA-{year}-000{n}" for n in (1, 2, 3)]
    set_invoice_settings(app, tenant_a, invoice_prefix="ACME", padding=6)
    clock.travel(datetime(year + 1, 1, 15, 12, tzinfo=UTC))
    confirmed_booking(app, tenant_a, shop.package_id, days=43)
    assert documents(app)[-1]["number"] == f"ACME-{year + 1}-000001"
    assert len({d["booking_id"] for d in documents(app)}) == len(ids) + 1


def test_a_failed_issuing_transaction_gives_its_number_back(app, tenant_a, shop):
    from app.extensions import db
    from app.services.invoices import issuing as invoices

    first = pending_booking(app, tenant_a, shop.package_id, days=50)
    second = pending_booking(app, tenant_a, shop.package_id, days=51)
    with app.app_context():
        invoices.add_invoice(db.session, tenant_a.tenant_id, first)
        db.session.rollback()  # e.g. the confirmation failed after the number was taken
        doc = invoices.add_invoice(db.session, tenant_a.tenant_id, second)
        db.session.commit()
        assert doc.seq == 1
        db.session.remove()


def test_changing_the_package_price_after_issue_leaves_the_stored_pdf_unchanged(
        app, owner_client, tenant_a, shop):
    from app.extensions import db
    from app.models import Booking, Tenant
    from app.services.bookings import catalog

    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    deliver_all(app)
    [before] = documents(app, booking_id)
    with app.app_context():
        catalog.save_package(db.session, tenant_a.tenant_id, tenant_a.user_id, title="Gold",
                             description="Full day", price_text="9999.00", package_id=shop.package_id)
        db.session.execute(update(Booking).where(Booking.id == booking_id)
                           .values(package_price_minor=999900, couple_names="Someone Else"))
        db.session.execute(update(Tenant).where(Tenant.id == tenant_a.tenant_id).values(name="Renamed"))
        db.session.commit()
        db.session.remove()
    deliver_all(app)  # a re-run of the job must not re-render
    response = owner_client.get(f"/dashboard/invoices/{before['id']}/pdf")
    assert response.status_code == 200
    import hashlib

    assert hashlib.sha256(response.data).hexdigest() == before["sha"]
    [after] = documents(app, booking_id)
    assert after["sha"] == before["sha"] and after["snapshot"] == before["snapshot"]
    assert "$2,500.00" in pdf_text(response.data) and "9,999" not in pdf_text(response.data)


def test_downloads_serve_stored_bytes_with_pdf_headers(app, owner_client, tenant_a, shop):
    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    [doc] = documents(app, booking_id)
    assert doc["sha"] is None  # the job has not run: the first download renders and stores
    first = owner_client.get(f"/dashboard/invoices/{doc['id']}/pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"] == f'attachment; filename="{doc["number"]}.pdf"'
    second = owner_client.get(f"/dashboard/invoices/{doc['id']}/pdf")
    assert second.data == first.data
    assert documents(app, booking_id)[0]["sha"] is not None


def test_a_payment_gets_a_receipt_attached_to_its_email_referencing_the_invoice(
        app, owner_client, tenant_a, shop):
    from app.extensions import db
    from app.models import OutboundEmail
    from app.services.payments import recording as payments
    from app.services.payments import stages as payment_stages
    from app.web.links import WebLinks

    booking_id = pending_booking(app, tenant_a, shop.package_id)
    with app.app_context():
        deposit = payment_stages.stages_for(db.session, tenant_a.tenant_id, booking_id)[0]
        payments.record_offline_payment(
            db.session, tenant_a.tenant_id, booking_id,
            payments.OfflinePayment(stage_ids=[deposit.id], method="cash"), WebLinks(app),
            actor_user_id=tenant_a.user_id)
        mail = db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "payment_receipt")).one()
        attachments = [(a.filename, a.content_type, a.content) for a in mail.attachments]
        body = mail.text_body
        db.session.remove()
    invoice, receipt = documents(app, booking_id)
    year = datetime.now(UTC).year
    assert (invoice["kind"], receipt["kind"]) == ("invoice", "receipt")
    assert receipt["number"] == f"ALPHA-R-{year}-0001" and receipt["invoice_id"] == invoice["id"]
    [(filename, content_type, content)] = attachments
    assert (filename, content_type) == (f"{receipt['number']}.pdf", "application/pdf")
    assert content == receipt["pdf"]
    text = squash(pdf_text(content))
    assert receipt["number"] in text and invoice["number"] in text and "$750.00" in text
    assert receipt["number"] in body and "/t/alpha/documents/" in body


def test_a_credit_note_is_negative_and_the_register_shows_the_invoice_credited(
        app, owner_client, tenant_a, shop):
    from app.extensions import db
    from app.services.invoices import issuing as invoices

    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    with app.app_context():
        invoices.issue_credit_note(db.session, tenant_a.tenant_id, booking_id=booking_id,
                                   payment_id=None, amount_minor=50000, source_key="refund-part-7",
                                   reason="goodwill")
        db.session.commit()
        again = invoices.issue_credit_note(db.session, tenant_a.tenant_id, booking_id=booking_id,
                                           payment_id=None, amount_minor=50000,
                                           source_key="refund-part-7")
        db.session.commit()
        assert again.seq == 1  # a replayed refund event never credits twice
        db.session.remove()
    deliver_all(app)
    invoice, note = documents(app, booking_id)
    assert note["kind"] == "credit_note" and note["total"] == -50000
    assert note["invoice_id"] == invoice["id"]
    text = squash(pdf_text(note["pdf"]))
    assert "-$500.00" in text and invoice["number"] in text and note["number"] in text
    page = owner_client.get("/dashboard/invoices?status=credited").get_data(as_text=True)
    assert f'data-number="{invoice["number"]}" data-status="credited"' in page
    assert "$500.00 credited" in page


def test_register_filters_and_csv_export_are_formula_safe(app, owner_client, tenant_a, shop):
    confirmed_booking(app, tenant_a, shop.package_id, names="=HYPERLINK(\"http://evil\")", days=30)
    confirmed_booking(app, tenant_a, shop.other_package_id, names="Plain Names", days=31)
    year = datetime.now(UTC).year
    page = owner_client.get(f"/dashboard/invoices?number=ALPHA-{year}-0002").get_data(as_text=True)
    assert f"ALPHA-{year}-0002" in page and f"ALPHA-{year}-0001" not in page
    assert "0 documents" in owner_client.get("/dashboard/invoices?status=paid").get_data(as_text=True)
    assert "2 documents" in owner_client.get("/dashboard/invoices?status=issued").get_data(as_text=True)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert "0 documents" in owner_client.get(f"/dashboard/invoices?from={tomorrow}").get_data(as_text=True)
    response = owner_client.get("/dashboard/invoices.csv")
    assert response.mimetype == "text/csv"
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    by_name = {r["number"]: r for r in rows}
    assert by_name[f"ALPHA-{year}-0001"]["customer"] == "'=HYPERLINK(\"http://evil\")"
    assert by_name[f"ALPHA-{year}-0002"]["total"] == "1200.00"


def test_resend_emails_the_stored_pdf_again(app, owner_client, tenant_a, shop):
    from app.extensions import db
    from app.models import OutboundEmail

    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    deliver_all(app)
    [doc] = documents(app, booking_id)
    response = post_form(owner_client, f"/dashboard/invoices/{doc['id']}/resend", {},
                         get_url="/dashboard/invoices")
    assert response.status_code == 302
    with app.app_context():
        mails = db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "document")).all()
        assert len(mails) == 2 and all(m.attachments[0].content == doc["pdf"] for m in mails)
        db.session.remove()


def test_owner_issues_an_invoice_on_demand_once(app, owner_client, tenant_a, shop):
    booking_id = pending_booking(app, tenant_a, shop.package_id)
    url = f"/dashboard/bookings/{booking_id}/invoice"
    get_url = f"/dashboard/bookings/{booking_id}/documents"
    assert "Issue invoice" in owner_client.get(get_url).get_data(as_text=True)
    assert post_form(owner_client, url, {}, get_url=get_url).status_code == 302
    post_form(owner_client, url, {}, get_url=f"/dashboard/bookings/{booking_id}")
    assert [d["kind"] for d in documents(app, booking_id)] == ["invoice"]


def test_another_tenants_documents_are_not_found(app, tenant_a, tenant_b, shop, make_account):
    from tests.fixtures.accounts import login
    from tests.integration.bookings.helpers import make_catalog

    shop_b = make_catalog(app, tenant_b.tenant_id, tenant_b.user_id)
    booking_b = confirmed_booking(app, tenant_b, shop_b.package_id)
    [doc_b] = documents(app, booking_b)
    client = app.test_client()
    login(client, tenant_a.email)
    assert client.get(f"/dashboard/invoices/{doc_b['id']}/pdf").status_code == 404
    assert post_form(client, f"/dashboard/invoices/{doc_b['id']}/resend", {},
                     get_url="/dashboard/invoices").status_code == 404
    assert post_form(client, f"/dashboard/bookings/{booking_b}/invoice", {},
                     get_url="/dashboard/invoices").status_code == 404
    assert client.get(f"/dashboard/bookings/{booking_b}/documents").status_code == 404
    assert doc_b["number"] not in client.get("/dashboard/invoices").get_data(as_text=True)
    assert client.get("/dashboard/invoices.csv").get_data(as_text=True).count("\n") == 1


def _signed_link(app, booking_id: int) -> str:
    from app.extensions import db
    from app.models import OutboundEmail

    with app.app_context():
        body = db.session.scalars(select(OutboundEmail.text_body)
                                  .where(OutboundEmail.kind == "document")).one()
        db.session.remove()
    [url] = [w for w in body.split() if "/documents/" in w]
    return path_of(url)


def test_signed_email_link_downloads_and_marks_viewed_then_expires(app, client, tenant_a, tenant_b, shop):
    from app.services.shared import clock

    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    deliver_all(app)
    path = _signed_link(app, booking_id)
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert documents(app, booking_id)[0]["status"] == "viewed"
    # Tampered, or presented under another tenant: not found.
    assert client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")).status_code == 404
    assert client.get(path.replace("/t/alpha/", "/t/bravo/")).status_code == 404
    clock.advance(timedelta(days=31))
    expired = client.get(path)
    assert expired.status_code == 410
    assert "/t/alpha/fresh-link" in expired.get_data(as_text=True)


def test_couple_downloads_from_the_portal_and_user_text_is_escaped(app, client, tenant_a, shop):
    booking_id = confirmed_booking(app, tenant_a, shop.package_id, names=XSS_NAMES)
    manage = outbox_links(app)[-1]["manage"]
    page = client.get(path_of(manage)).get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Brien &amp; &#34;Zoë&#34;" in page
    [doc] = documents(app, booking_id)
    assert f"Invoice {doc['number']}" in page
    response = client.get(path_of(manage) + f"/documents/{doc['id']}")
    assert response.status_code == 200
    assert XSS_NAMES in squash(pdf_text(response.data))
    # A document of another booking is not reachable with this booking's link.
    other = confirmed_booking(app, tenant_a, shop.package_id, days=90)
    [other_doc] = documents(app, other)
    assert client.get(path_of(manage) + f"/documents/{other_doc['id']}").status_code == 404


def test_dashboard_register_escapes_user_text(app, owner_client, tenant_a, shop):
    confirmed_booking(app, tenant_a, shop.package_id, names=XSS_NAMES)
    page = owner_client.get("/dashboard/invoices").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_lost_render_jobs_are_found_by_the_sweeper(app, tenant_a, shop):
    from app.extensions import db
    from app.services.invoices import issuing as invoices
    from app.services.shared import clock

    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    clock.advance(timedelta(minutes=5))
    with app.app_context():
        lost = invoices.lost_renders(db.session)
        db.session.remove()
    assert lost == [documents(app, booking_id)[0]["id"]]
    deliver_all(app)
    with app.app_context():
        assert invoices.lost_renders(db.session) == []
        db.session.remove()


def test_accents_and_euro_pound_yen_appear_in_the_pdf(app, tenant_a, shop):
    from app.extensions import db
    from app.models import Document
    from app.services.invoices import pdf as invoice_pdf

    booking_id = confirmed_booking(app, tenant_a, shop.package_id, names="Zoë & Øyvind Müller")
    with app.app_context():
        snapshot = dict(db.session.scalars(select(Document.snapshot)
                                           .where(Document.booking_id == booking_id)).one())
        db.session.remove()
    for currency, symbol in (("EUR", "€"), ("GBP", "£"), ("JPY", "¥")):
        content, _ = invoice_pdf.render({**snapshot, "currency": currency})
        text = squash(pdf_text(content))
        assert symbol in text and "Zoë & Øyvind Müller" in text, (currency, text)
