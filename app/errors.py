"""Domain and HTTP errors -> a full page, or a fragment for htmx requests."""
from __future__ import annotations

import logging

from flask import Flask, render_template, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db, htmx
from app.services.shared.errors import DomainError, InvalidLink

log = logging.getLogger(__name__)

TITLES = {
    400: "That request did not look right",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "That changed meanwhile",
    410: "Link expired or used",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}


def render_error(status: int, message: str, template: str = "errors/error.html", **context):
    name = template.replace("errors/", "errors/_") if htmx else template
    body = render_template(name, status=status, title=TITLES.get(status, "Error"), message=message,
                           **context)
    return body, status


def register(app: Flask) -> None:
    @app.errorhandler(InvalidLink)
    def invalid_link(exc: InvalidLink):
        db.session.rollback()
        endpoint = exc.details.get("fresh_link_endpoint", "auth.forgot_password")
        values = exc.details.get("fresh_link_values", {})
        return render_error(410, exc.message, "errors/invalid_link.html",
                            fresh_link_url=url_for(endpoint, **values),
                            fresh_link_label=exc.details.get("fresh_link_label",
                                                             "Email me a fresh link"))

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return render_error(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(400, "This form expired or came from elsewhere. Reload the page and "
                                 "try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 429:
            return render_error(429, "Too many attempts. Wait a few minutes and try again.")
        return render_error(exc.code or 500, exc.description or TITLES.get(exc.code, "Error"))

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        return render_error(500, "We have been told. Try again in a moment.")
