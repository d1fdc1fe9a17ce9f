"""Money that reached Stripe for a booking already canceled goes back in full.

Cancelling voids the booking's unpaid stages and cancels their PaymentIntents at Stripe after the
commit, but a couple whose checkout page was still open may confirm first. When that payment is
recorded (webhook, return page or the cancel task itself, `app.services.payments.recording`),
this files a refund of all of it from that payment alone, in the recording's transaction, so a
payment is refunded once (it is recorded once), and tells the tenant's owners by email.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Booking, Payment, RefundRequest, Tenant
from app.services.notifications import vendor as tell_team
from app.services.refunds import requests as refunds
from app.services.shared.links import Links
from app.services.shared.money import format_money

REASON = "booking_canceled"


def refund_payment_after_cancellation(session: Session, booking: Booking, payment: Payment,
                                      links: Links) -> RefundRequest:
    """File the full refund of `payment` (caller's transaction, no commit) and queue the owners'
    email; the couple gets the usual "refund started" email from the request."""
    request = refunds.file_request(session, booking, payment.amount_minor, REASON,
                                   "Paid after the booking was canceled.", actor="system",
                                   actor_user_id=None, payment_id=payment.id,
                                   payment_intent=payment.stripe_payment_intent_id)
    tenant = session.get(Tenant, booking.tenant_id)
    amount_text = format_money(payment.amount_minor, payment.currency, tenant.locale or "en_US")
    subject = f"Payment of {amount_text} for canceled booking #{booking.id} is being refunded"
    tell_team.notify_team(
        session, tenant.id, event_key=f"payment_after_cancellation-{payment.id}", booking=booking,
        kind="payment_after_cancellation", subject=subject, sentence=subject,
        login_url=links.login(),
        context={"payment": payment, "request": request, "amount_text": amount_text})
    return request
