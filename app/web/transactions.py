"""Which requests may write: on SQLite, GET and HEAD requests read from a snapshot without the
write lock (see app/sqlite.py), unless their view is marked `@writes`."""
from __future__ import annotations

from flask import Flask, current_app, request

from app.sqlite import read_only_request

SAFE_METHODS = ("GET", "HEAD")


def writes(view):
    """Mark a GET view that changes rows (opens a checkout, records a download): it begins its
    transactions with the write lock like any POST."""
    view.writes_on_get = True
    return view


def register(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

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
