"""Dashboard: automatic payments. The coming charges and the ones needing attention, a booking's
autopay panel, the owner's Retry now / Switch off, and the tenant's autopay settings."""
from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.dashboard.autopay.forms import AutopayActionForm, AutopaySettingsForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import save_then_redirect
from app.extensions import db, htmx
from app.services.autopay import charging, enrolment, queries
from app.services.autopay import settings as autopay_settings
from app.services.bookings import lifecycle as bookings
from app.services.shared.errors import Conflict, NotFound


def _page(form: AutopaySettingsForm | None = None, status: int = 200):
    tenant = g.tenant
    current = autopay_settings.settings_for(db.session, tenant.id)
    form = form or AutopaySettingsForm(formdata=None, data={"offered": current.offered,
                                                            "retry_days": current.retry_text})
    return render_template("dashboard/autopay/page.html", tenant=tenant, settings=current,
                           overview=queries.overview(db.session, tenant.id), form=form,
                           action_form=AutopayActionForm(formdata=None)), status


@bp.get("/autopay")
def autopay_page():
    return _page()


@bp.post("/autopay/settings")
@owner_required
def autopay_settings_save():
    form = AutopaySettingsForm()
    if form.validate_on_submit():
        saved = save_then_redirect(
            form, lambda: autopay_settings.update(
                db.session, g.tenant.id, current_user.id, offered=form.offered.data,
                retry_days_text=form.retry_days.data or ""),
            "Autopay settings saved.", "dashboard.autopay_page")
        if saved is not None:
            return saved
    return _page(form, 400)


def _panel(booking, notice: tuple[str, str] | None = None, status: int = 200):
    """The booking's autopay panel: a fragment for htmx, else a page of its own."""
    context = {"booking": booking, "tenant": g.tenant, "notice": notice,
               "autopay": queries.for_booking(db.session, g.tenant.id, booking.id),
               "action_form": AutopayActionForm(formdata=None)}
    template = "dashboard/autopay/_booking.html" if htmx else "dashboard/autopay/booking.html"
    return render_template(template, **context), status


@bp.get("/bookings/<int:booking_id>/autopay")
def booking_autopay(booking_id: int):
    return _panel(bookings.get_booking(db.session, g.tenant.id, booking_id))


def _act(booking, action, done: str):
    """Run one owner action; htmx gets the refreshed panel, a plain form a redirect back."""
    form = AutopayActionForm()
    if not form.validate_on_submit():
        abort(400)
    notice, status = ("success", done), 200
    try:
        action()
    except (Conflict, NotFound) as exc:  # the booking is ours (loaded above): nothing leaks
        notice, status = ("error", exc.message), 409
    if htmx and form.back.data != "autopay":
        return _panel(booking, notice, status)
    flash(notice[1], notice[0])
    if form.back.data != "autopay":
        return redirect(url_for("dashboard.booking_detail", booking_id=booking.id))
    if htmx:  # asked from the autopay page (after its confirm question): reload that page
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("dashboard.autopay_page")
        return response
    return redirect(url_for("dashboard.autopay_page"))


@bp.post("/bookings/<int:booking_id>/autopay/charges/<int:charge_id>/retry")
@owner_required
def autopay_retry(booking_id: int, charge_id: int):
    booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    queries.get_charge(db.session, g.tenant.id, booking.id, charge_id)
    return _act(booking, lambda: charging.retry_now(db.session, g.tenant.id, current_user.id,
                                                    charge_id),
                "The payment is being tried again now.")


@bp.post("/bookings/<int:booking_id>/autopay/off")
@owner_required
def autopay_switch_off(booking_id: int):
    booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    return _act(booking, lambda: enrolment.switch_off(db.session, g.tenant.id, booking.id,
                                                      by="owner", actor_user_id=current_user.id),
                f"Automatic payments are off for booking #{booking.id}.")
