"""How a document's PDF is laid out: long invoices run over pages, each page numbered and with the
line table's header; fonts are parsed once per process."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.adapters import pdf
from tests.integration.invoices.helpers import confirmed_booking, squash


def _snapshot(app, tenant_a, shop, **changes) -> dict:
    from app.extensions import db
    from app.models import Document

    booking_id = confirmed_booking(app, tenant_a, shop.package_id)
    with app.app_context():
        snapshot = dict(db.session.scalars(select(Document.snapshot)
                                           .where(Document.booking_id == booking_id)).one())
        db.session.remove()
    return {**snapshot, **changes}


def test_a_long_invoice_numbers_its_pages_and_repeats_the_table_header(app, tenant_a, shop):
    from app.services.invoices import pdf as invoice_pdf

    lines = [{"description": f"Hour {n} of coverage", "quantity": 1, "unit_minor": 10000 + n,
              "amount_minor": 10000 + n} for n in range(120)]
    content, _ = invoice_pdf.render(_snapshot(app, tenant_a, shop, lines=lines))
    pages = [squash(page.extract_text()) for page in PdfReader(io.BytesIO(content)).pages]
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text, text
    with_lines = [text for text in pages if "Hour " in text]
    assert len(with_lines) >= 2
    assert all("Description Qty Unit price Amount" in text for text in with_lines)
    everything = " ".join(pages)
    assert all(f"Hour {n} of coverage" in everything for n in range(120))
    assert "$101.19" in everything and "Balance" in pages[-1]


def test_a_second_render_reuses_the_fonts_the_first_registered(app, tenant_a, shop, monkeypatch):
    from app.services.invoices import pdf as invoice_pdf

    snapshot = _snapshot(app, tenant_a, shop)
    cjk = {**snapshot, "customer": {**snapshot["customer"], "name": "山田 花子"}}
    first, _ = invoice_pdf.render(cjk)
    assert pdf.FONT_NAME in pdf.registered_fonts()

    def parse_again(*args, **kwargs):
        raise AssertionError("a font file was parsed again")

    monkeypatch.setattr(pdf, "TTFont", parse_again)
    again, _ = invoice_pdf.render(cjk)
    latin, _ = invoice_pdf.render(snapshot)
    assert again.startswith(b"%PDF-") and latin.startswith(b"%PDF-")
    # Same document, same bytes apart from the creation date and document id.
    assert len(again) == pytest.approx(len(first), abs=64)


def test_an_unreadable_logo_is_left_out_and_the_document_still_renders(app, tenant_a, shop):
    from app.services.invoices import pdf as invoice_pdf

    snapshot = _snapshot(app, tenant_a, shop, brand={"accent": "#0b6e4f", "logo": "data:image/png;base64,AAAA"})
    content, _ = invoice_pdf.render(snapshot)
    assert snapshot["tenant"]["name"] in squash(PdfReader(io.BytesIO(content)).pages[0].extract_text())
