"""The vendor's public booking page at /t/<slug>/: packages, live availability, the booking form."""
from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from app.blueprints.booking_fields import PublicBookingForm
from app.blueprints.forms_common import apply_errors
from app.blueprints.tenant_scope import scope_to_tenant
from app.extensions import db, limiter
from app.services.accounts import branding
from app.services.bookings import availability, catalog
from app.services.bookings import emails as booking_emails
from app.services.bookings import lifecycle as bookings
from app.services.bookings import terms as booking_terms
from app.services.connect import accounts as connect_accounts
from app.services.payments import stages as payment_stages
from app.services.shared.errors import DateTaken, NotFound, ValidationFailed
from app.web.links import current_links, stage_ref
from app.web.page_cache import cached_page

bp = Blueprint("booking", __name__, url_prefix="/t/<slug>")
scope_to_tenant(bp)
RECEIVED_KEY = "received_booking"


def _offer(form: PublicBookingForm):
    """The packages and add-ons a couple can book online now (see `online_bookable`)."""
    tenant = g.tenant
    packages = connect_accounts.online_bookable(
        db.session, tenant, catalog.packages(db.session, tenant.id, active_only=True))
    add_ons = catalog.add_ons(db.session, tenant.id, active_only=True)
    form.offer(packages, add_ons, tenant.locale)
    return packages, add_ons


@bp.get("/brand/<kind>-<ref>")
def brand_image(kind: str, ref: str):
    """The tenant's logo or cover. The URL names the image's hash, so it never changes: browsers
    and proxies keep it for a year, and a new upload gets a new URL."""
    row = branding.image(db.session, g.tenant.id, kind, ref) if len(ref) >= 16 else None
    if row is None:
        abort(404)
    response = Response(row.data, mimetype=row.content_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Disposition"] = "inline"
    response.set_etag(row.sha256)
    return response.make_conditional(request)


@bp.route("/", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@cached_page
def book():
    tenant = g.tenant
    # A GET may preselect a package, add-ons and a date (?package_id=3&event_date=2027-06-12).
    form = (PublicBookingForm(formdata=request.args) if request.method == "GET" and request.args
            else PublicBookingForm())
    packages, add_ons = _offer(form)
    taken: DateTaken | None = None
    if form.validate_on_submit():
        try:
            booking = bookings.create_booking(db.session, tenant.id, form.request(), current_links())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DateTaken as exc:
            taken = exc
        else:
            session[RECEIVED_KEY] = booking.id
            deposit = payment_stages.next_open(
                payment_stages.stages_for(db.session, tenant.id, booking.id))
            if booking.status == "pending_deposit" and deposit is not None:
                # The deposit step: the booking is confirmed once it is paid.
                return redirect(url_for("pay.checkout_page",
                                        ref=stage_ref(current_app, tenant.id, deposit.id)))
            return redirect(url_for(".received"))
    first, last = availability.window(db.session, tenant.id)
    status = 409 if taken else (400 if form.errors else 200)
    opening_soon = not packages and not tenant.can_take_charges
    return render_template("public/book.html", tenant=tenant, form=form, packages=packages,
                           opening_soon=opening_soon,
                           add_ons=add_ons, taken=taken, first_day=first, last_day=last,
                           **_terms_shown(form)), status


def _terms_shown(form: PublicBookingForm) -> dict:
    """The terms for what the form says now, and their digest (carried back on submit)."""
    terms = booking_terms.preview(db.session, g.tenant.id, form.package_id.data,
                                  list(form.add_on_ids.data or []), _event_date(form))
    return {"terms": terms, "terms_digest": booking_terms.digest(terms) if terms else ""}


def _event_date(form: PublicBookingForm) -> date | None:
    value = form.event_date.data
    return value if isinstance(value, date) else None


@bp.get("/terms")
def terms_preview():
    """htmx: the add-ons that fit the chosen package and the terms for the form as it stands."""
    form = PublicBookingForm(formdata=request.args)
    _offer(form)
    return render_template("public/_offer.html", tenant=g.tenant, form=form, **_terms_shown(form))


@bp.get("/availability")
@cached_page
def date_availability():
    """htmx: is the date in the form bookable? Otherwise, which dates nearby are."""
    tenant = g.tenant
    try:
        day = date.fromisoformat(request.args.get("event_date", ""))
    except ValueError:
        day = None
    problem = availability.date_problem(db.session, tenant.id, day) if day else None
    nearby = availability.nearby_free_dates(db.session, tenant.id, day) if problem else []
    return render_template("public/_availability.html", day=day, problem=problem, nearby=nearby)


@bp.get("/received")
def received():
    booking_id = session.get(RECEIVED_KEY)
    if not isinstance(booking_id, int):
        raise NotFound()
    booking = bookings.get_booking(db.session, g.tenant.id, booking_id)
    return render_template("public/received.html", tenant=g.tenant, booking=booking,
                           shown=booking_emails.describe(booking, g.tenant))
