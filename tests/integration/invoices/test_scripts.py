"""Invoices print names in every script: pdftotext reads them back; no boxes for letters."""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata

import pytest
from sqlalchemy import select

from app.adapters import pdf
from tests.integration.invoices.helpers import confirmed_booking, deliver_all

NAMES = ["山田 花子", "Дмитрий", "محمد", "דנה", "王小明", "Ελένη", "प्रिया"]
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="needs pdftotext (poppler-utils, make system-deps)")
needs_fonts = pytest.mark.skipif(len(pdf.fallback_fonts()) < 4,
                                 reason="needs fonts-noto-core, fonts-droid-fallback, fonts-symbola")


def _pdftotext(content: bytes) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=content,
                          capture_output=True, check=True).stdout.decode()
    # Arabic is drawn in its joined presentation forms, which NFKC maps back to letters; the
    # bidi embedding marks pdftotext adds around right-to-left runs are not text.
    return re.sub("[\u202a-\u202e\u200e\u200f]", "", unicodedata.normalize("NFKC", text))


@needs_pdftotext
@needs_fonts
def test_an_invoice_for_names_in_many_scripts_prints_them(app, tenant_a, shop):
    from app.extensions import db
    from app.models import Document

    booking_id = confirmed_booking(app, tenant_a, shop.package_id, names=" & ".join(NAMES[:4]))
    other_id = confirmed_booking(app, tenant_a, shop.package_id, days=90,
                                 names=" & ".join(NAMES[4:]) + " 💍")
    assert deliver_all(app) == ["sent", "sent"]
    with app.app_context():
        stored = {d.booking_id: bytes(d.pdf) for d in db.session.scalars(select(Document)).all()}
        db.session.remove()
    text = _pdftotext(stored[booking_id])
    for name in NAMES[:4]:
        assert name in text, (name, text)
    other = _pdftotext(stored[other_id])
    assert "王小明" in other and "Ελένη" in other
    # Devanagari is drawn unshaped: every letter and sign is there, in typed order.
    assert all(ch in other for ch in "प्रिया")


def test_characters_no_font_has_are_left_out_and_fallbacks_are_font_runs():
    runs = pdf.FontRuns()
    markup = runs.runs("Ana <b> 山田 \U000F0000 👍🏽\u200d")
    assert "&lt;b&gt;" in markup and "\U000F0000" not in markup and "\u200d" not in markup
    if pdf.fallback_fonts():
        assert '<font face="MaisCJK">山田</font>' in markup
        assert runs.used >= {"MaisCJK"}
    latin = pdf.FontRuns()
    assert latin.runs("Zoë & Léo") == "Zoë &amp; Léo" and latin.used == set()


def _embedded_fonts(content: bytes) -> dict[str, bool]:
    """Font name (subset prefix removed) -> embedded, as pdffonts reports them."""
    report = subprocess.run(["pdffonts", "-"], input=content, capture_output=True, check=True)
    rows = report.stdout.decode().splitlines()[2:]
    return {row.split()[0].split("+")[-1]: row.split()[-5] == "yes" for row in rows}


@needs_pdftotext
@needs_fonts
def test_a_latin_invoice_embeds_no_fallback_font(app, tenant_a, shop):
    from app.extensions import db
    from app.models import Document
    from app.services.invoices import pdf as invoice_pdf

    booking_id = confirmed_booking(app, tenant_a, shop.package_id, names="Zoë & Léo")
    with app.app_context():
        snapshot = dict(db.session.scalars(select(Document.snapshot)
                                           .where(Document.booking_id == booking_id)).one())
        db.session.remove()
    latin = _embedded_fonts(invoice_pdf.render(snapshot)[0])
    assert latin["DejaVuSans"] and latin["DejaVuSans-Bold"]
    assert "DroidSansFallback" not in latin
    cjk = _embedded_fonts(invoice_pdf.render(
        {**snapshot, "customer": {**snapshot["customer"], "name": "山田 花子"}})[0])
    assert cjk["DroidSansFallback"] and cjk["DejaVuSans"]
