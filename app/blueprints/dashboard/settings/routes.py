"""Dashboard settings: the business's settings and its team."""
from __future__ import annotations

from flask import g, render_template
from flask_login import current_user

from app.blueprints.auth.forms import InviteForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.dashboard.settings.forms import SettingsForm
from app.blueprints.forms_common import save_then_redirect
from app.extensions import db
from app.services.accounts import tenants
from app.services.accounts import users as accounts
from app.web.links import current_links


@bp.route("/settings", methods=["GET", "POST"])
@owner_required
def settings():
    tenant = g.tenant
    form = SettingsForm(obj=tenant)
    if form.validate_on_submit():
        values = {f: (getattr(form, f).data or "").strip() for f in tenants.SETTINGS_FIELDS}
        values["currency"] = values["currency"].upper()
        done = save_then_redirect(
            form, lambda: tenants.update_settings(db.session, g.tenant.id, current_user.id, values),
            "Settings saved.", "dashboard.settings")
        if done:
            return done
    return render_template("dashboard/settings.html", form=form, tenant=tenant), (
        400 if form.errors else 200)


@bp.route("/team", methods=["GET", "POST"])
@owner_required
def team():
    form = InviteForm()
    if form.validate_on_submit():
        done = save_then_redirect(form, lambda: accounts.invite_staff(
            db.session, g.tenant.id, current_user.id, form.email.data, form.role.data, current_links()),
            f"Invitation sent to {form.email.data}.", "dashboard.team")
        if done:
            return done
    members = accounts.team(db.session, g.tenant.id)
    return render_template("dashboard/team.html", form=form, members=members), (
        400 if form.errors else 200)
