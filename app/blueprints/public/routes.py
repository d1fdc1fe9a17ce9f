"""Public pages: the landing page and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from app.extensions import db
from app.queue import huey
from app.services.shared import health

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return render_template("public/index.html")


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
