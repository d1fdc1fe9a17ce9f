"""The automatic charge of a payment stage on its due date, and what follows a decline.

Invariants:
- a charge is claimed with a guarded UPDATE before Stripe is called: a fresh try moves
  scheduled/retrying -> charging and numbers the try (`attempts`); a try left `charging` by a
  crashed worker is retaken after CLAIM_STALE with the same number. The PaymentIntent of try n
  is created with the idempotency key `stage-<id>-autopay-<n>`, so a retaken try gets Stripe's
  first answer back and never charges twice;
- before charging, any other open intent of the stage (a checkout the couple has open, the
  previous try) is canceled at Stripe, so the couple cannot pay the same stage twice; if one
  of them succeeded meanwhile, it is recorded and nothing is charged;
- the intent is recorded like any card payment (`CheckoutIntent` + `recording.apply_intent`):
  the webhook, the return page and this task record it once between them, with one receipt;
- a decline is retried after the tenant's retry days, with an email to the couple each time;
  after the last try the stage stays due (past due), the couple and the owner are told; when
  the bank wants the couple present, the couple gets a pay link and nothing is retried.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app.models import AutopayCharge, AutopayMandate, Booking, CheckoutIntent, PaymentStage, Tenant
from app.services.autopay import enrolment
from app.services.autopay.settings import settings_for
from app.services.bookings import emails as booking_emails
from app.services.connect.fees import FeePolicy
from app.services.email import outbox as email
from app.services.notifications import vendor as tell_team
from app.services.payments import recording
from app.services.payments import stages as payment_stages
from app.services.payments.gateway import (
    AccountUnavailable,
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    Intent,
    PaymentGateway,
)
from app.services.shared import audit, clock, jobs, tokens
from app.services.shared.errors import InvalidTransition
from app.services.shared.links import Links
from app.services.shared.money import format_money
from app.services.shared.tenancy import get_owned

log = logging.getLogger(__name__)
CLAIM_STALE = timedelta(minutes=2)
AUTHENTICATION = "authentication_required"
CHARGEABLE_BOOKINGS = ("confirmed",)


def due_charges(session: Session, limit: int = 500, stale: timedelta = CLAIM_STALE) -> list[int]:
    """Charges whose moment has come, and tries left `charging` by a crashed worker."""
    now = clock.now()
    return list(session.scalars(
        select(AutopayCharge.id).where(or_(
            and_(AutopayCharge.status.in_(("scheduled", "retrying")),
                 AutopayCharge.next_attempt_at <= now),
            and_(AutopayCharge.status == "charging",
                 AutopayCharge.claimed_at < now - stale)))
        .order_by(AutopayCharge.next_attempt_at).limit(limit)))


def _claim(session: Session, charge_id: int, stale: timedelta) -> AutopayCharge | None:
    """Take the charge for one try (a new try, or a stale one again); commits."""
    now = clock.now()
    row = session.get(AutopayCharge, charge_id)
    if row is None:
        return None
    tenant_id = row.tenant_id
    fresh = session.execute(
        update(AutopayCharge)
        .where(AutopayCharge.id == charge_id, AutopayCharge.tenant_id == tenant_id,
               AutopayCharge.status.in_(("scheduled", "retrying")),
               AutopayCharge.next_attempt_at <= now)
        .values(status="charging", attempts=AutopayCharge.attempts + 1, claimed_at=now,
                last_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not fresh:
        fresh = session.execute(
            update(AutopayCharge)
            .where(AutopayCharge.id == charge_id, AutopayCharge.tenant_id == tenant_id,
                   AutopayCharge.status == "charging",
                   AutopayCharge.claimed_at < now - stale)
            .values(claimed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return row if fresh else None


def charge(session: Session, charge_id: int, gateway: PaymentGateway, links: Links,
           fees: FeePolicy, stale: timedelta = CLAIM_STALE) -> str:
    """Make one try of an automatic charge; returns what happened (for logs and tests)."""
    row = _claim(session, charge_id, stale)
    if row is None:
        return "not_due"
    stage = session.get(PaymentStage, row.stage_id)
    booking = session.get(Booking, row.booking_id)
    mandate = enrolment.mandate_of(session, row.tenant_id, row.booking_id)
    if stage.status == "paid":
        return _finish(session, row, "paid")
    if stage.status != "due" or booking.status not in CHARGEABLE_BOOKINGS \
            or mandate is None or mandate.status != "active":
        return _finish(session, row, "off")
    if not _no_other_open_intent(session, row, stage, gateway, links):
        return _finish(session, row, "paid")
    session.refresh(row)
    if row.status != "charging":
        return row.status
    tenant = session.get(Tenant, row.tenant_id)
    attempt = row.attempts
    metadata = {"tenant_id": str(row.tenant_id), "booking_id": str(row.booking_id),
                "stage_id": str(stage.id), "stage_ids": str(stage.id), "autopay": str(attempt)}
    params = dict(account=mandate.stripe_account, customer=mandate.customer_id,
                  payment_method=mandate.payment_method_id, amount=stage.amount_minor,
                  currency=stage.currency, metadata=metadata,
                  application_fee=fees.fee_for(stage.amount_minor, stage.currency),
                  description=f"{tenant.name}: {stage.label} for booking #{booking.id} "
                              f"({booking.package_title}), automatic payment")
    charge_id, stage_id, account = row.id, stage.id, mandate.stripe_account
    # Everything the call needs is read above: touching a row after this commit would open a
    # transaction (on SQLite, the write lock) for the whole call to Stripe.
    session.commit()
    for _ in range(3):
        try:
            intent = gateway.charge_saved_card(
                **params, idempotency_key=f"stage-{stage_id}-autopay-{attempt}")
            break
        except IdempotencyKeyReused:
            # The amount changed between a crashed try and this one: that try never charged
            # with these parameters, so the next number is safe.
            attempt = _bump_attempt(session, charge_id)
        except AccountUnavailable as exc:
            return _failed_for_good(session, charge_id, "account_unavailable", exc.message, links)
        except GatewayUnavailable:
            raise  # Stripe unreachable: the try stays claimed and is retaken with its key
        except GatewayError as exc:
            # Stripe refused the request itself (the saved card was removed, say): asking again
            # would get the same answer, so the couple and the owner are told now.
            log.warning("automatic charge %s refused by Stripe: %s", charge_id, exc.message)
            return _failed_for_good(session, charge_id, "refused",
                                    "The saved card can no longer be charged.", links)
    else:
        raise IdempotencyKeyReused("Three idempotency keys in a row were spent.")
    return _record(session, charge_id, intent, account, links)


def _bump_attempt(session: Session, charge_id: int) -> int:
    row = session.get(AutopayCharge, charge_id)
    row.attempts += 1
    row.updated_at = clock.now()
    session.commit()
    return row.attempts


def _no_other_open_intent(session: Session, row: AutopayCharge, stage: PaymentStage,
                          gateway: PaymentGateway, links: Links) -> bool:
    """Cancel the stage's other open intent (a checkout page, an earlier try); False when it
    turned out to have paid the stage."""
    current = recording.checkout_for(session, stage.payment_intent_id) \
        if stage.payment_intent_id else None
    if current is None or current.status in ("canceled", "succeeded"):
        return True
    outcome = recording.cancel_open_intent(session, current.stripe_id, gateway, links)
    session.expire_all()
    return session.get(PaymentStage, row.stage_id).status != "paid" and outcome != "succeeded"


def _record(session: Session, charge_id: int, intent: Intent, account: str, links: Links) -> str:
    """Stripe answered: write the intent as the stage's, record it, then plan what is next."""
    row = session.get(AutopayCharge, charge_id)
    stage = session.get(PaymentStage, row.stage_id)
    existing = recording.checkout_for(session, intent.id)
    now = clock.now()
    if existing is None:
        version = stage.intent_version + 1
        existing = CheckoutIntent(
            tenant_id=row.tenant_id, booking_id=row.booking_id, stage_id=stage.id,
            stripe_id=intent.id, stripe_account=account, version=version, revision=0,
            amount_minor=intent.amount, currency=intent.currency, stage_ids=[stage.id],
            status=intent.status, created_at=now, updated_at=now)
        session.add(existing)
        stage.payment_intent_id, stage.intent_version, stage.updated_at = intent.id, version, now
    row.intent_id = intent.id
    session.flush()
    recording.apply_intent(session, existing, intent, links, source="autopay")
    row = session.get(AutopayCharge, charge_id)
    if intent.status == "succeeded":
        return _finish(session, row, "paid")
    if intent.status == "processing":
        return _finish(session, row, "processing")
    code = intent.last_error_code or "card_declined"
    message = intent.last_error or "The card was declined."
    audit.record(session, row.tenant_id, "autopay.declined", subject_type="booking",
                 subject_id=row.booking_id, stage_id=row.stage_id, attempt=row.attempts,
                 code=code, decline_code=intent.decline_code, payment_intent=intent.id)
    if code == AUTHENTICATION:
        return _needs_couple(session, row, message, links)
    retry_days = settings_for(session, row.tenant_id).retry_days
    if row.attempts <= len(retry_days):
        wait = timedelta(days=retry_days[row.attempts - 1])
        row.status, row.next_attempt_at = "retrying", now + wait
        row.failure_code, row.failure_message, row.updated_at = code, message[:500], now
        _email_couple(session, row, "autopay_declined", links, retry_at=row.next_attempt_at)
        session.commit()
        return "retrying"
    return _failed_for_good(session, row.id, code, message, links)


def _finish(session: Session, row: AutopayCharge, status: str) -> str:
    row.status, row.next_attempt_at, row.updated_at = status, None, clock.now()
    if status == "paid":
        row.failure_code, row.failure_message = "", ""
    session.commit()
    return status


def _needs_couple(session: Session, row: AutopayCharge, message: str, links: Links) -> str:
    now = clock.now()
    row.status, row.next_attempt_at = "needs_action", None
    row.failure_code, row.failure_message, row.updated_at = AUTHENTICATION, message[:500], now
    _email_couple(session, row, "autopay_action_needed", links)
    session.commit()
    return "needs_action"


def _failed_for_good(session: Session, charge_id: int, code: str, message: str,
                     links: Links) -> str:
    """The last try failed: the stage stays due (past due reminders carry on), the couple is
    asked to pay, the owner is told."""
    row = session.get(AutopayCharge, charge_id)
    now = clock.now()
    row.status, row.next_attempt_at = "failed", None
    row.failure_code, row.failure_message, row.updated_at = code, message[:500], now
    booking = session.get(Booking, row.booking_id)
    stage = session.get(PaymentStage, row.stage_id)
    tenant = session.get(Tenant, row.tenant_id)
    _email_couple(session, row, "autopay_failed", links)
    tell_team.notify_team(
        session, row.tenant_id, event_key=f"autopay_failed-{row.stage_id}-{row.attempts}",
        booking=booking, login_url=links.login(),
        sentence=f"Automatic payment of the {stage.label.lower()} "
                 f"({format_money(stage.amount_minor, stage.currency, tenant.locale or 'en_US')})"
                 f" failed for booking #{booking.id} ({booking.couple_names}): {message}")
    audit.record(session, row.tenant_id, "autopay.failed", subject_type="booking",
                 subject_id=row.booking_id, stage_id=row.stage_id, attempts=row.attempts,
                 code=code)
    session.commit()
    return "failed"


SUBJECTS = {
    "autopay_declined": "Your automatic payment to {tenant} did not go through",
    "autopay_action_needed": "Please confirm your payment to {tenant}",
    "autopay_failed": "Your payment to {tenant} is overdue",
    "autopay_card_expiring": "Your saved card expires before your next payment to {tenant}",
}


def _email_couple(session: Session, row: AutopayCharge, kind: str, links: Links,
                  **extra: object) -> None:
    booking = session.get(Booking, row.booking_id)
    stage = session.get(PaymentStage, row.stage_id)
    tenant = session.get(Tenant, row.tenant_id)
    mandate = enrolment.mandate_of(session, row.tenant_id, row.booking_id)
    locale = tenant.locale or "en_US"
    retry_at = extra.get("retry_at")
    email.queue_email(
        session, tenant.id, to=booking.email, kind=kind,
        subject=SUBJECTS[kind].format(tenant=tenant.name),
        context={
            "booking": booking, "stage": stage, "mandate": mandate,
            **booking_emails.describe(booking, tenant),
            "amount_text": format_money(stage.amount_minor, stage.currency, locale),
            "due_text": format_date(stage.due_date, format="long", locale=locale),
            "reason": row.failure_message,
            "retry_text": format_date(payment_stages.local_date(retry_at, tenant.timezone),
                                      format="long", locale=locale) if retry_at else "",
            "pay_url": links.stage_checkout(tenant.slug, tenant.id, stage.id),
            "manage_url": links.booking_manage(
                tenant.slug, tokens.issue(session, tenant.id, "booking_manage", booking.id)),
        },
        dedupe_key=f"{kind}-stage-{stage.id}-try-{row.attempts}")


# -- the owner's actions ------------------------------------------------------------------------

def retry_now(session: Session, tenant_id: int, actor_user_id: int, charge_id: int) -> AutopayCharge:
    """The owner asks for another try now (after a decline, or once the couple says the card is
    fine). Commits; the try runs in the queue."""
    row = get_owned(session, AutopayCharge, tenant_id, charge_id)
    mandate = enrolment.mandate_of(session, tenant_id, row.booking_id)
    stage = session.get(PaymentStage, row.stage_id)
    if row.status not in ("retrying", "failed", "needs_action") or stage.status != "due":
        raise InvalidTransition("This payment is not waiting for another try.")
    if mandate is None or mandate.status != "active":
        raise InvalidTransition("Automatic payments are off for this booking.")
    now = clock.now()
    row.status, row.next_attempt_at, row.updated_at = "retrying", now, now
    audit.record(session, tenant_id, "autopay.retry_requested", actor="user",
                 actor_user_id=actor_user_id, subject_type="booking", subject_id=row.booking_id,
                 stage_id=row.stage_id)
    jobs.after_commit(session, jobs.Job.CHARGE_AUTOPAY, row.id)
    session.commit()
    return row


# -- cards about to expire ----------------------------------------------------------------------

def warn_expiring_cards(session: Session, links: Links, limit: int = 500) -> int:
    """Email the couple once per card when it expires before the next planned charge; commits."""
    rows = session.execute(
        select(AutopayMandate, AutopayCharge)
        .join(AutopayCharge, and_(AutopayCharge.tenant_id == AutopayMandate.tenant_id,
                                  AutopayCharge.booking_id == AutopayMandate.booking_id))
        .where(AutopayMandate.status == "active",
               AutopayMandate.expiry_notice_for != AutopayMandate.payment_method_id,
               AutopayCharge.status.in_(("scheduled", "retrying")))
        .order_by(AutopayCharge.next_attempt_at).limit(limit)).all()
    warned: set[int] = set()
    for mandate, row in rows:
        if mandate.id in warned or not enrolment.card_expires_before(mandate, row.next_attempt_at):
            continue
        warned.add(mandate.id)
        mandate.expiry_notice_for = mandate.payment_method_id
        _email_couple(session, row, "autopay_card_expiring", links)
    session.commit()
    return len(warned)

