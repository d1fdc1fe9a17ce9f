"""The emails a couple gets about a booking, each with fresh action links and a calendar file.

Every email carries a new manage link; while the booking can still change it also carries
single-use reschedule and cancel links. Links are minted here, in the transaction of the change
they report, so a rolled-back change sends nothing.
"""
from __future__ import annotations

from babel.dates import format_date
from sqlalchemy.orm import Session

from app.models import Booking, Tenant
from app.services.bookings import ics
from app.services.email import outbox as email
from app.services.shared import clock, tokens
from app.services.shared.links import Links
from app.services.shared.money import format_money

BOOKING_PURPOSES = ("booking_manage", "booking_reschedule", "booking_cancel")
CHANGEABLE = ("pending_deposit", "confirmed", "paid_in_full", "partially_refunded")
SUBJECTS = {
    "booking_received": "Booking received",
    "booking_confirmed": "Booking confirmed",
    "booking_rescheduled": "Booking rescheduled",
    "booking_canceled": "Booking canceled",
    "booking_links": "Your booking links",
}


def describe(booking: Booking, tenant: Tenant) -> dict:
    """Display values shared by emails and pages: formatted date, amounts, add-ons."""
    locale = tenant.locale or "en_US"
    return {
        "date_text": format_date(booking.event_date, format="full", locale=locale),
        "time_text": booking.start_time.strftime("%H:%M") if booking.start_time else "",
        "package_price_text": format_money(booking.package_price_minor, booking.currency, locale),
        "total_text": format_money(booking.total_minor, booking.currency, locale),
        "add_on_lines": [(a.title, format_money(a.price_minor, a.currency, locale)) for a in booking.add_ons],
    }


def revoke_links(session: Session, booking: Booking) -> None:
    tokens.revoke(session, booking.tenant_id, BOOKING_PURPOSES, booking.id)


def _deposit_url(session: Session, booking: Booking, tenant: Tenant, links: Links) -> str:
    """The checkout link of the deposit while the booking still awaits it."""
    from app.services.payments import stages as payment_stages

    if booking.status != "pending_deposit":
        return ""
    stage = payment_stages.next_open(payment_stages.stages_for(session, tenant.id, booking.id))
    return links.stage_checkout(tenant.slug, tenant.id, stage.id) if stage else ""


TERMS_SHOWN_IN = ("booking_received", "booking_confirmed")


def terms_context(session: Session, booking: Booking, tenant: Tenant, links: Links) -> dict:
    """The terms the couple accepted, in lines of text, with a link to their PDF (empty for a
    booking entered by the vendor)."""
    from app.services.invoices import issuing as invoices

    doc = invoices.terms_of(session, tenant.id, booking.id)
    if doc is None:
        return {"terms_number": "", "terms_lines": [], "terms_url": ""}
    snap = doc.snapshot

    def money(minor: int) -> str:
        return format_money(minor, snap["currency"], snap["locale"])

    lines = [f"Total: {money(snap['total_minor'])}"]
    lines += [f"{s['label']}: {money(s['amount_minor'])}, due {s['due_text']}" for s in snap["schedule"]]
    lines.append(f"If you cancel: {snap['policy_text']}")
    return {"terms_number": doc.number, "terms_lines": lines,
            "terms_url": links.document_download(tenant.slug, tenant.id, doc.id)}


def queue_booking_email(session: Session, booking: Booking, kind: str, links: Links) -> None:
    """Compose `kind` for the couple with new links and an .ics attachment (sent after commit)."""
    tenant = session.get(Tenant, booking.tenant_id)
    manage = tokens.issue(session, tenant.id, "booking_manage", booking.id)
    context = {
        "booking": booking,
        **describe(booking, tenant),
        "manage_url": links.booking_manage(tenant.slug, manage),
        "reschedule_url": "",
        "cancel_url": "",
        "pay_url": _deposit_url(session, booking, tenant, links),
        **(terms_context(session, booking, tenant, links) if kind in TERMS_SHOWN_IN
           else {"terms_number": "", "terms_lines": [], "terms_url": ""}),
    }
    if booking.status in CHANGEABLE:
        context["reschedule_url"] = links.booking_reschedule(
            tenant.slug, tokens.issue(session, tenant.id, "booking_reschedule", booking.id))
        context["cancel_url"] = links.booking_cancel(
            tenant.slug, tokens.issue(session, tenant.id, "booking_cancel", booking.id))
    canceled = booking.status in ("canceled", "expired")
    calendar = ics.booking_calendar(booking, tenant, canceled=canceled, stamp=clock.now())
    email.queue_email(
        session, tenant.id, to=booking.email, kind=kind,
        subject=f"{SUBJECTS[kind]}: {booking.package_title} on {context['date_text']} – {tenant.name}",
        context=context,
        attachments=(email.Attachment(
            "cancel.ics" if canceled else "booking.ics",
            f"text/calendar; method={'CANCEL' if canceled else 'PUBLISH'}",
            calendar),),
    )
