"""The dashboard's status buttons: which ones a booking offers, and what pressing one does.

The state machine itself (`TRANSITIONS`, `transition`) is `lifecycle`; cancelling is
`cancellation.cancel_booking`, whichever page starts it.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Booking
from app.services.bookings import cancellation, lifecycle
from app.services.bookings import emails as booking_emails
from app.services.payments import stages as payment_stages
from app.services.shared.errors import InvalidTransition
from app.services.shared.links import Links
from app.services.shared.unit_of_work import committing


def manual_problem(session: Session, booking: Booking, to: str) -> str | None:
    """Why an owner may not set `to` by hand although the state machine allows it."""
    if to == "paid_in_full" and payment_stages.next_open(
            payment_stages.stages_for(session, booking.tenant_id, booking.id)) is not None:
        # Status must not claim money that is not there: record the payments instead.
        return ("Stages are still due: record the outstanding payments (an offline payment "
                "settles them) and the booking becomes paid in full by itself.")
    return None


def allowed_transitions(session: Session, booking: Booking) -> list[str]:
    """The status buttons an owner sees: what the state machine allows and money agrees with."""
    order = list(lifecycle.TRANSITIONS)
    allowed = lifecycle.TRANSITIONS[booking.status] - {"expired"} - lifecycle.SETTLED_BY_REFUNDS
    return sorted((to for to in allowed if manual_problem(session, booking, to) is None),
                  key=order.index)


def change_status(session: Session, tenant_id: int, booking_id: int, to: str, links: Links, *,
                  actor_user_id: int) -> Booking:
    """A tenant user moves a booking along the state machine and commits; the couple hears of
    confirm and cancel. Canceling here refunds nothing (staff may press it; refunds are the
    owner's, from the refund panel or the cancel-with-refund form)."""
    if to == "canceled":
        cancellation.cancel_booking(session, tenant_id, booking_id, links, actor="user",
                                    actor_user_id=actor_user_id, refund="none")
        return lifecycle.get_booking(session, tenant_id, booking_id)
    with committing(session):
        booking = lifecycle.get_booking(session, tenant_id, booking_id)
        problem = manual_problem(session, booking, to)
        if problem:
            raise InvalidTransition(problem)
        lifecycle.transition(session, booking, to, actor="user", actor_user_id=actor_user_id)
        if to == "confirmed":
            booking_emails.queue_booking_email(session, booking, "booking_confirmed", links)
    return booking
