"""Dashboard: a booking's refunds (form with split preview, live status, retry), cancelling
with a refund, and the cancellation policy."""
from __future__ import annotations

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.dashboard.refunds.forms import CancellationPolicyForm, CancelWithRefundForm, RefundForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import PlainForm, apply_errors
from app.extensions import db, htmx
from app.services.bookings import cancellation
from app.services.bookings import lifecycle as bookings
from app.services.refunds import policy as cancellation_policy
from app.services.refunds import processing as refund_processing
from app.services.refunds import requests as refunds
from app.services.shared.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.services.shared.money import AmountError, amount_to_form_text, format_percent_bp, parse_amount
from app.web.links import current_links


def _panel(booking, tenant, form=None, cancel_form=None, status: int = 200):
    money = refunds.booking_refunds(db.session, tenant.id, booking.id)
    form = form or RefundForm(formdata=None, data={
        "amount": amount_to_form_text(money.refundable_minor, booking.currency, tenant.locale)
        if money.refundable_minor else ""})
    quote = None
    if booking.status in bookings.CHANGEABLE:
        quote = refunds.cancellation_quote(db.session, booking)
        cancel_form = cancel_form or CancelWithRefundForm(formdata=None, data={
            "refund_amount": amount_to_form_text(quote.amount_minor, booking.currency,
                                                 tenant.locale)})
    context = {"tenant": tenant, "booking": booking, "money": money, "form": form,
               "cancel_form": cancel_form, "quote": quote,
               "reasons": refunds.REASON_LABELS,
               "policy_lines": cancellation_policy.describe(refunds.booking_policy(db.session, booking))}
    if htmx:
        return render_template("dashboard/refunds/_panel.html", **context), status
    return render_template("dashboard/refunds/booking.html", **context), status


def _load(booking_id: int):
    tenant = g.tenant
    return bookings.get_booking(db.session, tenant.id, booking_id), tenant


@bp.get("/bookings/<int:booking_id>/refunds")
def booking_refunds(booking_id: int):
    booking, tenant = _load(booking_id)
    return _panel(booking, tenant)


@bp.get("/bookings/<int:booking_id>/refunds/preview")
def refund_preview(booking_id: int):
    """htmx: how the amount typed so far splits across the booking's card payments."""
    booking, tenant = _load(booking_id)
    problem, plan = None, None
    try:
        amount = parse_amount(request.args.get("amount", ""), booking.currency, tenant.locale)
        plan = refunds.split(db.session, tenant.id, booking.id, amount)
    except AmountError as exc:
        problem = str(exc)
    except (ValidationFailed, refunds.RefundExceedsRefundable) as exc:
        problem = exc.message
    return render_template("dashboard/refunds/_split.html", plan=plan, problem=problem,
                           tenant=tenant)


@bp.post("/bookings/<int:booking_id>/refunds")
@owner_required
def refund_create(booking_id: int):
    booking, tenant = _load(booking_id)
    form = RefundForm()
    status = 400
    if form.validate_on_submit():
        try:
            amount = parse_amount(form.amount.data or "", booking.currency, tenant.locale)
            refunds.request_refund(db.session, tenant.id, booking.id, amount, form.reason.data,
                                   form.note.data or "", current_links(),
                                   actor_user_id=current_user.id)
        except AmountError as exc:
            form.amount.errors = [*form.amount.errors, str(exc)]
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            form.amount.errors = [*form.amount.errors, exc.message]
            status = 409
        else:
            if not htmx:
                flash("Refund started.", "success")
                return redirect(url_for("dashboard.booking_detail", booking_id=booking.id))
            return _panel(bookings.get_booking(db.session, tenant.id, booking.id), tenant)
    return _panel(booking, tenant, form=form, status=status)


@bp.get("/bookings/<int:booking_id>/refunds/<int:request_id>")
def refund_status(booking_id: int, request_id: int):
    """htmx polling: one request's status; the fragment stops polling at a final state."""
    booking, tenant = _load(booking_id)
    view = refunds.request_view(db.session, tenant.id, booking.id, request_id)
    response = make_response(render_template("dashboard/refunds/_request.html", view=view,
                                             booking=booking, tenant=tenant,
                                             reasons=refunds.REASON_LABELS))
    if view.final:
        # The booking's other totals (refunded, refundable, paid, documents) refresh themselves.
        response.headers["HX-Trigger"] = "booking-money-changed"
    return response


@bp.post("/bookings/<int:booking_id>/refunds/parts/<int:part_id>/retry")
@owner_required
def refund_retry(booking_id: int, part_id: int):
    booking, tenant = _load(booking_id)
    part = refunds.get_part(db.session, tenant.id, part_id)
    if part.booking_id != booking.id:
        raise NotFound()
    if PlainForm().validate_on_submit():
        try:
            refund_processing.retry_part(db.session, tenant.id, part_id, actor_user_id=current_user.id)
        except (InvalidTransition, Conflict) as exc:
            flash(exc.message, "error")
    if htmx:
        view = refunds.request_view(db.session, tenant.id, booking.id, part.request_id)
        return render_template("dashboard/refunds/_request.html", view=view, booking=booking,
                               tenant=tenant, reasons=refunds.REASON_LABELS)
    return redirect(url_for("dashboard.booking_detail", booking_id=booking.id))


@bp.post("/bookings/<int:booking_id>/cancel-with-refund")
@owner_required
def booking_cancel_with_refund(booking_id: int):
    booking, tenant = _load(booking_id)
    form = CancelWithRefundForm()
    if form.validate_on_submit():
        try:
            amount = parse_amount(form.refund_amount.data or "0", booking.currency, tenant.locale)
            cancellation.cancel_booking(db.session, tenant.id, booking.id, current_links(),
                                        actor="user", actor_user_id=current_user.id,
                                        refund=amount, note=form.note.data or "")
        except AmountError as exc:
            form.refund_amount.errors = [*form.refund_amount.errors, str(exc)]
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except (InvalidTransition, Conflict) as exc:
            form.refund_amount.errors = [*form.refund_amount.errors, exc.message]
        else:
            flash(f"Booking #{booking.id} is canceled.", "success")
            return redirect(url_for("dashboard.booking_detail", booking_id=booking.id))
    booking = bookings.get_booking(db.session, tenant.id, booking.id)
    return _panel(booking, tenant, cancel_form=form, status=400)


@bp.route("/refunds/policy", methods=["GET", "POST"])
@owner_required
def cancellation_policy_page():
    tenant = g.tenant
    current = cancellation_policy.current(db.session, tenant.id)
    if request.method == "POST":
        form = CancellationPolicyForm()
    else:
        rows = [{"days": str(t["min_days"]), "percent": format_percent_bp(t["percent_bp"], tenant.locale)}
                for t in current["tiers"]]
        form = CancellationPolicyForm(data={"deposit_refundable": current["deposit_refundable"],
                                            "tiers": rows + [{}] * (4 - len(rows))})
    if form.validate_on_submit():
        try:
            cancellation_policy.save(
                db.session, tenant.id, current_user.id,
                deposit_refundable=bool(form.deposit_refundable.data),
                tiers=[(r.days.data or "", r.percent.data or "") for r in form.tiers])
        except ValidationFailed as exc:
            form.form_errors.extend(exc.fields.values())
        else:
            flash("Cancellation policy saved. New bookings get it.", "success")
            return redirect(url_for("dashboard.cancellation_policy_page"))
    return render_template("dashboard/refunds/policy.html", tenant=tenant, form=form,
                           lines=cancellation_policy.describe(current)), (
        400 if form.errors or form.form_errors else 200)
