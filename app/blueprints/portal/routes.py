"""The couple's portal: everything reached from the links in their emails, phone first.

GETs only look (mail scanners prefetch links); the POST that acts consumes its link.
"""
from __future__ import annotations

import hashlib
from datetime import date

from flask import Blueprint, g, redirect, render_template, request, url_for

from app.blueprints.forms_common import PlainForm, apply_errors
from app.blueprints.portal.forms import CancelForm, FreshLinkForm, RescheduleForm
from app.blueprints.tenant_scope import scope_to_tenant
from app.extensions import db, htmx, limiter
from app.services.autopay import couple as autopay_view
from app.services.bookings import actions as booking_links
from app.services.bookings import availability
from app.services.bookings import emails as booking_emails
from app.services.bookings import lifecycle as bookings
from app.services.invoices import issuing as invoices
from app.services.invoices import pdf as invoice_pdf
from app.services.invoices import register as invoice_register
from app.services.payments import stages as payment_stages
from app.services.refunds import policy as cancellation_policy
from app.services.refunds import requests as refunds
from app.services.shared import tokens
from app.services.shared.errors import DateTaken, InvalidLink, InvalidTransition, NotFound, ValidationFailed
from app.tasks.bookings import send_booking_links
from app.web.links import current_links
from app.web.page_cache import cached_page
from app.web.security import no_referrer

bp = Blueprint("portal", __name__, url_prefix="/t/<slug>")
scope_to_tenant(bp)


def fresh_link_error() -> InvalidLink:
    return InvalidLink(fresh_link_endpoint="portal.fresh_link", fresh_link_values={"slug": g.tenant.slug})


def _booking(token: str, action: str):
    """The link's booking (asked once per request: the page cache may have asked already)."""
    return _link(token, action)[1]


def _link_expiry(token: str, action: str):
    """For the page cache: raises for a dead link, else until when it lives."""
    return _link(token, action)[0].expires_at


def _link(token: str, action: str):
    asked = g.setdefault("portal_links", {})
    if (token, action) not in asked:
        asked[token, action] = _look_up(token, action)
    return asked[token, action]


def _look_up(token: str, action: str):
    try:
        return booking_links.link_and_booking(db.session, g.tenant.id, token, action)
    except InvalidLink:
        if tokens.live_tenant(db.session, token) not in (None, g.tenant.id):
            raise NotFound() from None  # another business's link: nothing of it here
        raise fresh_link_error() from None


def _summary(booking):
    return booking_emails.describe(booking, g.tenant)


DONE_ACTIONS = ("rescheduled", "canceled", "autopay_on", "autopay_off")


def _to_portal(booking, action: str):
    """POST, then redirect: the couple lands on their booking with a fresh link (the action
    revoked the one they came with), and a reload shows the booking, never resubmits."""
    fresh = booking_links.fresh_manage_link(db.session, g.tenant.id, booking.id)
    return redirect(url_for("portal.manage", token=fresh, done=action), code=303)


@bp.get("/b/<token>")
@no_referrer
@cached_page(valid_until=lambda token: _link_expiry(token, "manage"))
def manage(token: str):
    booking = _booking(token, "manage")
    money = payment_stages.booking_money(db.session, g.tenant.id, booking.id)
    done = request.args.get("done")
    return render_template("portal/manage.html", tenant=g.tenant, booking=booking, token=token,
                           done=done if done in DONE_ACTIONS else None,
                           shown=_summary(booking), changeable=booking.status in bookings.CHANGEABLE,
                           labels=bookings.LABELS,
                           documents=invoices.for_booking(db.session, g.tenant.id, booking.id),
                           document_states=invoice_register.live_states(db.session, g.tenant.id,
                                                                        booking.id),
                           document_titles=invoice_pdf.TITLES,
                           balance=money.outstanding_minor
                           if booking.status not in ("canceled", "expired") else None,
                           refund_requests=refunds.requests_for(db.session, g.tenant.id, booking.id),
                           autopay=autopay_view.view_for(db.session, g.tenant, booking),
                           form=PlainForm())


def _picker_month(booking, month_arg: str | None) -> tuple[int, int]:
    first, last = availability.window(db.session, g.tenant.id)
    try:
        year, month = (int(x) for x in (month_arg or "").split("-"))
        date(year, month, 1)
    except ValueError:
        anchor = booking.event_date if first <= booking.event_date <= last else first
        year, month = anchor.year, anchor.month
    low, high = (first.year, first.month), (last.year, last.month)
    return min(max((year, month), low), high)


def _picker(booking, token: str, month_arg: str | None, selected: date | None = None) -> dict:
    year, month = _picker_month(booking, month_arg)
    first, last = availability.window(db.session, g.tenant.id)
    free = [d for d, ok in availability.month_days(db.session, g.tenant.id, year, month) if ok]
    prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return {
        "token": token, "free": free, "month_start": date(year, month, 1), "selected": selected,
        "prev": f"{prev_month[0]:04d}-{prev_month[1]:02d}" if prev_month >= (first.year, first.month) else None,
        "next": f"{next_month[0]:04d}-{next_month[1]:02d}" if next_month <= (last.year, last.month) else None,
    }


@bp.route("/b/<token>/reschedule", methods=["GET", "POST"])
@no_referrer
@limiter.limit("30 per hour", methods=["POST"])
@cached_page(valid_until=lambda token: _link_expiry(token, "reschedule"))
def reschedule(token: str):
    booking = _booking(token, "reschedule")
    form = RescheduleForm()
    refusal = bookings.reschedule_problem(db.session, booking, enforce_cutoff=True)
    taken: DateTaken | None = None
    if form.validate_on_submit() and refusal is None:
        try:
            booking = booking_links.reschedule_by_link(db.session, g.tenant.id, token, form.event_date.data,
                                                       current_links())
        except InvalidLink:
            raise fresh_link_error() from None
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DateTaken as exc:
            taken = exc
        except InvalidTransition as exc:
            refusal = exc.message
        else:
            return _to_portal(booking, "rescheduled")
    status = 409 if (taken or (refusal and request.method == "POST")) else (400 if form.errors else 200)
    picker = _picker(booking, token, request.args.get("month"), form.event_date.data)
    return render_template("portal/reschedule.html", tenant=g.tenant, booking=booking,
                           form=form, refusal=refusal, taken=taken, shown=_summary(booking),
                           **picker), status


@bp.get("/b/<token>/dates")
@no_referrer
def dates(token: str):
    """htmx: the free dates of one month for the reschedule picker."""
    booking = _booking(token, "reschedule")
    picker = _picker(booking, token, request.args.get("month"))
    if htmx:
        return render_template("portal/_date_picker.html", **picker)
    return render_template("portal/reschedule.html", tenant=g.tenant, booking=booking,
                           form=RescheduleForm(), refusal=None, taken=None, shown=_summary(booking),
                           **picker)


@bp.route("/b/<token>/cancel", methods=["GET", "POST"])
@no_referrer
@limiter.limit("30 per hour", methods=["POST"])
def cancel(token: str):
    booking = _booking(token, "cancel")
    form = CancelForm()
    refusal = None if booking.status in bookings.CHANGEABLE else (
        f"This booking is {bookings.LABELS[booking.status]} and cannot be canceled online.")
    if form.validate_on_submit() and refusal is None:
        try:
            booking = booking_links.cancel_by_link(db.session, g.tenant.id, token, current_links())
        except InvalidLink:
            raise fresh_link_error() from None
        except InvalidTransition as exc:
            refusal = exc.message
        else:
            return _to_portal(booking, "canceled")
    status = 409 if refusal and request.method == "POST" else 200
    quote = None if refusal else refunds.cancellation_quote(db.session, booking)
    return render_template("portal/cancel.html", tenant=g.tenant, booking=booking, token=token, form=form,
                           refusal=refusal, shown=_summary(booking), quote=quote,
                           policy_lines=cancellation_policy.describe(quote.policy) if quote else []), status


def _email_key() -> str:
    address = (request.form.get("email") or "").strip().lower()
    return "booking-links:" + hashlib.sha256(address.encode()).hexdigest()


@bp.route("/fresh-link", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
@limiter.limit("3 per hour", key_func=_email_key, methods=["POST"])
def fresh_link():
    form = FreshLinkForm()
    if form.validate_on_submit():
        # Looked up in a task: the reply and its timing are the same for any address.
        send_booking_links(g.tenant.id, form.email.data.strip().lower())
        return render_template("portal/fresh_link_sent.html", tenant=g.tenant)
    return render_template("portal/fresh_link.html", tenant=g.tenant, form=form), (
        400 if form.errors else 200)
