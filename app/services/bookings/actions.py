"""What a couple can do with the links in their emails (DESIGN.md "Tokens and links").

Looking at a link (`booking_for_link`) never consumes it. The POST that acts consumes its token
with one guarded UPDATE inside the transaction of the change, so a second POST with the same
link, or a concurrent one, is refused, and a refused change consumes nothing. The manage link
opens the portal and may start a reschedule or cancel; the reschedule and cancel links in emails
do only their own action.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ActionToken, Booking
from app.services.bookings import cancellation
from app.services.bookings import emails as booking_emails
from app.services.bookings import lifecycle as bookings
from app.services.invoices import issuing as invoices
from app.services.shared import audit, tokens
from app.services.shared.errors import InvalidLink
from app.services.shared.links import Links

ACTION_PURPOSES = {
    "manage": ("booking_manage",),
    "reschedule": ("booking_reschedule", "booking_manage"),
    "cancel": ("booking_cancel", "booking_manage"),
}


def _booking_of(session: Session, tenant_id: int, token: ActionToken) -> Booking:
    booking = session.get(Booking, token.subject_id) if token.subject_id is not None else None
    if booking is None or booking.tenant_id != tenant_id:
        raise InvalidLink()
    return booking


def booking_for_link(session: Session, tenant_id: int, raw: str, action: str) -> Booking:
    """The booking a live link of this tenant and action points at; InvalidLink otherwise."""
    return link_and_booking(session, tenant_id, raw, action)[1]


def link_and_booking(session: Session, tenant_id: int, raw: str, action: str) -> tuple[ActionToken, Booking]:
    """`booking_for_link`, with the link's token row (its expiry, for the page cache)."""
    token, booking = tokens.peek_first(session, ACTION_PURPOSES[action], raw, tenant_id, subject=Booking)
    if booking is None:
        raise InvalidLink()
    return token, booking


def _consume(session: Session, tenant_id: int, raw: str, action: str) -> Booking:
    """The booking of the first of the action's token purposes whose token this uses up;
    InvalidLink (rolled back) when none is live."""
    for purpose in ACTION_PURPOSES[action]:
        try:
            token = tokens.consume(session, purpose, raw, tenant_id)
        except InvalidLink:
            continue
        try:
            return _booking_of(session, tenant_id, token)
        except InvalidLink:
            break
    session.rollback()
    raise InvalidLink()


def reschedule_by_link(session: Session, tenant_id: int, raw: str, new_date: date | None,
                       links: Links) -> Booking:
    """Consume the link and move the booking, together or not at all."""
    booking = _consume(session, tenant_id, raw, "reschedule")
    bookings.reschedule(session, booking, new_date, links, actor="couple")
    invoices.follow_changes(session, tenant_id, booking.id)  # after the move committed
    return booking


def cancel_by_link(session: Session, tenant_id: int, raw: str, links: Links) -> Booking:
    """Consume the link and cancel the booking, together or not at all; what the couple paid
    is refunded as the booking's cancellation policy says."""
    booking = _consume(session, tenant_id, raw, "cancel")
    cancellation.cancel_booking(session, tenant_id, booking.id, links, actor="couple",
                                refund="policy")
    return booking


def fresh_manage_link(session: Session, tenant_id: int, booking_id: int) -> str:
    """A new manage token for the couple who just acted on this booking (paid, moved or
    canceled it) on a page they reached with a valid link, so the result page leads to the
    portal even though the action revoked the links they came with; commits."""
    booking = bookings.get_booking(session, tenant_id, booking_id)
    raw = tokens.issue(session, tenant_id, "booking_manage", booking.id)
    session.commit()
    return raw


def send_fresh_links(session: Session, tenant_id: int, email_addr: str, links: Links) -> int:
    """Email a new manage link for each of this tenant's bookings under that address.

    Silent when there are none: the caller answers the same whatever the address.
    """
    address = email_addr.strip().lower()
    found = list(session.scalars(
        select(Booking).where(Booking.tenant_id == tenant_id, Booking.email == address,
                              Booking.status.in_(bookings.LIVE + ("canceled",)))
        .order_by(Booking.event_date).limit(20)))
    for booking in found:
        booking_emails.queue_booking_email(session, booking, "booking_links", links)
        audit.record(session, tenant_id, "booking.links_resent", actor="couple", subject_type="booking",
                     subject_id=booking.id)
    session.commit()
    return len(found)


def send_fresh_links_anywhere(session: Session, email_addr: str, links: Links) -> int:
    """For a couple who reached the site without a link: a new manage link for each booking
    under that address, at every vendor (each email comes from its vendor). Silent when there
    are none, like `send_fresh_links`."""
    address = email_addr.strip().lower()
    tenant_ids = list(session.scalars(
        select(Booking.tenant_id).where(Booking.email == address,
                                        Booking.status.in_(bookings.LIVE + ("canceled",)))
        .distinct().limit(20)))
    session.commit()
    return sum(send_fresh_links(session, tenant_id, address, links) for tenant_id in tenant_ids)
