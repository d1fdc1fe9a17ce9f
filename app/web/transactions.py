"""Which requests may write: GET and HEAD requests read, unless their view is marked `@writes`.

On SQLite they read from a snapshot without the write lock (app/sqlite.py); on PostgreSQL their
statements run without BEGIN and ROLLBACK around them (app/postgres.py). A statement that writes
during such a request is still safe on both (SQLite logs a warning, PostgreSQL begins a
transaction for it), but a GET view that writes should say so."""
from __future__ import annotations

from flask import Flask, current_app, request

from app.reads import read_only_request

SAFE_METHODS = ("GET", "HEAD")


def writes(view):
    """Mark a GET view that changes rows (opens a checkout, records a download): its
    transactions begin like any POST's (with the write lock on SQLite, BEGIN on PostgreSQL)."""
    view.writes_on_get = True
    return view


def register(app: Flask) -> None:
    # A URL value preprocessor, not before_request: blueprints load their tenant from the URL in
    # theirs, which run before any before_request hook (the app's run first).
    @app.url_value_preprocessor
    def mark_read_only(_endpoint, _values):
        view = current_app.view_functions.get(request.endpoint or "")
        if request.method in SAFE_METHODS and view is not None and not getattr(view, "writes_on_get", False):
            read_only_request.set(request.endpoint)

    @app.teardown_request
    def clear_read_only(_exc=None):
        read_only_request.set(None)
