"""Requests whose path or query string hold NUL are refused before any view runs.

PostgreSQL cannot hold NUL in text, so a `%00` reaching a query parameter is an error there and
silently stored on SQLite. Forms refuse control characters field by field
(`app.blueprints.forms_common.Form`); URLs have no form to show an error on, so they get 400.
Other controls in the query string are left to the views: `?next=/%0A/...` is a return URL that
`app.web.redirects` normalises, not an error.
"""
from __future__ import annotations

from flask import Flask, abort, request


def _has_nul(values) -> bool:
    return any(isinstance(v, str) and "\x00" in v for v in values)


# Row ids are 32-bit on PostgreSQL; a bigger <int:...> in a URL names nothing (and would be a
# database error there, an overflow on SQLite past 2**63).
MAX_ROW_ID = 2**31 - 1


def register(app: Flask) -> None:
    # A URL value preprocessor of the app runs before the blueprints' (which load the tenant).
    @app.url_value_preprocessor
    def refuse_nul_in_urls(endpoint, values):
        if _has_nul((values or {}).values()) or "%00" in request.query_string.decode(
                "latin-1") or _has_nul(request.args.keys()) or _has_nul(request.args.values()):
            abort(400, "The address contains a NUL character.")
        if any(isinstance(v, int) and not 0 <= v <= MAX_ROW_ID for v in (values or {}).values()):
            abort(404)
