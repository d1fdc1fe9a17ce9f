"""A document's PDF, rendered from its frozen snapshot (never from live rows)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from app.adapters import pdf
from app.services.shared.money import format_money

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "pdf"
TITLES = {"invoice": "Invoice", "receipt": "Receipt", "credit_note": "Credit note"}

FONT_CSS_SLOT = "/*mais-font-faces*/"


def _templates(runs: pdf.FontRuns) -> Environment:
    # Autoescape everything: couple names, venues and the tenant's terms are user text. Every
    # printed value goes through `runs`, which escapes it and puts characters of other scripts
    # (CJK, Devanagari, emoji) in spans of a font that has them. One environment per render:
    # `finalize` is fixed when an environment is made.
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                       undefined=StrictUndefined, finalize=runs)


def html_for(snapshot: dict) -> str:
    currency, locale = snapshot["currency"], snapshot["locale"]
    runs = pdf.FontRuns()
    html = _templates(runs).get_template("document.html").render(
        snap=snapshot, doc={"title": TITLES[snapshot["kind"]], "number": snapshot["number"]},
        money=lambda minor: format_money(minor, currency, locale),
        font_css=Markup(FONT_CSS_SLOT))
    # The @font-face rules come last: only now is it known which fallback fonts are used.
    return html.replace(FONT_CSS_SLOT, pdf.font_face_css(runs.used), 1)


def render(snapshot: dict) -> tuple[bytes, str]:
    """The PDF bytes and their SHA-256 (hex)."""
    content = pdf.html_to_pdf(html_for(snapshot))
    return content, hashlib.sha256(content).hexdigest()
