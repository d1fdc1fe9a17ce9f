"""The couple's checkout of a payment stage: one PaymentIntent per stage, reused on reload.

Invariants:
- a stage has at most one open PaymentIntent: it is created with the idempotency key
  `stage-<id>-pi-v<version>`, and only by the request holding the stage's claim (a guarded
  UPDATE), so a double submission calls Stripe's create once and both requests show the same
  intent; a failed create keeps its key, so the retry replays rather than duplicates;
- "pay everything outstanding" puts the later open stages on the same intent: the amount is
  updated in place when Stripe allows it, otherwise the old intent is canceled and a new
  version is created;
- only the first open stage of a booking can be paid, and only while the booking is
  awaiting its deposit or confirmed;
- a new intent is a direct charge on the tenant's connected account, read from the tenant row
  in the transaction that loads the booking (`connect.accounts.charge_account`), with the
  platform fee as `application_fee_amount`; an existing intent is always addressed on the
  account recorded with it. A tenant that cannot take charges gets an "unavailable" checkout,
  never a call to Stripe.
"""
from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from app.models import Booking, CheckoutIntent, PaymentStage, Tenant
from app.services.accounts import users as accounts
from app.services.connect import accounts as connect_accounts
from app.services.connect.fees import FeePolicy
from app.services.payments import recording as payments
from app.services.payments import stages as payment_stages
from app.services.payments.gateway import IdempotencyKeyReused, Intent, IntentStateConflict, PaymentGateway
from app.services.shared import clock
from app.services.shared.errors import Conflict, DomainError, InvalidTransition, NotFound
from app.services.shared.links import Links
from app.services.shared.tenancy import get_owned

PAYABLE = ("pending_deposit", "confirmed")
CLAIM_STALE = timedelta(seconds=60)
WAIT_SECONDS = 15.0


@dataclass
class Checkout:
    """What the checkout page shows. `state`: open (pay now), paid, processing, closed or
    unavailable (the business cannot take card payments yet)."""

    state: str
    booking: Booking
    stage: PaymentStage
    covered: list[PaymentStage] = field(default_factory=list)
    amount_minor: int = 0
    currency: str = ""
    client_secret: str = ""
    intent_id: str = ""
    last_error: str = ""
    pay_all_available: bool = False
    stripe_account: str = ""  # Stripe.js confirms on the connected account the intent is on


def _load(session: Session, tenant_id: int, stage_id: int) -> tuple[PaymentStage, Booking,
                                                                    list[PaymentStage]]:
    stage = payment_stages.get_stage(session, tenant_id, stage_id)
    booking = get_owned(session, Booking, tenant_id, stage.booking_id)
    return stage, booking, payment_stages.stages_for(session, tenant_id, booking.id)


def _scope(stage: PaymentStage, stages: list[PaymentStage], pay_all: bool) -> list[PaymentStage]:
    later = [s for s in stages if s.seq > stage.seq and s.status == "due"]
    return [stage, *later] if pay_all else [stage]


def _metadata(stage: PaymentStage, covered: list[PaymentStage]) -> dict[str, str]:
    return {"tenant_id": str(stage.tenant_id), "booking_id": str(stage.booking_id),
            "stage_id": str(stage.id), "stage_ids": ",".join(str(s.id) for s in covered)}


class PaymentsNotOpen(DomainError):
    """The business's owner has not confirmed their email yet: no card payments."""

    status = 409
    default_message = ("This business cannot take card payments yet. Contact them to pay "
                       "another way, or try again later.")


def open_checkout(session: Session, tenant_id: int, stage_id: int, gateway: PaymentGateway,
                  links: Links, *, fees: FeePolicy, pay_all: bool = False,
                  wait_seconds: float = WAIT_SECONDS) -> Checkout:
    """The stage's checkout, creating or adjusting its PaymentIntent if needed; commits."""
    deadline = _time.monotonic() + wait_seconds
    while True:
        stage, booking, stages = _load(session, tenant_id, stage_id)
        view = _settled_view(stage, booking, stages)
        if view is not None:
            return view
        if not accounts.can_take_payments(session, tenant_id):
            raise PaymentsNotOpen()
        tenant = session.get(Tenant, tenant_id)
        if not tenant.can_take_charges:
            session.commit()
            return Checkout("unavailable", booking, stage, currency=stage.currency)
        covered = _scope(stage, stages, pay_all)
        amount = sum(s.amount_minor for s in covered)
        reusable = _reusable(session, stage, covered, amount, gateway, links)
        if reusable is not None:
            return _view(session, tenant_id, stage_id, reusable, pay_all)
        if _claim(session, stage):
            try:
                intent = _prepare_intent(session, stage, booking, covered, amount, gateway, links,
                                         fees)
            finally:
                _release(session, tenant_id, stage.id)
            return _view(session, tenant_id, stage_id, intent, pay_all)
        # Another request (a double click) is creating the intent: wait for it, then reuse it.
        if _time.monotonic() > deadline:
            raise Conflict("Your payment is still being prepared. Reload this page in a moment.")
        session.rollback()
        _time.sleep(0.1)


def _settled_view(stage: PaymentStage, booking: Booking, stages: list[PaymentStage]
                  ) -> Checkout | None:
    if stage.status == "paid":
        return Checkout("paid", booking, stage, currency=stage.currency)
    if stage.status == "processing":
        return Checkout("processing", booking, stage, currency=stage.currency)
    if booking.status not in PAYABLE or stage.status != "due":
        return Checkout("closed", booking, stage, currency=stage.currency)
    first = payment_stages.next_open(stages)
    if first is not None and first.id != stage.id:
        raise InvalidTransition(f"Please pay the {first.label.lower()} first.")
    return None


def _reusable(session: Session, stage: PaymentStage, covered: list[PaymentStage], amount: int,
              gateway: PaymentGateway, links: Links) -> Intent | None:
    """The stage's current intent when it already has this scope (a reload): no claim needed."""
    if not stage.payment_intent_id:
        return None
    current = payments.checkout_for(session, stage.payment_intent_id)
    tenant = session.get(Tenant, stage.tenant_id)
    if current is None or current.amount_minor != amount \
            or current.stripe_account != (tenant.stripe_account_id or "") \
            or [int(i) for i in current.stage_ids] != [s.id for s in covered]:
        return None
    session.commit()  # no transaction stays open across a call to Stripe (SQLite would lock)
    intent = gateway.retrieve_intent(current.stripe_id, account=current.stripe_account)
    if intent.status in ("succeeded", "processing"):
        payments.apply_intent(session, current, intent, links, source="checkout")
        return intent
    if intent.open and intent.amount == amount:
        return intent
    return None


def _claim(session: Session, stage: PaymentStage) -> bool:
    now = clock.now()
    claimed = session.execute(
        update(PaymentStage)
        .where(PaymentStage.id == stage.id, PaymentStage.tenant_id == stage.tenant_id,
               PaymentStage.intent_version == stage.intent_version,
               or_(PaymentStage.intent_claimed_at.is_(None),
                   PaymentStage.intent_claimed_at < now - CLAIM_STALE))
        .values(intent_claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return claimed == 1


def _release(session: Session, tenant_id: int, stage_id: int) -> None:
    session.rollback()
    session.execute(update(PaymentStage).where(PaymentStage.id == stage_id,
                                               PaymentStage.tenant_id == tenant_id)
                    .values(intent_claimed_at=None).execution_options(synchronize_session=False))
    session.commit()


def _prepare_intent(session: Session, stage: PaymentStage, booking: Booking,
                    covered: list[PaymentStage], amount: int, gateway: PaymentGateway,
                    links: Links, fees: FeePolicy) -> Intent:
    """Under the stage's claim: reuse, update, or replace the current intent, or create one."""
    session.refresh(stage)
    metadata = _metadata(stage, covered)
    tenant = session.get(Tenant, stage.tenant_id)
    account = connect_accounts.charge_account(tenant)
    fee = fees.fee_for(amount, stage.currency)
    current = payments.checkout_for(session, stage.payment_intent_id) \
        if stage.payment_intent_id else None
    session.commit()  # no transaction stays open across a call to Stripe (SQLite would lock)
    if current is not None:
        intent = gateway.retrieve_intent(current.stripe_id, account=current.stripe_account)
        if intent.status in ("succeeded", "processing"):
            payments.apply_intent(session, current, intent, links, source="checkout")
            return intent
        if intent.open and current.stripe_account == account:
            if intent.amount == amount and [int(i) for i in current.stage_ids] == \
                    [s.id for s in covered]:
                return intent
            try:
                current.revision += 1
                intent = gateway.update_intent(
                    intent.id, account=current.stripe_account, amount=amount, metadata=metadata,
                    application_fee=fee,
                    idempotency_key=f"stage-{stage.id}-pi-v{current.version}-r{current.revision}")
            except IntentStateConflict:
                session.rollback()
            else:
                current.amount_minor = amount
                current.stage_ids = [s.id for s in covered]
                current.status = intent.status
                current.updated_at = clock.now()
                session.commit()
                return intent
            intent = _cancel(session, current, gateway)
            if intent.status in ("succeeded", "processing"):
                payments.apply_intent(session, current, intent, links, source="checkout")
                return intent
        elif intent.open:
            # The tenant connected another account since: the old intent must not take money.
            intent = _cancel(session, current, gateway)
            if intent.status in ("succeeded", "processing"):
                payments.apply_intent(session, current, intent, links, source="checkout")
                return intent
        current.status = intent.status
    return _create(session, stage, booking, covered, amount, metadata, gateway, account, fee)


def _cancel(session: Session, current: CheckoutIntent, gateway: PaymentGateway) -> Intent:
    try:
        intent = gateway.cancel_intent(
            current.stripe_id, account=current.stripe_account,
            idempotency_key=f"stage-{current.stage_id}-pi-v{current.version}-cancel")
    except IntentStateConflict:
        intent = gateway.retrieve_intent(current.stripe_id, account=current.stripe_account)
    current.status = intent.status
    current.updated_at = clock.now()
    return intent


def _create(session: Session, stage: PaymentStage, booking: Booking,
            covered: list[PaymentStage], amount: int, metadata: dict[str, str],
            gateway: PaymentGateway, account: str, fee: int) -> Intent:
    tenant = session.get(Tenant, stage.tenant_id)
    version = stage.intent_version + 1
    labels = ", ".join(s.label for s in covered)
    for _ in range(3):
        try:
            intent = gateway.create_intent(
                account=account, application_fee=fee,
                amount=amount, currency=stage.currency, metadata=metadata,
                idempotency_key=f"stage-{stage.id}-pi-v{version}",
                description=f"{tenant.name}: {labels} for booking #{booking.id} "
                            f"({booking.package_title})",
                receipt_email="")
            break
        except IdempotencyKeyReused:
            # The key was spent on other parameters (a crash between create and save, then a
            # different amount): move to the next version rather than reuse it.
            version += 1
    else:
        raise Conflict("We could not prepare the payment. Reload this page to try again.")
    now = clock.now()
    session.add(CheckoutIntent(
        tenant_id=stage.tenant_id, booking_id=stage.booking_id, stage_id=stage.id,
        stripe_id=intent.id, stripe_account=account, version=version, revision=0,
        amount_minor=amount,
        currency=stage.currency, stage_ids=[s.id for s in covered], status=intent.status,
        created_at=now, updated_at=now))
    stage.payment_intent_id = intent.id
    stage.intent_version = version
    stage.updated_at = now
    session.commit()
    return intent


def _view(session: Session, tenant_id: int, stage_id: int, intent: Intent, pay_all: bool
          ) -> Checkout:
    session.expire_all()
    stage, booking, stages = _load(session, tenant_id, stage_id)
    later_due = [s for s in stages if s.seq > stage.seq and s.status == "due"]
    if stage.status == "paid":
        return Checkout("paid", booking, stage, currency=stage.currency)
    if stage.status == "processing" or intent.status == "processing":
        return Checkout("processing", booking, stage, currency=stage.currency)
    covered = _scope(stage, stages, pay_all)
    current = payments.checkout_for(session, intent.id)
    return Checkout("open", booking, stage, covered=covered, amount_minor=intent.amount,
                    currency=stage.currency, client_secret=intent.client_secret,
                    intent_id=intent.id, last_error=stage.last_error,
                    pay_all_available=bool(later_due),
                    stripe_account=current.stripe_account if current else "")


@dataclass(frozen=True)
class ReturnResult:
    """What the return page shows: succeeded, processing or failed (try another card)."""

    state: str
    booking: Booking
    stage: PaymentStage
    amount_minor: int
    currency: str
    message: str = ""


def payment_return(session: Session, tenant_id: int, stage_id: int, stripe_id: str,
                   gateway: PaymentGateway, links: Links) -> ReturnResult:
    """The couple came back from Stripe: check with Stripe and record the payment if it went
    through (the webhook may have done so already; either way it is recorded once)."""
    stage = payment_stages.get_stage(session, tenant_id, stage_id)
    checkout = payments.checkout_for(session, stripe_id) if stripe_id else None
    if checkout is None or checkout.tenant_id != tenant_id \
            or stage.id not in [int(i) for i in checkout.stage_ids]:
        raise NotFound()
    session.commit()
    result = payments.reconcile_intent(session, stripe_id, gateway, links,
                                       claimed_tenant_id=tenant_id, source="return_page")
    session.expire_all()
    stage, booking, _ = _load(session, tenant_id, stage_id)
    if result.succeeded or stage.status == "paid":
        state, message = "succeeded", ""
    elif result.outcome == "processing":
        state, message = "processing", ""
    else:
        state = "failed"
        message = result.intent.last_error or "The payment did not go through."
    return ReturnResult(state, booking, stage, result.intent.amount, checkout.currency, message)


__all__ = ["Checkout", "ReturnResult", "open_checkout", "payment_return"]
