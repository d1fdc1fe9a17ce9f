"""The embedded default's mailbox: every outbox message, with clickable links. Never in production."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from app.extensions import db
from app.models import OutboundEmail
from app.services.email import outbox as email

bp = Blueprint("dev", __name__)


@bp.get("/mailbox")
def mailbox():
    return render_template("dev/mailbox.html", messages=email.mailbox(db.session))


@bp.get("/mailbox/<int:email_id>")
def message(email_id: int):
    row = db.session.get(OutboundEmail, email_id)
    if row is None:
        abort(404)
    return render_template("dev/message.html", message=row)
