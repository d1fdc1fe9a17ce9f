"""Dashboard: the reminder log, a booking's reminders, send-now/retry, and the reminder rules."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.dashboard.reminders.forms import ActionForm, ReminderRuleForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import apply_errors
from app.extensions import db, htmx
from app.models.reminder import REMINDER_KINDS, REMINDER_STATUSES
from app.services.bookings import lifecycle as bookings
from app.services.reminders import dispatch as reminders
from app.services.shared.errors import ValidationFailed


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/reminders")
def reminder_log():
    args = request.args
    status = args.get("status", "") if args.get("status", "") in REMINDER_STATUSES else ""
    kind = args.get("kind", "") if args.get("kind", "") in REMINDER_KINDS else ""
    page = max(1, args.get("page", 1, type=int) or 1)
    filters = reminders.LogFilter(status=status, kind=kind, date_from=_date_arg("from"),
                                  date_to=_date_arg("to"))
    rows, total = reminders.log_page(db.session, g.tenant.id, filters, page)
    tenant = g.tenant
    context = dict(rows=rows, total=total, page=page, per_page=50, filters=filters, tenant=tenant,
                   statuses=REMINDER_STATUSES, kinds=REMINDER_KINDS, action_form=ActionForm())
    template = "dashboard/reminders/_log_rows.html" if htmx and htmx.target == "reminder-rows" \
        else "dashboard/reminders/log.html"
    return render_template(template, **context)


@bp.get("/bookings/<int:booking_id>/reminders")
def booking_reminders(booking_id: int):
    booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    return render_template("dashboard/reminders/_booking_reminders.html", booking=booking,
                           reminders=reminders.for_booking(db.session, g.tenant.id, booking.id),
                           action_form=ActionForm())


def _after_action(reminder_id: int):
    row = reminders.get_reminder(db.session, g.tenant.id, reminder_id)
    if htmx:
        return render_template("dashboard/reminders/_row.html", r=row, action_form=ActionForm())
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("dashboard.reminder_log"))


def _act(reminder_id: int, action, message: str):
    """A reminder action from the log or a booking's list: one service call, then the row."""
    if not ActionForm().validate_on_submit():
        abort(400)
    action(db.session, g.tenant.id, current_user.id, reminder_id)
    flash(message, "success")
    return _after_action(reminder_id)


@bp.post("/reminders/<int:reminder_id>/send-now")
def reminder_send_now(reminder_id: int):
    return _act(reminder_id, reminders.send_now, "Reminder is being sent.")


@bp.post("/reminders/<int:reminder_id>/retry")
def reminder_retry(reminder_id: int):
    return _act(reminder_id, reminders.retry, "Reminder will be sent again within a minute.")


@bp.route("/settings/reminders", methods=["GET", "POST"])
@owner_required
def reminder_rules():
    form = ReminderRuleForm()
    if form.validate_on_submit():
        try:
            reminders.add_rule(db.session, g.tenant.id, current_user.id, form.kind.data,
                               form.offset_days.data, form.send_time.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Reminder added; upcoming bookings get it too.", "success")
            return redirect(url_for("dashboard.reminder_rules"))
    tenant = g.tenant
    return render_template("dashboard/reminders/rules.html", form=form, tenant=tenant,
                           rules=reminders.rules(db.session, g.tenant.id),
                           action_form=ActionForm()), (400 if form.errors else 200)


@bp.post("/settings/reminders/<int:rule_id>/<any(enable, disable):action>")
@owner_required
def reminder_rule_toggle(rule_id: int, action: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    reminders.set_rule_active(db.session, g.tenant.id, current_user.id, rule_id,
                              action == "enable")
    flash("Reminder " + ("enabled." if action == "enable" else "disabled."), "success")
    return redirect(url_for("dashboard.reminder_rules"))
