"""Public pages: the landing page and the health check."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template, request, send_file

from app.blueprints.portal.forms import FreshLinkForm
from app.extensions import db, limiter
from app.queue import huey
from app.services.shared import health
from app.tasks.bookings import send_booking_links_anywhere

bp = Blueprint("public", __name__)


def _email_key() -> str:
    address = (request.form.get("email") or "").strip().lower()
    return "any-booking-links:" + hashlib.sha256(address.encode()).hexdigest()


@bp.route("/", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
@limiter.limit("3 per hour", key_func=_email_key, methods=["POST"])
def index():
    """What MAIS is, and for a couple without their link: "email me my link"."""
    form = FreshLinkForm()
    if form.validate_on_submit():
        # In a task: the reply and its timing are the same whether or not the address booked.
        send_booking_links_anywhere(form.email.data.strip().lower())
        return render_template("public/index.html", form=None, sent=True)
    return render_template("public/index.html", form=form, sent=False), (400 if form.errors else 200)


@bp.get("/favicon.ico")
def favicon():
    icon = Path(current_app.static_folder) / "favicon.png"
    return send_file(icon, mimetype="image/png", max_age=86400)


def queue_status() -> dict:
    try:
        pending = huey.pending_count()
    except Exception:  # the queue's store is down; the database still holds all work
        return {"backend": type(huey).__name__, "reachable": False}
    return {"backend": type(huey).__name__, "reachable": True, "pending": pending}


@bp.get("/healthz")
def healthz():
    database = health.database_ok(db.session)
    body = {
        "database": "ok" if database else "unreachable",
        "queue": queue_status(),
        "payments": current_app.config["PAYMENTS_MODE"],
        "version": current_app.config["MAIS_VERSION"],
    }
    return jsonify(body), (200 if database else 503)
