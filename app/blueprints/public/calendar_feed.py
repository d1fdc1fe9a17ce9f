"""The vendor's private calendar feed at /calendar/<secret>.ics, fetched by calendar apps."""
from __future__ import annotations

from flask import Blueprint, Response

from app.extensions import db, limiter
from app.services.bookings import calendar_feed
from app.web.security import no_referrer

bp = Blueprint("calendar_feed", __name__)


@bp.get("/calendar/<token>.ics")
@limiter.limit("120 per hour")
@no_referrer
def feed(token: str):
    body = calendar_feed.feed(db.session, token)  # NotFound -> 404
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="bookings.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
