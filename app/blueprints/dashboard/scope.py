"""The dashboard blueprint: every route needs a logged-in user, and the user's tenant is loaded
once per request into `g.tenant`; every query is scoped by it."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g
from flask_login import current_user, login_required

from app.extensions import db
from app.services.accounts import tenants

bp = Blueprint("dashboard", __name__)


@bp.before_request
@login_required
def load_tenant():
    g.tenant = tenants.get_tenant(db.session, current_user.tenant_id)


@bp.context_processor
def inject_tenant():
    return {"tenant": g.get("tenant")}


def owner_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_owner:
            abort(403, "Only an owner of this business can do that.")
        return view(*args, **kwargs)

    return wrapped
