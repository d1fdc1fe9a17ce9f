"""A document's PDF, rendered from its frozen snapshot (never from live rows)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.adapters import pdf
from app.services.shared.money import format_money

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "pdf"
TITLES = {"invoice": "Invoice", "receipt": "Receipt", "credit_note": "Credit note",
          "terms": "Booking terms"}

_env: Environment | None = None


def _templates() -> Environment:
    global _env
    if _env is None:
        # Autoescape everything: couple names, venues and the tenant's terms are user text.
        _env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                           undefined=StrictUndefined)
    return _env


def html_for(snapshot: dict) -> str:
    currency, locale = snapshot["currency"], snapshot["locale"]
    return _templates().get_template("document.html").render(
        snap=snapshot, doc={"title": TITLES[snapshot["kind"]], "number": snapshot["number"]},
        money=lambda minor: format_money(minor, currency, locale),
        font_css=pdf.font_face_css())


def render(snapshot: dict) -> tuple[bytes, str]:
    """The PDF bytes and their SHA-256 (hex)."""
    content = pdf.html_to_pdf(html_for(snapshot))
    return content, hashlib.sha256(content).hexdigest()
