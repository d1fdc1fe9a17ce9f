"""The dashboard's first page: upcoming events and what needs the owner's attention."""
from __future__ import annotations

from flask import g, render_template

from app.blueprints.dashboard.scope import bp
from app.extensions import db
from app.services.bookings import overview


@bp.get("/")
def home():
    tenant = g.tenant
    return render_template("dashboard/home.html", tenant=tenant,
                           now=overview.overview(db.session, g.tenant.id))
