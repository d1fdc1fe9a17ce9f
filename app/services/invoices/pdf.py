"""A document's PDF, rendered from its frozen snapshot (never from live rows)."""
from __future__ import annotations

import hashlib
from contextvars import ContextVar
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from app.adapters import pdf
from app.services.shared.money import money_filter

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "pdf"
TITLES = {"invoice": "Invoice", "receipt": "Receipt", "credit_note": "Credit note",
          "terms": "Booking terms"}

FONT_CSS_SLOT = "/*mais-font-faces*/"


_current_runs: ContextVar[pdf.FontRuns] = ContextVar("mais_pdf_font_runs")
_env: Environment | None = None


def _finalize(value):
    return _current_runs.get()(value)


def _templates() -> Environment:
    # Autoescape everything: couple names, venues and the tenant's terms are user text. Every
    # printed value goes through the render's `FontRuns` (via `finalize`), which escapes it and
    # puts characters of other scripts (CJK, Devanagari, emoji) in spans of a font that has them.
    # One environment for every render, so the template is compiled once per process.
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                           undefined=StrictUndefined, finalize=_finalize)
        _env.filters["money"] = money_filter
    return _env


def html_for(snapshot: dict, page_count: int | None = None) -> str:
    """The document's HTML; `page_count` None leaves the footer's "of N" to xhtml2pdf."""
    runs = pdf.FontRuns()
    token = _current_runs.set(runs)
    try:
        html = _templates().get_template("document.html").render(
            snap=snapshot, doc={"title": TITLES[snapshot["kind"]], "number": snapshot["number"]},
            money_currency=snapshot["currency"], money_locale=snapshot["locale"],
            font_css=Markup(FONT_CSS_SLOT), page_count=page_count)
    finally:
        _current_runs.reset(token)
    # The @font-face rules come last: only now is it known which fallback fonts are used.
    return html.replace(FONT_CSS_SLOT, pdf.font_face_css(runs.used), 1)


def render(snapshot: dict) -> tuple[bytes, str]:
    """The PDF bytes and their SHA-256 (hex).

    xhtml2pdf lays a document out twice when its footer says "of <pdf:pagecount>". Nearly every
    document fits on one page, so we first lay it out once with "of 1" written in, and only when
    it turns out longer render again with the two-pass page count: same content, half the work."""
    content = pdf.html_to_pdf(html_for(snapshot, page_count=1))
    if pdf.page_count(content) != 1:
        content = pdf.html_to_pdf(html_for(snapshot))
    return content, hashlib.sha256(content).hexdigest()
