"""Recording payments and what follows from them.

Invariants:
- a PaymentIntent is recorded at most once: `payments.stripe_payment_intent_id` is UNIQUE, and
  the webhook task, the return page and the sweeper all go through `reconcile_intent`, which
  acts on the PaymentIntent fetched from Stripe, never on what an event or a URL claims;
- the tenant of a PaymentIntent is the tenant of the `CheckoutIntent` row we wrote when we
  created it, and it is fetched from the connected account recorded on that row; an intent
  whose Stripe metadata names another tenant, or an event from another account, changes
  nothing;
- a stage is paid once (guarded UPDATE from due/processing), by the payment that settled it;
- deposit paid -> booking confirmed (confirmation email with a manage link); every stage paid
  -> paid_in_full; each payment gets one receipt email.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Booking, CheckoutIntent, Payment, PaymentStage, Tenant
from app.services.autopay import enrolment as autopay
from app.services.bookings import emails as booking_emails
from app.services.bookings import lifecycle as bookings
from app.services.email import outbox as email
from app.services.invoices import issuing as invoices
from app.services.notifications import vendor as tell_team
from app.services.payments import stages as payment_stages
from app.services.payments.gateway import Intent, IntentStateConflict, PaymentGateway
from app.services.refunds import after_cancellation
from app.services.reminders import dispatch as reminders
from app.services.shared import audit, clock, jobs
from app.services.shared.errors import InvalidTransition, ValidationFailed
from app.services.shared.links import Links
from app.services.shared.money import format_money
from app.services.shared.tenancy import get_owned
from app.services.shared.unit_of_work import committing

log = logging.getLogger(__name__)
OFFLINE_METHODS = {"cash": "Cash", "bank_transfer": "Bank transfer", "other": "Other"}
PROCESSING_RECHECK = timedelta(minutes=2)
NOTE_MAX = 500


def checkout_for(session: Session, stripe_id: str) -> CheckoutIntent | None:
    return session.scalar(select(CheckoutIntent).where(CheckoutIntent.stripe_id == stripe_id))


@dataclass(frozen=True)
class Reconciled:
    """`outcome`: recorded, already_recorded, processing, failed, canceled, open, unknown (not
    one of ours: nothing was fetched) or tenant_mismatch (ignored); `intent` as fetched from
    Stripe (None when unknown, or when the event came from another account)."""

    outcome: str
    intent: Intent | None

    @property
    def succeeded(self) -> bool:
        return self.outcome in ("recorded", "already_recorded")


def reconcile_intent(session: Session, stripe_id: str, gateway: PaymentGateway, links: Links, *,
                     claimed_tenant_id: int | None = None, claimed_account: str | None = None,
                     source: str = "webhook") -> Reconciled:
    """Fetch the PaymentIntent from the account it lives on and bring our rows in line with it;
    commits. `claimed_account`: the account a webhook event came from (it must be that one)."""
    checkout = checkout_for(session, stripe_id)
    if checkout is None:
        session.commit()
        return Reconciled("unknown", None)
    if claimed_account is not None and claimed_account != checkout.stripe_account:
        log.warning("payment intent %s lives on account %r but the event came from %r: ignored",
                    stripe_id, checkout.stripe_account, claimed_account)
        session.commit()
        return Reconciled("tenant_mismatch", None)
    account = checkout.stripe_account
    session.commit()  # no transaction stays open across a call to Stripe
    intent = gateway.retrieve_intent(stripe_id, account=account)
    checkout = checkout_for(session, intent.id)
    named = intent.metadata.get("tenant_id")
    if named != str(checkout.tenant_id) or (claimed_tenant_id is not None
                                            and claimed_tenant_id != checkout.tenant_id):
        log.warning("payment intent %s belongs to tenant %s but names tenant %s/%s: ignored",
                     intent.id, checkout.tenant_id, named, claimed_tenant_id)
        return Reconciled("tenant_mismatch", intent)
    return Reconciled(apply_intent(session, checkout, intent, links, source=source), intent)


def apply_intent(session: Session, checkout: CheckoutIntent, intent: Intent, links: Links, *,
                 source: str) -> str:
    now = clock.now()
    checkout.status = intent.status
    checkout.updated_at = now
    current = _current_stage(session, checkout)
    if intent.status == "succeeded":
        outcome = _record_card_payment(session, checkout, intent, links, source)
        session.commit()
        return outcome
    if current is not None:
        if intent.status == "processing" and current.status == "due":
            current.status = "processing"
            current.last_error = ""
            current.updated_at = now
        elif intent.open and current.status == "processing":
            # The bank said no after all: the couple can pay again.
            current.status = "due"
            current.updated_at = now
        if intent.open and intent.last_error:
            current.last_error = intent.last_error[:500]
        if intent.status == "canceled" and current.status in payment_stages.OPEN:
            current.payment_intent_id = None
            current.status = "due"
            current.updated_at = now
    session.commit()
    if intent.status == "processing":
        return "processing"
    if intent.status == "canceled":
        return "canceled"
    return "failed" if intent.last_error else "open"


def _current_stage(session: Session, checkout: CheckoutIntent) -> PaymentStage | None:
    """The checkout's stage, if this intent is still the one the stage is being paid with."""
    stage = session.get(PaymentStage, checkout.stage_id)
    if stage is None or stage.tenant_id != checkout.tenant_id:
        return None
    return stage if stage.payment_intent_id == checkout.stripe_id else None


def _record_card_payment(session: Session, checkout: CheckoutIntent, intent: Intent, links: Links,
                         source: str) -> str:
    if session.scalar(select(Payment.id).where(Payment.stripe_payment_intent_id == intent.id)):
        return "already_recorded"
    now = clock.now()
    payment = Payment(
        tenant_id=checkout.tenant_id, booking_id=checkout.booking_id,
        amount_minor=intent.amount_received, refunded_minor=0, currency=intent.currency,
        method="card", stripe_payment_intent_id=intent.id, stripe_charge_id=intent.latest_charge,
        stripe_account=checkout.stripe_account,
        application_fee_minor=min(intent.application_fee, intent.amount_received),
        note="", received_at=now, created_at=now)
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:
        # The return page and the webhook raced; the other one recorded it.
        session.rollback()
        return "already_recorded"
    covered = [int(i) for i in checkout.stage_ids]
    stages = [s for s in payment_stages.stages_for(session, checkout.tenant_id, checkout.booking_id)
              if s.id in covered]
    owed = sum(s.amount_minor for s in stages if s.status in payment_stages.OPEN)
    if intent.currency != checkout.currency or intent.amount_received != owed:
        audit.record(session, checkout.tenant_id, "payment.unmatched", subject_type="booking",
                     subject_id=checkout.booking_id, payment_id=payment.id,
                     amount_minor=intent.amount_received, owed_minor=owed,
                     currency=intent.currency)
    else:
        _settle_stages(session, checkout.tenant_id, [s.id for s in stages], payment, now)
    mandate = autopay.after_card_payment(session, checkout.tenant_id, checkout.booking_id,
                                         intent.id)
    if mandate is not None:
        jobs.after_commit(session, jobs.Job.ACTIVATE_AUTOPAY, mandate.id, intent.payment_method)
    audit.record(session, checkout.tenant_id, "payment.received", actor="couple",
                 subject_type="booking", subject_id=checkout.booking_id, payment_id=payment.id,
                 amount_minor=payment.amount_minor, currency=payment.currency, method="card",
                 payment_intent=intent.id, seen_by=source)
    booking = session.get(Booking, checkout.booking_id)
    _after_payment(session, booking, payment, links)
    return "recorded"


def _settle_stages(session: Session, tenant_id: int, stage_ids: list[int], payment: Payment,
                   now: datetime) -> int:
    if not stage_ids:
        return 0
    changed = session.execute(
        update(PaymentStage)
        .where(PaymentStage.tenant_id == tenant_id, PaymentStage.id.in_(stage_ids),
               PaymentStage.status.in_(payment_stages.OPEN))
        .values(status="paid", payment_id=payment.id, paid_at=now, updated_at=now, last_error="")
        .execution_options(synchronize_session="fetch")).rowcount
    autopay.stages_settled(session, tenant_id, stage_ids)
    return changed


def _after_payment(session: Session, booking: Booking, payment: Payment, links: Links) -> None:
    """Confirm on the deposit, paid_in_full when nothing is left; queue the receipt."""
    session.refresh(booking)
    stages = payment_stages.stages_for(session, booking.tenant_id, booking.id)
    for stage in stages:
        session.refresh(stage)
    first_paid = bool(stages) and stages[0].status == "paid"
    all_paid = all(s.status == "paid" for s in stages)
    if booking.status == "pending_deposit" and first_paid:
        bookings.transition(session, booking, "confirmed", actor="system", reason="deposit paid")
        session.refresh(booking)
        booking_emails.queue_booking_email(session, booking, "booking_confirmed", links)
    if booking.status == "confirmed" and all_paid:
        bookings.transition(session, booking, "paid_in_full", actor="system",
                             reason="every stage paid")
        session.refresh(booking)
    if booking.status in ("canceled", "expired"):
        # Money arrived for a booking that no longer holds its date (a checkout left open when
        # it was canceled, or a hold that ran out while the bank was processing).
        audit.record(session, booking.tenant_id, "payment.for_inactive_booking",
                     subject_type="booking", subject_id=booking.id, payment_id=payment.id)
    reminders.sync_booking(session, booking.tenant_id, booking.id)  # paid stages: no more nudges
    _queue_receipt(session, booking, payment, stages, links)
    tenant = session.get(Tenant, booking.tenant_id)
    paid_for = " and ".join(s.label.lower() for s in stages if s.payment_id == payment.id) \
        or "payment"
    how = "by card" if payment.method == "card" else f"({OFFLINE_METHODS[payment.method]})"
    tell_team.notify_team(
        session, booking.tenant_id, event_key=f"payment_received-{payment.id}", booking=booking,
        login_url=links.login(),
        sentence=f"{paid_for[0].upper()}{paid_for[1:]} of "
                 f"{format_money(payment.amount_minor, payment.currency, tenant.locale or 'en_US')}"
                 f" received {how} for booking #{booking.id} ({booking.couple_names})")
    if booking.status == "canceled" and payment.method == "card":
        after_cancellation.refund_payment_after_cancellation(session, booking, payment, links)


def _queue_receipt(session: Session, booking: Booking, payment: Payment,
                   stages: list[PaymentStage], links: Links) -> None:
    tenant = session.get(Tenant, booking.tenant_id)
    locale = tenant.locale or "en_US"
    paid_for = [s.label for s in stages if s.payment_id == payment.id]
    left = [s for s in stages if s.status in payment_stages.OPEN]
    receipt = invoices.add_receipt(session, booking, payment)  # numbered and rendered here
    email.queue_email(
        session, tenant.id, to=booking.email, kind="payment_receipt",
        subject=f"Receipt: {format_money(payment.amount_minor, payment.currency, locale)} "
                f"paid to {tenant.name}",
        context={
            "booking": booking, "payment": payment,
            "amount_text": format_money(payment.amount_minor, payment.currency, locale),
            "method_text": "Card" if payment.method == "card" else OFFLINE_METHODS[payment.method],
            "paid_for": paid_for,
            "outstanding_text": format_money(sum(s.amount_minor for s in left), booking.currency,
                                             locale),
            "next_stage": left[0] if left else None,
            "next_amount_text": format_money(left[0].amount_minor, left[0].currency, locale)
            if left else "",
            "received_text": payment.received_at.strftime("%Y-%m-%d"),
            **booking_emails.describe(booking, tenant),
            "receipt_number": receipt.number,
            "receipt_url": links.document_download(tenant.slug, tenant.id, receipt.id),
        },
        attachments=(email.Attachment(f"{receipt.number}.pdf", "application/pdf", receipt.pdf),),
        dedupe_key=f"receipt-payment-{payment.id}")


@dataclass(frozen=True)
class OfflinePayment:
    """What the owner enters; `stage_ids` are the stages the money settles."""

    stage_ids: list[int]
    method: str
    note: str = ""
    received_on: date | None = None


def record_offline_payment(session: Session, tenant_id: int, booking_id: int,
                           entry: OfflinePayment, links: Links, *, actor_user_id: int) -> Payment:
    """Record cash or a bank transfer settling whole stages; commits. Stages being paid by card
    right now (processing) cannot be settled offline too."""
    booking = bookings.get_booking(session, tenant_id, booking_id)
    problems: dict[str, str] = {}
    if entry.method not in OFFLINE_METHODS:
        problems["method"] = "Choose cash, bank transfer or other."
    if len(entry.note) > NOTE_MAX:
        problems["note"] = f"Use at most {NOTE_MAX} characters."
    stages = [s for s in payment_stages.stages_for(session, tenant_id, booking_id)
              if s.id in set(entry.stage_ids)]
    if not stages or len(stages) != len(set(entry.stage_ids)):
        problems["stage_ids"] = "Choose the stages this payment settles."
    elif any(s.status != "due" for s in stages):
        problems["stage_ids"] = "Only stages still due can be settled (a card payment may be " \
                                "processing)."
    if booking.status not in ("pending_deposit", "confirmed"):
        raise InvalidTransition(f"A booking that is {bookings.LABELS[booking.status]} takes no "
                                "payments.")
    if problems:
        session.rollback()
        raise ValidationFailed(problems)
    tenant = session.get(Tenant, tenant_id)
    now = clock.now()
    received = now
    if entry.received_on is not None:
        from zoneinfo import ZoneInfo

        received = datetime.combine(entry.received_on, time(12), ZoneInfo(tenant.timezone))
        if received > now:
            session.rollback()
            raise ValidationFailed({"received_on": "The date cannot be in the future."})
    with committing(session):
        payment = Payment(
            tenant_id=tenant_id, booking_id=booking_id,
            amount_minor=sum(s.amount_minor for s in stages), refunded_minor=0,
            currency=booking.currency, method=entry.method, stripe_payment_intent_id=None,
            stripe_charge_id="", note=entry.note.strip(), recorded_by_user_id=actor_user_id,
            received_at=received, created_at=now)
        session.add(payment)
        session.flush()
        if _settle_stages(session, tenant_id, [s.id for s in stages], payment, now) != len(stages):
            raise InvalidTransition("Those stages changed meanwhile; reload and try again.")
        audit.record(session, tenant_id, "payment.recorded_offline", actor="user",
                     actor_user_id=actor_user_id, subject_type="booking", subject_id=booking_id,
                     payment_id=payment.id, amount_minor=payment.amount_minor,
                     currency=payment.currency, method=entry.method)
        payment_stages.cancel_checkouts(session, stages)  # settled here: no card money for them too
        _after_payment(session, booking, payment, links)
    return payment


def cancel_open_intent(session: Session, stripe_id: str, gateway: PaymentGateway, links: Links) -> str:
    """Cancel an intent whose stage was settled another way; if it succeeded meanwhile, record
    it (the owner then refunds). Returns the intent's final status."""
    checkout = checkout_for(session, stripe_id)
    if checkout is None:
        return "unknown"
    key = f"stage-{checkout.stage_id}-pi-v{checkout.version}-cancel"
    account = checkout.stripe_account
    session.commit()
    try:
        intent = gateway.cancel_intent(stripe_id, account=account, idempotency_key=key)
    except IntentStateConflict:
        return reconcile_intent(session, stripe_id, gateway, links, source="cancel").intent.status
    checkout = checkout_for(session, stripe_id)
    return apply_intent(session, checkout, intent, links, source="cancel") and intent.status


def processing_intents(session: Session, limit: int = 200) -> list[str]:
    """Stripe ids of intents left in processing for a while: the sweeper reconciles them."""
    cutoff = clock.now() - PROCESSING_RECHECK
    return list(session.scalars(
        select(CheckoutIntent.stripe_id).where(CheckoutIntent.status == "processing",
                                               CheckoutIntent.updated_at <= cutoff)
        .order_by(CheckoutIntent.updated_at).limit(limit)))


def payment_for_booking(session: Session, tenant_id: int, payment_id: int) -> Payment:
    payment = get_owned(session, Payment, tenant_id, payment_id)
    return payment
