"""Dashboard: payment settings, payments per booking, outstanding balances, offline payments,
and the Stripe webhook event log with replay."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.dashboard.payments.forms import OfflinePaymentForm, PaymentSettingsForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import PlainForm, apply_errors, csv_response, date_arg
from app.extensions import db
from app.models.payment import EVENT_STATUSES
from app.services.bookings import availability, catalog
from app.services.bookings import lifecycle as bookings
from app.services.connect import disputes as connect_disputes
from app.services.payments import events as stripe_events
from app.services.payments import preview as schedule_preview
from app.services.payments import recording as payments
from app.services.payments import settings as payment_settings
from app.services.payments import stages as payment_stages
from app.services.reports import received as received_payments
from app.services.shared.errors import InvalidTransition, ValidationFailed
from app.web.links import current_links


@bp.get("/payments")
def payments_overview():
    tenant = g.tenant
    today = availability.local_today(db.session, tenant.id)
    rows = payment_stages.outstanding(db.session, tenant.id, today)
    return render_template("dashboard/payments/outstanding.html", tenant=tenant, rows=rows, today=today,
                           totals=payment_stages.outstanding_totals(db.session, tenant.id))


def _received_filter() -> received_payments.ReceivedFilter:
    return received_payments.ReceivedFilter(date_from=date_arg("from"), date_to=date_arg("to"),
                                            method=request.args.get("method", ""),
                                            q=request.args.get("q", "")[:100])


@bp.get("/payments/received")
def payments_received():
    filters = _received_filter()
    return render_template("dashboard/payments/received.html", filters=filters,
                           result=received_payments.payments_received(db.session, g.tenant.id, filters),
                           methods=received_payments.METHOD_LABELS)


@bp.get("/payments/received.csv")
def payments_received_csv():
    body = received_payments.export_csv(db.session, g.tenant.id, _received_filter())
    return csv_response(body, "payments-received.csv")


@bp.get("/bookings/<int:booking_id>/payments")
def booking_payments(booking_id: int):
    tenant = g.tenant
    booking = bookings.get_booking(db.session, tenant.id, booking_id)
    money = payment_stages.booking_money(db.session, tenant.id, booking.id)
    return render_template("dashboard/payments/_booking.html", tenant=tenant, booking=booking,
                           money=money, form=OfflinePaymentForm(),
                           disputes=connect_disputes.disputes_for_booking(db.session, tenant.id,
                                                                          booking.id),
                           methods=payments.OFFLINE_METHODS,
                           today=availability.local_today(db.session, tenant.id))


@bp.post("/bookings/<int:booking_id>/payments/offline")
def booking_offline_payment(booking_id: int):
    tenant = g.tenant
    booking = bookings.get_booking(db.session, tenant.id, booking_id)
    form = OfflinePaymentForm()
    money = payment_stages.booking_money(db.session, tenant.id, booking.id)
    if form.validate_on_submit():
        due = [s for s in money.stages if s.status == "due"]
        stage_ids = [s.id for s in due] if form.scope.data == "all" else [s.id for s in due[:1]]
        entry = payments.OfflinePayment(stage_ids=stage_ids, method=form.method.data,
                                        note=form.note.data or "", received_on=form.received_on.data)
        try:
            payments.record_offline_payment(db.session, tenant.id, booking.id, entry, current_links(),
                                            actor_user_id=current_user.id)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except InvalidTransition as exc:
            form.form_errors.append(exc.message)
        else:
            flash("Payment recorded.", "success")
            return redirect(url_for("dashboard.booking_detail", booking_id=booking.id))
    return render_template("dashboard/payments/offline.html", tenant=tenant, booking=booking, money=money,
                           disputes=connect_disputes.disputes_for_booking(db.session, tenant.id,
                                                                          booking.id),
                           form=form, methods=payments.OFFLINE_METHODS,
                           today=availability.local_today(db.session, tenant.id)), 400


def _settings_form(rule, currency: str, locale: str) -> PaymentSettingsForm:
    values = payment_settings.rule_as_form(rule, currency, locale)
    form = PaymentSettingsForm(data={
        "mode": values.mode, "deposit_kind": values.deposit_kind,
        "deposit_percent": values.deposit_percent, "deposit_amount": values.deposit_amount,
        "balance_due_days": values.balance_due_days,
        "installments": [{"percent": p, "anchor": a, "days": d} for p, a, d in values.installments]})
    return form


def _rule_form(form: PaymentSettingsForm) -> payment_settings.RuleForm:
    return payment_settings.RuleForm(
        mode=form.mode.data, deposit_kind=form.deposit_kind.data,
        deposit_percent=form.deposit_percent.data or "", deposit_amount=form.deposit_amount.data or "",
        balance_due_days=form.balance_due_days.data or "0",
        installments=tuple((r.percent.data or "", r.anchor.data or "event", r.days.data or "")
                           for r in form.installments))


@bp.route("/payments/settings", methods=["GET", "POST"])
@bp.route("/packages/<int:package_id>/payments", methods=["GET", "POST"])
@owner_required
def payment_settings_page(package_id: int | None = None):
    tenant = g.tenant
    package = catalog.get_package(db.session, tenant.id, package_id) if package_id else None
    stored = payment_settings.stored_rule(db.session, tenant.id, package_id)
    effective = payment_settings.rule_for(db.session, tenant.id, package_id)
    form = (PaymentSettingsForm() if request.method == "POST"
            else _settings_form(effective, tenant.currency, tenant.locale))
    if form.validate_on_submit():
        if package_id and request.form.get("action") == "inherit":
            payment_settings.clear_override(db.session, tenant.id, package_id, actor_user_id=current_user.id)
            flash("This package now uses your default payment schedule.", "success")
            return redirect(request.path)
        try:
            payment_settings.save_rule(db.session, tenant.id, package_id, _rule_form(form),
                                       actor_user_id=current_user.id)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Payment schedule saved. New bookings use it.", "success")
            return redirect(request.path)
    shown = _rule_form(form) if request.method == "POST" else payment_settings.rule_as_form(effective, tenant.currency)
    return render_template("dashboard/payments/settings.html", tenant=tenant, form=form, package=package,
                           overridden=stored is not None,
                           preview=schedule_preview.preview(db.session, tenant.id, package_id, shown),
                           fixed_currency=payment_settings.fixed_deposit_currency(db.session, tenant.id,
                                                                                  package_id)
                           ), (400 if form.errors or form.form_errors else 200)


@bp.post("/payments/settings/preview")
@bp.post("/packages/<int:package_id>/payments/preview")
@owner_required
def payment_settings_preview(package_id: int | None = None):
    """The htmx fragment under the schedule form: what a couple would pay, as the owner types."""
    form = PaymentSettingsForm(meta={"csrf": False})  # reads only; the header token is checked anyway
    result = schedule_preview.preview(db.session, g.tenant.id, package_id, _rule_form(form))
    return render_template("dashboard/payments/_preview.html", preview=result)


@bp.get("/payments/events")
@owner_required
def stripe_event_log():
    status = request.args.get("status", "")
    status = status if status in EVENT_STATUSES else ""
    events = stripe_events.events_for(db.session, g.tenant.id, status or None)
    return render_template("dashboard/payments/events.html", events=events, status=status,
                           statuses=EVENT_STATUSES, form=PlainForm())


@bp.post("/payments/events/<int:event_id>/replay")
@owner_required
def stripe_event_replay(event_id: int):
    form = PlainForm()
    stripe_events.get_event(db.session, g.tenant.id, event_id)  # 404 before CSRF talk
    if form.validate_on_submit():
        try:
            stripe_events.replay(db.session, g.tenant.id, event_id, actor_user_id=current_user.id)
        except InvalidTransition as exc:
            flash(exc.message, "error")
        else:
            flash("The event is being processed again.", "success")
    return redirect(url_for("dashboard.stripe_event_log"))
