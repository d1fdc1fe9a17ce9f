"""Dashboard: bookings list, detail with timeline, manual create and edit, status, calendar."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.dashboard.bookings.forms import EditBookingForm, ManualBookingForm, StatusForm
from app.blueprints.dashboard.scope import bp, owner_required
from app.blueprints.forms_common import PlainForm, apply_errors, csv_response, date_arg
from app.extensions import db, htmx
from app.models.booking import BOOKING_STATUSES
from app.services.bookings import availability, calendar_feed, catalog, history
from app.services.bookings import emails as booking_emails
from app.services.bookings import lifecycle as bookings
from app.services.bookings import queries as booking_queries
from app.services.bookings import status as statuses
from app.services.shared.errors import DateTaken, InvalidTransition, ValidationFailed
from app.web.links import current_links
from app.web.page_cache import cached_page


def _filters() -> booking_queries.BookingFilter:
    args = request.args
    try:
        page = int(args.get("page", "1"))
    except ValueError:
        page = 1
    return booking_queries.BookingFilter(
        status=args.get("status", ""), q=args.get("q", "")[:100], date_from=date_arg("from"),
        date_to=date_arg("to"), sort=args.get("sort", "event_date"), descending=args.get("dir") == "desc",
        page=page)


@bp.get("/bookings")
@cached_page
def bookings_list():
    tenant = g.tenant
    filters = _filters()
    result = booking_queries.list_bookings(db.session, g.tenant.id, filters)
    context = {"tenant": tenant, "result": result, "filters": filters, "statuses": BOOKING_STATUSES,
               "labels": bookings.LABELS, "sorts": booking_queries.SORTS}
    if htmx and htmx.target == "booking-results":
        return render_template("dashboard/bookings/_results.html", **context)
    return render_template("dashboard/bookings/list.html", **context)


@bp.get("/bookings.csv")
def bookings_csv():
    """The list's filtered bookings, every page, for a spreadsheet."""
    return csv_response(booking_queries.export_csv(db.session, g.tenant.id, _filters()), "bookings.csv")


def _offer(form: ManualBookingForm, tenant) -> None:
    form.offer(catalog.packages(db.session, tenant.id, active_only=True),
               catalog.add_ons(db.session, tenant.id, active_only=True), tenant.locale)


@bp.route("/bookings/new", methods=["GET", "POST"])
def booking_new():
    tenant = g.tenant
    form = ManualBookingForm()
    _offer(form, tenant)
    taken = None
    if form.validate_on_submit():
        try:
            booking = bookings.create_booking(
                db.session, tenant.id, form.request(), current_links(), actor="user",
                actor_user_id=current_user.id, initial_status=form.initial_status.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DateTaken as exc:
            taken = exc
        else:
            flash(f"Booking #{booking.id} created; the couple has been emailed.", "success")
            return redirect(url_for("dashboard.booking_detail", booking_id=booking.id))
    status = 409 if taken else (400 if form.errors else 200)
    return render_template("dashboard/bookings/new.html", tenant=tenant, form=form, taken=taken), status


@bp.get("/bookings/<int:booking_id>")
@cached_page
def booking_detail(booking_id: int):
    booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    tenant = g.tenant
    return render_template(
        "dashboard/bookings/detail.html", tenant=tenant, booking=booking,
        shown=booking_emails.describe(booking, tenant), labels=bookings.LABELS,
        transitions=statuses.allowed_transitions(db.session, booking), status_form=StatusForm(),
        events=history.entries(db.session, g.tenant.id, booking_id))


@bp.route("/bookings/<int:booking_id>/edit", methods=["GET", "POST"])
def booking_edit(booking_id: int):
    booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    form = EditBookingForm(obj=booking)
    taken = None
    if form.validate_on_submit():
        try:
            bookings.edit_booking(db.session, g.tenant.id, booking_id, form.details(),
                                  current_links(), actor_user_id=current_user.id)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DateTaken as exc:
            taken = exc
        else:
            flash("Booking saved.", "success")
            return redirect(url_for("dashboard.booking_detail", booking_id=booking_id))
        booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    status = 409 if taken else (400 if form.errors else 200)
    return render_template("dashboard/bookings/edit.html", booking=booking, form=form, taken=taken), status


@bp.post("/bookings/<int:booking_id>/status")
def booking_status(booking_id: int):
    bookings.get_booking(db.session, g.tenant.id, booking_id)  # 404 before anything else
    form = StatusForm()
    if not form.validate_on_submit():
        flash("Choose a status.", "error")
    else:
        try:
            booking = statuses.change_status(db.session, g.tenant.id, booking_id, form.to.data,
                                           current_links(), actor_user_id=current_user.id)
        except InvalidTransition as exc:
            flash(exc.message, "error")
        else:
            flash(f"Booking #{booking.id} is now {bookings.LABELS[booking.status]}.", "success")
    return redirect(url_for("dashboard.booking_detail", booking_id=booking_id))


@bp.get("/calendar")
@cached_page
def calendar_month(feed_url: str | None = None):
    tenant = g.tenant
    today = availability.local_today(db.session, tenant.id)
    try:
        year, month = (int(x) for x in request.args.get("month", "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = date(today.year, today.month, 1)
    prev_first = date(first.year - 1, 12, 1) if first.month == 1 else date(first.year, first.month - 1, 1)
    next_first = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    context = {"tenant": tenant, "first": first, "prev": prev_first, "next": next_first, "today": today,
               "labels": bookings.LABELS, "weeks": booking_queries.month_grid(first.year, first.month),
               "events": booking_queries.month_events(db.session, tenant.id, first.year, first.month)}
    if htmx:
        return render_template("dashboard/calendar/_month.html", **context)
    return render_template("dashboard/calendar/month.html", feed=calendar_feed.current(db.session, tenant.id),
                           feed_url=feed_url, form=PlainForm(), **context)


@bp.post("/calendar/feed")
@owner_required
def calendar_feed_create():
    """Shows the new link on the page at once (never in a redirect URL); it is not shown again."""
    if not PlainForm().validate_on_submit():
        abort(400)
    raw = calendar_feed.create_link(db.session, g.tenant.id, actor_user_id=current_user.id)
    flash("Your private calendar link is ready. Copy it now: it is shown only once.", "success")
    return calendar_month(feed_url=url_for("calendar_feed.feed", token=raw, _external=True))


@bp.post("/calendar/feed/revoke")
@owner_required
def calendar_feed_revoke():
    if PlainForm().validate_on_submit():
        calendar_feed.revoke(db.session, g.tenant.id, actor_user_id=current_user.id)
        flash("The calendar link no longer works. Calendars subscribed to it stop updating.", "success")
    return redirect(url_for("dashboard.calendar_month"))
