"""A booking's timeline as sentences people read, in the tenant's time zone and locale.

One table maps every audit action the services record to a sentence; the raw details stay
available for a disclosure. A test scans the services' calls of the audit recorder, so a new action
cannot ship without its sentence.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy.orm import Session

from app.models import Tenant
from app.models.booking import BOOKING_STATUSES
from app.models.dispute import DISPUTE_STATUSES
from app.models.refund import PART_STATUSES
from app.models.reminder import REMINDER_STATUSES
from app.services.bookings import lifecycle
from app.services.shared.money import format_money

DOCUMENT_KINDS = {"invoice": "Invoice", "receipt": "Receipt", "credit_note": "Credit note",
                  "terms": "Booking terms"}
METHODS = {"card": "by card", "cash": "in cash", "bank_transfer": "by bank transfer",
           "other": "by another method"}
REASONS = {"requested_by_customer": "requested by the couple", "duplicate": "duplicate payment",
           "fraudulent": "fraudulent payment", "cancellation": "cancellation",
           "booking_canceled": "paid after the booking was canceled"}
ACTORS = {"couple": "the couple", "user": "your team", "system": "MAIS", "stripe": "Stripe"}


@dataclass(frozen=True)
class Entry:
    when_iso: str
    when_text: str
    sentence: str
    by: str
    action: str
    details: dict


Sentence = Callable[[dict, Callable[[dict, str], str]], str]


def _table() -> dict[str, Sentence]:
    t: dict[str, Sentence] = {
        "booking.created": lambda d, m: f"Booked for {d.get('event_date', '')}"
                                        f"{', total ' + m(d, 'total_minor') if 'total_minor' in d else ''}",
        "booking.edited": lambda d, m: "The couple's details were edited",
        "booking.links_resent": lambda d, m: "The couple asked for their booking links again",
        "booking.rescheduled": lambda d, m: f"Moved from {d.get('from', '?')} to {d.get('to', '?')}",
        "payment.received": lambda d, m: f"Payment of {m(d, 'amount_minor')} received "
                                         f"{METHODS.get(d.get('method', 'card'), '')}",
        "payment.recorded_offline": lambda d, m: f"Payment of {m(d, 'amount_minor')} recorded "
                                                 f"{METHODS.get(d.get('method', ''), '')}",
        "payment.unmatched": lambda d, m: f"Payment of {m(d, 'amount_minor')} received that matches "
                                          f"no open stage (owed {m(d, 'owed_minor')})",
        "payment.for_inactive_booking": lambda d, m: "Money arrived after the booking stopped holding "
                                                     "its date; it is refunded",
        "refund.requested": lambda d, m: f"Refund of {m(d, 'amount_minor')} requested: "
                                         f"{REASONS.get(d.get('reason', ''), d.get('reason', ''))}",
        "refund.attempt": lambda d, m: f"Refund of {m(d, 'amount_minor')} sent to Stripe "
                                       f"(attempt {d.get('attempt', 1)})",
        "refund.attempt_failed": lambda d, m: f"A refund attempt failed and will be retried: "
                                              f"{d.get('error', '')}",
        "refund.created_at_stripe": lambda d, m: f"Stripe accepted the refund of {m(d, 'amount_minor')}",
        "refund.policy_overridden": lambda d, m: f"Refund set to {m(d, 'refund_minor')} instead of the "
                                                 f"policy's {m(d, 'policy_refund_minor')}",
        "refund.request_repaired": lambda d, m: "A refund's status was brought up to date",
        "refund.retried": lambda d, m: f"Refund of {m(d, 'amount_minor')} tried again",
        "reminder.send_now": lambda d, m: "A reminder was sent on request",
        "reminder.retry": lambda d, m: "A failed reminder was tried again",
        "dispute.opened": lambda d, m: f"The couple's bank disputed a payment of {m(d, 'amount_minor')}",
        "autopay.consent_given": lambda d, m: "The couple chose automatic payments for the later "
                                              "installments",
        "autopay.consent_withdrawn": lambda d, m: "The couple chose not to use automatic payments",
        "autopay.on": lambda d, m: f"Automatic payments turned on{_card(d)}",
        "autopay.card_changed": lambda d, m: f"The couple saved a new card for automatic payments"
                                             f"{_card(d)}",
        "autopay.off": lambda d, m: "Automatic payments switched off",
        "autopay.declined": lambda d, m: f"An automatic payment was declined on try "
                                         f"{d.get('attempt', '?')}"
                                         + (f" ({d['code']})" if d.get("code") else ""),
        "autopay.failed": lambda d, m: f"An automatic payment failed after {d.get('attempts', '?')} "
                                       f"tries; the couple was asked to pay",
        "autopay.retry_requested": lambda d, m: "An automatic payment was tried again on request",
    }
    return t


# What the business did to its own account: these never reach a booking's timeline, but every
# recorded action has words (an audit page can use them).
ACCOUNT = {
    "add_on.saved": "An add-on was saved", "package.saved": "A package was saved",
    "add_on.activated": "An add-on was shown again", "add_on.deactivated": "An add-on was hidden",
    "package.activated": "A package was shown again", "package.deactivated": "A package was hidden",
    "availability.blackout_added": "A date was blocked",
    "availability.blackout_removed": "A blocked date was freed",
    "availability.updated": "Availability settings were changed",
    "autopay.settings_changed": "Autopay settings were changed",
    "branding.saved": "Branding was saved",
    "calendar_feed.created": "A calendar feed was created",
    "calendar_feed.revoked": "A calendar feed was revoked",
    "cancellation_policy.saved": "The cancellation policy was changed",
    "connect.account_created": "A Stripe account was created",
    "connect.charges_disabled": "Stripe turned card payments off",
    "connect.charges_enabled": "Stripe turned card payments on",
    "connect.disconnected": "The Stripe account was disconnected",
    "invoice_settings.updated": "Invoice settings were changed",
    "payment_settings.override_removed": "A package's own payment rule was removed",
    "payment_settings.saved": "Payment settings were saved",
    "settings.updated": "Settings were changed",
    "stripe_event.replayed": "A Stripe event was processed again",
    "tenant.signed_up": "The business signed up",
    "user.email_verified": "An email address was verified",
    "user.invited": "A team member was invited", "user.joined": "A team member joined",
    "user.password_changed": "A password was changed", "user.password_reset": "A password was reset",
    "user.password_reset_requested": "A password reset was requested",
    "user.signup_for_existing_email": "Someone tried to sign up again with a known email",
    "reminder_rule.added": "A reminder rule was added",
    "reminder_rule.enabled": "A reminder rule was turned on",
    "reminder_rule.disabled": "A reminder rule was turned off",
}


def _card(d: dict) -> str:
    brand, _, last4 = str(d.get("card", "")).partition(" ")
    return f" ({brand.title()} ending {last4})" if last4 else ""


def _refund(status: str, d: dict, m) -> str:
    amount = m(d, "amount_minor")
    if status == "failed":
        return f"Refund of {amount} failed: {d.get('error', '')}"
    return f"Refund of {amount} {'sent' if status == 'succeeded' else status}"


def _document(kind: str, d: dict, m, verb: str) -> str:
    text = f"{DOCUMENT_KINDS[kind]} {d.get('number', '')} {verb}"
    return text + (f" for {m(d, 'total_minor')}" if verb == "issued" and "total_minor" in d else "")


SENTENCES = _table()
# Families whose second part is a status or a document kind: (the parts allowed, the sentence).
FAMILIES: dict[str, tuple[tuple[str, ...], Callable[[str, dict, Callable], str]]] = {
    "booking": (BOOKING_STATUSES, lambda s, d, m: f"Booking {lifecycle.LABELS.get(s, s)}"
                + (f": {d['reason']}" if d.get("reason") else "")),
    "refund": (PART_STATUSES, _refund),
    "reminder": (REMINDER_STATUSES, lambda s, d, m: f"Reminder {s}"
                 + (f": {d['reason']}" if d.get("reason") else "")),
    "dispute": (DISPUTE_STATUSES, lambda s, d, m: f"Dispute {s.replace('_', ' ')}"),
}
VERBS = {"issued": "issued", "resent": "emailed again"}


def _make(action: str) -> Callable[[dict, Callable], str] | None:
    if action in SENTENCES:
        return SENTENCES[action]
    family, _, part = action.partition(".")
    if family in FAMILIES and part in FAMILIES[family][0]:
        return lambda d, m: FAMILIES[family][1](part, d, m)
    if action in ACCOUNT:
        return lambda d, m: ACCOUNT[action]
    if family == "branding" and part.endswith(("_uploaded", "_removed")):
        image, _, verb = part.rpartition("_")
        return lambda d, m: f"The {image.replace('_', ' ')} image was {verb}"
    if family in DOCUMENT_KINDS and part in VERBS:
        return lambda d, m: _document(family, d, m, VERBS[part])
    return None


def known(action: str) -> bool:
    return _make(action) is not None


def sentence(action: str, details: dict, locale: str) -> str:
    """The event in words; an action without a sentence is named as recorded."""
    def money(d: dict, key: str) -> str:
        value, currency = d.get(key), d.get("currency")
        if value is None or not currency:
            return "an amount"
        return format_money(int(value), str(currency), locale)

    make = _make(action)
    if make is None:
        return action.replace(".", ": ").replace("_", " ").capitalize()
    try:
        return make(details or {}, money)
    except (KeyError, TypeError, ValueError):
        return action.replace(".", ": ").replace("_", " ").capitalize()


def entries(session: Session, tenant_id: int, booking_id: int) -> list[Entry]:
    """The booking's audit trail, oldest first, as sentences with local times."""
    tenant = session.get(Tenant, tenant_id)
    locale = tenant.locale or "en_US"
    zone = ZoneInfo(tenant.timezone)
    out = []
    for e in lifecycle.timeline(session, tenant_id, booking_id):
        local = e.created_at.astimezone(zone)
        out.append(Entry(when_iso=e.created_at.isoformat(),
                         when_text=format_datetime(local, format="medium", locale=locale),
                         sentence=sentence(e.action, e.details or {}, locale),
                         by=ACTORS.get(e.actor, e.actor), action=e.action,
                         details=dict(e.details or {})))
    return out

