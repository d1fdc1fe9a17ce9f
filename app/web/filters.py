"""Jinja filters for pages: money in the tenant's locale, local dates, links in plain-text email
bodies."""
from __future__ import annotations

import re

from flask import Flask, g
from markupsafe import Markup, escape

from app.services.payments.stages import local_date
from app.services.shared.money import money_filter

_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escape the text, then make its http(s) URLs clickable."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


def register(app: Flask) -> None:
    app.jinja_env.filters["money"] = money_filter
    app.jinja_env.filters["linkify"] = linkify
    # An instant as the date it is in the business's time zone: `moment|local_date(tenant.timezone)`.
    app.jinja_env.filters["local_date"] = lambda moment, timezone: local_date(moment, timezone).isoformat()

    @app.context_processor
    def inject_globals():
        # Pages of a business (dashboard, portal, payment pages) show money in its locale.
        tenant = g.get("tenant")
        return {"mais_version": app.config["MAIS_VERSION"],
                "dev_mailbox": app.config["DEV_MAILBOX"],
                "money_locale": getattr(tenant, "locale", None)}
