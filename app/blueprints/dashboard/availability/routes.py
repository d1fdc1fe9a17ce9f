"""Dashboard: availability rules (capacity, notice, horizon, hold, cut-off) and blackout dates."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.dashboard.availability.forms import AvailabilityForm, BlackoutForm
from app.blueprints.dashboard.scope import bp
from app.blueprints.forms_common import ToggleForm, apply_errors, save_then_redirect
from app.extensions import db
from app.services.bookings import availability
from app.services.shared.errors import ValidationFailed


def _render(form: AvailabilityForm, blackout_form: BlackoutForm, status: int = 200):
    tenant_id = g.tenant.id
    first, last = availability.window(db.session, tenant_id)
    return render_template("dashboard/availability.html", form=form, blackout_form=blackout_form,
                           blackouts=availability.blackouts(db.session, tenant_id),
                           first_day=first, last_day=last, remove_form=ToggleForm()), status


@bp.route("/availability", methods=["GET", "POST"])
def availability_settings():
    rules = availability.rules(db.session, g.tenant.id)
    form = AvailabilityForm(obj=rules)
    if form.validate_on_submit():
        try:
            availability.update_rules(db.session, g.tenant.id, current_user.id,
                                      {name: getattr(form, name).data for name in availability.LIMITS})
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Availability saved.", "success")
            return redirect(url_for("dashboard.availability_settings"))
    return _render(form, BlackoutForm(formdata=None), 400 if form.errors else 200)


@bp.post("/availability/blackouts")
def blackout_add():
    form = BlackoutForm()
    if form.validate_on_submit():
        done = save_then_redirect(form, lambda: availability.add_blackout(
            db.session, g.tenant.id, current_user.id, form.day.data, form.reason.data or ""),
            f"{form.day.data.isoformat()} is blocked.", "dashboard.availability_settings")
        if done:
            return done
    rules = availability.rules(db.session, g.tenant.id)
    return _render(AvailabilityForm(formdata=None, obj=rules), form, 400)


@bp.post("/availability/blackouts/<int:blackout_id>/delete")
def blackout_remove(blackout_id: int):
    availability.remove_blackout(db.session, g.tenant.id, current_user.id, blackout_id)
    flash("Date unblocked.", "success")
    return redirect(url_for("dashboard.availability_settings"))
