"""The terms a couple accepts before booking: what they pay in total (as it will be invoiced),
the deposit, the schedule of payments with dates, and the cancellation policy in plain words.

Invariants:
- the page and the booking compute terms with one function (`quote`), so the terms frozen with a
  booking are the terms the couple was shown; `digest` fingerprints them, and a booking whose
  terms changed since the page was shown (a price, a tax rate, the deposit rule, the policy, or
  the due dates at midnight) is refused, to be reviewed and accepted again;
- the total is the invoice total and the schedule is `schedules.plan` of that total, so the
  stages the booking gets sum to exactly what the terms say.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter as Tally
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from sqlalchemy.orm import Session

from app.models import AddOn, Booking, Package, Tenant
from app.services.bookings import catalog
from app.services.invoices import settings as invoice_settings
from app.services.invoices import tax
from app.services.payments import schedules
from app.services.payments import settings as payment_settings
from app.services.payments import stages as payment_stages
from app.services.refunds import policy as cancellation_policy
from app.services.shared import clock
from app.services.shared.errors import ValidationFailed

CHANGED = ("The price or the terms changed while you were reading. Please check them below and "
           "accept them again.")
NOT_SHOWN = "Please read the terms below and tick the box to accept them."


def _percent(bp: int) -> str:
    return f"{Decimal(bp) / 100:g}%"


def policy_sentence(policy: dict) -> str:
    """The cancellation policy as one plain sentence, e.g. "The deposit is not refundable; of the
    rest you get 100% back until 90 days before the event, 50% until 30 days before, and nothing
    after that." (refunds.requests.cancellation_quote applies it exactly so)."""
    policy = cancellation_policy.normalized(policy)
    deposit = ("The deposit is refundable" if policy["deposit_refundable"]
               else "The deposit is not refundable")
    tiers = [t for t in policy["tiers"] if t["percent_bp"] > 0]
    if not tiers:
        return f"{deposit}; nothing is refunded if you cancel."
    parts = [f"{_percent(t['percent_bp'])} back until {t['min_days']} days before the event"
             if n == 0 else f"{_percent(t['percent_bp'])} until {t['min_days']} days before"
             for n, t in enumerate(tiers)]
    of_what = "of what you paid" if policy["deposit_refundable"] else "of the rest"
    return f"{deposit}; if you cancel, {of_what} you get {', '.join(parts)}, and nothing after that."


def _due_text(anchor: str, offset: int) -> str:
    if anchor == "booking":
        return "when booking" if offset == 0 else f"{offset} days after booking"
    return "on the event day" if offset == 0 else f"{offset} days before the event"


def quote(session: Session, tenant_id: int, package: Package, add_ons: list[AddOn],
          event_date: date | None) -> dict:
    """The terms of booking `package` with `add_ons` on `event_date` today, as a JSON-able dict
    (due dates are given when the date is known, otherwise as "30 days before the event")."""
    tenant = session.get(Tenant, tenant_id)
    settings = invoice_settings.current(session, tenant_id)
    tally = Tally((a.title, a.price_minor) for a in add_ons)
    lines = [tax.Line(package.title, 1, package.price_minor)]
    lines += [tax.Line(title, qty, price) for (title, price), qty in tally.items()]
    totals = tax.totals_for(lines, settings.tax_rate_bp, settings.tax_inclusive)
    rule = payment_settings.rule_for(session, tenant_id, package.id, package.currency)
    booked_on = payment_stages.local_date(clock.now(), tenant.timezone)
    schedule = []
    for stage in schedules.plan(rule, totals.total_minor):
        due = (schedules.due_date(stage.due_anchor, stage.due_offset_days, booked_on, event_date)
               if event_date else None)
        schedule.append({"label": stage.label, "kind": stage.kind, "amount_minor": stage.amount_minor,
                         "due_date": due.isoformat() if due else None,
                         "due_text": format_date(due, format="medium", locale=tenant.locale or "en_US")
                         if due else _due_text(stage.due_anchor, stage.due_offset_days)})
    policy = cancellation_policy.current(session, tenant_id)
    return {
        "currency": package.currency, "locale": tenant.locale or "en_US",
        "package": package.title, "event_date": event_date.isoformat() if event_date else None,
        "lines": [{"description": ln.description, "quantity": ln.quantity,
                   "unit_minor": ln.unit_minor, "amount_minor": ln.amount_minor} for ln in lines],
        "tax": {"rate_bp": settings.tax_rate_bp, "rate_text": tax.rate_text(settings.tax_rate_bp),
                "inclusive": settings.tax_inclusive, "label": settings.tax_label},
        "lines_minor": totals.lines_minor, "subtotal_minor": totals.subtotal_minor,
        "tax_minor": totals.tax_minor, "total_minor": totals.total_minor,
        "deposit_minor": next((s["amount_minor"] for s in schedule if s["kind"] == "deposit"), 0),
        "schedule": schedule,
        "policy": policy, "policy_text": policy_sentence(policy),
        "policy_lines": cancellation_policy.describe(policy),
        "vendor_terms": settings.terms,
    }


def preview(session: Session, tenant_id: int, package_id: object, add_on_ids: list,
            event_date: date | None) -> dict | None:
    """The terms for what the booking form currently says; None until a package is chosen.
    Add-ons that do not fit the package are left out, as the page does not offer them."""
    package, _, _ = catalog.bookable_selection(session, tenant_id, package_id, [])
    if package is None:
        return None
    wanted = {str(i) for i in add_on_ids}
    fitting = [a for a in catalog.add_ons_for(session, tenant_id, package) if str(a.id) in wanted]
    return quote(session, tenant_id, package, fitting, event_date)


def digest(terms: dict) -> str:
    """A fingerprint of exactly what was shown (the form carries it back with the acceptance)."""
    return hashlib.sha256(json.dumps(terms, sort_keys=True).encode()).hexdigest()


def check_accepted(session: Session, booking: Booking, package: Package, add_ons: list[AddOn],
                   accepted_digest: str) -> dict:
    """The booking's terms if they are the ones the couple accepted; otherwise roll back and
    raise ValidationFailed on `accept_terms` (the page shows the current terms again)."""
    terms = quote(session, booking.tenant_id, package, add_ons, booking.event_date)
    if not accepted_digest or accepted_digest != digest(terms):
        session.rollback()
        raise ValidationFailed({"accept_terms": CHANGED if accepted_digest else NOT_SHOWN})
    return terms
