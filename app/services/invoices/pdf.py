"""A document's PDF, rendered from its frozen snapshot (never from live rows)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.adapters import pdf
from app.services.shared.money import format_money

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "pdf"
TITLES = {"invoice": "Invoice", "receipt": "Receipt", "credit_note": "Credit note"}

_env: Environment | None = None


def _templates() -> Environment:
    global _env
    if _env is None:
        # Autoescape everything: couple names, venues and the tenant's terms are user text.
        _env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                           undefined=StrictUndefined)
    return _env


def html_for(snapshot: dict, page_count: int | None = None) -> str:
    """The document's HTML; `page_count` None leaves the footer's "of N" to xhtml2pdf."""
    currency, locale = snapshot["currency"], snapshot["locale"]
    return _templates().get_template("document.html").render(
        snap=snapshot, doc={"title": TITLES[snapshot["kind"]], "number": snapshot["number"]},
        money=lambda minor: format_money(minor, currency, locale),
        font_css=pdf.font_face_css(), page_count=page_count)


def render(snapshot: dict) -> tuple[bytes, str]:
    """The PDF bytes and their SHA-256 (hex).

    xhtml2pdf lays a document out twice when its footer says "of <pdf:pagecount>". Nearly every
    document fits on one page, so we first lay it out once with "of 1" written in, and only when
    it turns out longer render again with the two-pass page count: same content, half the work."""
    content = pdf.html_to_pdf(html_for(snapshot, page_count=1))
    if pdf.page_count(content) != 1:
        content = pdf.html_to_pdf(html_for(snapshot))
    return content, hashlib.sha256(content).hexdigest()
