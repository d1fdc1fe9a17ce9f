"""Cancelling a booking: the one implementation behind the dashboard's status button, the
dashboard's cancel-with-refund form and the couple's cancel link (DESIGN.md "one use case has
one implementation").

In one transaction, all or nothing: the booking becomes canceled with a guarded UPDATE (its date
is freed and its reminders canceled, `lifecycle.transition`), its unpaid stages are voided and
their open PaymentIntents canceled at Stripe after the commit (so a checkout page still open in
the couple's browser cannot take money), every earlier link is revoked, the couple is emailed
once (a new manage link and a METHOD:CANCEL calendar update), and a refund request is filed if
the caller asks for one. Money that reaches Stripe anyway (the couple confirmed just before the
intent was canceled) is refunded in full when it is recorded
(`app.services.refunds.after_cancellation`).
"""
from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from app.models import RefundRequest
from app.services.autopay import enrolment as autopay
from app.services.bookings import emails as booking_emails
from app.services.bookings import lifecycle
from app.services.notifications import vendor as tell_team
from app.services.payments import stages as payment_stages
from app.services.refunds import requests as refunds
from app.services.shared import audit
from app.services.shared.errors import ValidationFailed
from app.services.shared.links import Links
from app.services.shared.unit_of_work import committing

RefundChoice = Literal["policy", "none"] | int


def cancel_booking(session: Session, tenant_id: int, booking_id: int, links: Links, *, actor: str,
                   actor_user_id: int | None = None, refund: RefundChoice = "policy",
                   note: str = "") -> RefundRequest | None:
    """Cancel the booking in the caller's transaction (a consumed link, say) and commit.

    `refund`: "policy" files what the booking's cancellation policy gives back today; "none"
    files nothing (the status button, which staff may use: refunds are the owner's); an amount
    in minor units is a tenant user's choice up to what is refundable, and one other than the
    policy's is audited as `refund.policy_overridden`. A couple always gets the policy's amount.
    Raises InvalidTransition (not cancelable, or changed meanwhile), ValidationFailed,
    RefundExceedsRefundable or ReservationRaced, having changed nothing. Returns the refund
    request, or None when nothing is refunded."""
    with committing(session):
        booking = lifecycle.get_booking(session, tenant_id, booking_id)
        quote = refunds.cancellation_quote(session, booking)
        if actor == "couple" or refund == "policy":
            amount = quote.amount_minor
        elif refund == "none":
            amount = 0
        elif isinstance(refund, int) and not isinstance(refund, bool) and refund >= 0:
            amount = refund
        else:
            raise ValidationFailed({"refund_amount": "Enter zero or a positive amount."})
        lifecycle.transition(session, booking, "canceled", actor=actor, actor_user_id=actor_user_id,
                             refund_minor=amount, policy_refund_minor=quote.amount_minor)
        payment_stages.void_open_stages(session, booking)
        autopay.stop_charges(session, tenant_id, booking.id)
        booking_emails.revoke_links(session, booking)
        booking_emails.queue_booking_email(session, booking, "booking_canceled", links)
        tell_team.notify_team(
            session, tenant_id, event_key=f"booking_canceled-{booking.id}", booking=booking,
            login_url=links.login(),
            sentence=f"Booking #{booking.id} ({booking.couple_names}, "
                     f"{booking.event_date.isoformat()}) was canceled by "
                     f"{'the couple' if actor == 'couple' else 'your team'}")
        if isinstance(refund, int) and actor != "couple" and amount != quote.amount_minor:
            audit.record(session, tenant_id, "refund.policy_overridden", actor=actor,
                         actor_user_id=actor_user_id, subject_type="booking", subject_id=booking.id,
                         policy_refund_minor=quote.amount_minor, refund_minor=amount,
                         currency=booking.currency, percent_bp=quote.percent_bp,
                         days_before=quote.days_before)
        if amount == 0:
            return None
        return refunds.file_request(session, booking, amount, "cancellation", note, actor=actor,
                                    actor_user_id=actor_user_id,
                                    policy_refund_minor=quote.amount_minor,
                                    percent_bp=quote.percent_bp, days_before=quote.days_before)
