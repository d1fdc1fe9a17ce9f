"""Turning autopay on and off: the offer at the deposit, the couple's consent, the card saved on
the vendor's connected account, changing that card, and switching autopay off.

Invariants:
- a booking has at most one mandate (UNIQUE booking_id); it is `active` only with a saved card
  (a PaymentMethod attached to the couple's Customer on the account the booking is paid on);
- the consent sentence the couple ticked is stored verbatim with the time, and each change
  (on, off, new card) is in the audit log;
- consent given at the deposit is `pending` until the payment that saves the card succeeds,
  and applies only to that PaymentIntent: if the couple pays through another intent (they
  switched to "pay everything"), the mandate stays pending and nothing is charged later;
- every stage still due when autopay turns on gets one `AutopayCharge`, planned for its due
  date at CHARGE_AT in the tenant's time zone (app.services.autopay.charging charges it).
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from babel.dates import format_date
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AutopayCharge, AutopayMandate, Booking, CheckoutIntent, PaymentStage, StripeCustomer, Tenant
from app.services.autopay.settings import settings_for
from app.services.payments import stages as payment_stages
from app.services.payments.gateway import CardSetup, PaymentGateway
from app.services.reminders.times import resolve_local
from app.services.shared import audit, clock
from app.services.shared.errors import Conflict, InvalidTransition, NotFound
from app.services.shared.money import format_money
from app.services.shared.tenancy import get_owned

CHARGE_AT = time(9, 0)  # local time on the due date at which an automatic charge is made
STOPPABLE = ("scheduled", "retrying", "needs_action", "failed")


@dataclass(frozen=True)
class PlannedCharge:
    label: str
    amount_text: str
    date_text: str


@dataclass(frozen=True)
class Offer:
    """What the deposit's checkout shows next to the autopay box."""

    charges: list[PlannedCharge]
    consent_text: str
    chosen: bool  # the couple ticked it for this PaymentIntent


def _later_due(session: Session, tenant_id: int, booking_id: int, after_seq: int
               ) -> list[PaymentStage]:
    return [s for s in payment_stages.stages_for(session, tenant_id, booking_id)
            if s.seq > after_seq and s.status == "due"]


def mandate_of(session: Session, tenant_id: int, booking_id: int) -> AutopayMandate | None:
    return session.scalar(select(AutopayMandate).where(AutopayMandate.tenant_id == tenant_id,
                                                       AutopayMandate.booking_id == booking_id))


def consent_sentence(tenant: Tenant, booking: Booking, stages: list[PaymentStage]) -> str:
    locale = tenant.locale or "en_US"
    listed = "; ".join(
        f"{s.label} {format_money(s.amount_minor, s.currency, locale)} on "
        f"{format_date(s.due_date, format='long', locale=locale)}" for s in stages)
    return (f"I authorise {tenant.name} to charge this card automatically for the remaining "
            f"payments of booking #{booking.id} on their due dates ({listed}). I can switch "
            f"this off or change the card at any time from my booking page, and I will be "
            f"emailed a receipt for each payment.")


def offer_for(session: Session, tenant: Tenant, booking: Booking, stage: PaymentStage,
              intent_id: str, pay_all: bool) -> Offer | None:
    """The autopay offer on the deposit's checkout, or None where it does not apply: the
    tenant does not offer it, the booking is not awaiting its deposit, nothing is due later,
    or the couple is paying everything now."""
    if pay_all or booking.status != "pending_deposit" or not intent_id:
        return None
    if not settings_for(session, tenant.id).offered:
        return None
    later = _later_due(session, tenant.id, booking.id, stage.seq)
    if not later:
        return None
    locale = tenant.locale or "en_US"
    mandate = mandate_of(session, tenant.id, booking.id)
    return Offer(
        charges=[PlannedCharge(s.label, format_money(s.amount_minor, s.currency, locale),
                               format_date(s.due_date, format="long", locale=locale))
                 for s in later],
        consent_text=consent_sentence(tenant, booking, later),
        chosen=mandate is not None and mandate.status == "pending"
        and mandate.intent_id == intent_id)


def ensure_customer(session: Session, tenant: Tenant, account: str, booking: Booking,
                    gateway: PaymentGateway) -> str:
    """The couple's Customer on `account` (one per email per tenant), created once; commits."""
    email = booking.email.strip().lower()
    query = select(StripeCustomer.customer_id).where(
        StripeCustomer.tenant_id == tenant.id, StripeCustomer.stripe_account == account,
        StripeCustomer.email == email)
    found = session.scalar(query)
    if found:
        return found
    tenant_id, name = tenant.id, booking.couple_names
    session.commit()  # no transaction stays open across a call to Stripe
    digest = hashlib.sha256(email.encode()).hexdigest()[:20]
    customer = gateway.create_customer(
        account=account, email=email, name=name, metadata={"tenant_id": str(tenant_id)},
        idempotency_key=f"tenant-{tenant_id}-customer-{digest}")
    try:
        with session.begin_nested():
            session.add(StripeCustomer(tenant_id=tenant_id, stripe_account=account, email=email,
                                       customer_id=customer, created_at=clock.now()))
    except IntegrityError:
        pass  # a parallel request saved it (same idempotency key: the same Customer)
    session.commit()
    return session.scalar(query) or customer


def choose_at_checkout(session: Session, tenant_id: int, stage_id: int, chosen: bool,
                       gateway: PaymentGateway) -> Offer:
    """The couple ticked or unticked the autopay box on the deposit's checkout: record the
    consent (pending until the payment succeeds) and tell Stripe to save the card, or undo
    both. Commits."""
    stage = payment_stages.get_stage(session, tenant_id, stage_id)
    booking = get_owned(session, Booking, tenant_id, stage.booking_id)
    tenant = session.get(Tenant, tenant_id)
    intent_id = stage.payment_intent_id or ""
    offer = offer_for(session, tenant, booking, stage, intent_id, pay_all=False)
    current = session.scalar(select(CheckoutIntent).where(CheckoutIntent.stripe_id == intent_id))
    if offer is None or current is None or [int(i) for i in current.stage_ids] != [stage.id]:
        raise InvalidTransition("Automatic payments cannot be set up for this payment. "
                                "Reload the page.")
    mandate = mandate_of(session, tenant_id, booking.id)
    if mandate is not None and mandate.status == "active":
        raise InvalidTransition("Automatic payments are already on for this booking.")
    account, booking_id = current.stripe_account, booking.id
    customer = ensure_customer(session, tenant, account, booking, gateway) if chosen else ""
    session.commit()  # no transaction stays open across a call to Stripe
    gateway.save_card_with_intent(intent_id, account=account, customer=customer, save=chosen,
                                  idempotency_key="")
    now = clock.now()
    mandate = mandate_of(session, tenant_id, booking_id)
    if chosen:
        if mandate is None:
            mandate = AutopayMandate(tenant_id=tenant_id, booking_id=booking_id, created_at=now,
                                     status="pending", consented_at=now)
            session.add(mandate)
        mandate.status, mandate.stripe_account, mandate.customer_id = "pending", account, customer
        mandate.intent_id, mandate.consent_text, mandate.consented_at = (
            intent_id, offer.consent_text, now)
        mandate.switched_off_at, mandate.switched_off_by, mandate.updated_at = None, "", now
    elif mandate is not None:
        mandate.status, mandate.intent_id = "off", ""
        mandate.switched_off_at, mandate.switched_off_by, mandate.updated_at = now, "couple", now
    audit.record(session, tenant_id, "autopay.consent_given" if chosen else "autopay.consent_withdrawn",
                 actor="couple", subject_type="booking", subject_id=booking_id,
                 payment_intent=intent_id)
    session.commit()
    return offer_for(session, tenant, booking, stage, intent_id, pay_all=False)


def after_card_payment(session: Session, tenant_id: int, booking_id: int, intent_id: str
                       ) -> AutopayMandate | None:
    """In the transaction recording a card payment: the pending mandate this payment saves a
    card for (the caller queues its activation), else None."""
    mandate = mandate_of(session, tenant_id, booking_id)
    if mandate is None or mandate.status != "pending" or mandate.intent_id != intent_id:
        return None
    return mandate


def activate(session: Session, mandate_id: int, payment_method: str, gateway: PaymentGateway
             ) -> AutopayMandate | None:
    """The deposit that saved the card succeeded: keep the card's details and plan a charge
    for each stage still due. Commits; a mandate already active or switched off is left."""
    mandate = session.get(AutopayMandate, mandate_id)
    if mandate is None or mandate.status != "pending" or not payment_method:
        session.commit()
        return mandate
    account = mandate.stripe_account
    session.commit()
    card = gateway.retrieve_card(payment_method, account=account)
    mandate = session.get(AutopayMandate, mandate_id)
    if mandate.status != "pending":
        session.commit()
        return mandate
    _use_card(mandate, card.id, card.brand, card.last4, card.exp_month, card.exp_year)
    mandate.status = "active"
    plan_charges(session, mandate)
    audit.record(session, mandate.tenant_id, "autopay.on", subject_type="booking",
                 subject_id=mandate.booking_id, card=f"{card.brand} {card.last4}")
    session.commit()
    return mandate


def _use_card(mandate: AutopayMandate, pm: str, brand: str, last4: str, month: int,
              year: int) -> None:
    mandate.payment_method_id, mandate.card_brand, mandate.card_last4 = pm, brand, last4
    mandate.card_exp_month, mandate.card_exp_year = month, year
    mandate.expiry_notice_for, mandate.updated_at = "", clock.now()


def charge_moment(stage: PaymentStage, timezone: str, now: datetime) -> datetime:
    """When a stage is charged: CHARGE_AT on its due date, local time (now if that passed)."""
    return max(resolve_local(stage.due_date, CHARGE_AT, timezone), now)


def plan_charges(session: Session, mandate: AutopayMandate) -> int:
    """One planned charge per stage still due (caller's transaction); a stage whose charge
    failed or was switched off is planned again. Returns how many are planned."""
    tenant = session.get(Tenant, mandate.tenant_id)
    now = clock.now()
    existing = {c.stage_id: c for c in session.scalars(select(AutopayCharge).where(
        AutopayCharge.tenant_id == mandate.tenant_id,
        AutopayCharge.booking_id == mandate.booking_id))}
    planned = 0
    for stage in payment_stages.stages_for(session, mandate.tenant_id, mandate.booking_id):
        if stage.status != "due":
            continue
        charge = existing.get(stage.id)
        if charge is None:
            charge = AutopayCharge(tenant_id=stage.tenant_id, booking_id=stage.booking_id,
                                   stage_id=stage.id, attempts=0, created_at=now)
            session.add(charge)
        elif charge.status not in STOPPABLE + ("off",):
            continue  # being charged, settling or paid
        charge.status, charge.next_attempt_at = "scheduled", charge_moment(stage, tenant.timezone, now)
        charge.failure_code, charge.failure_message, charge.updated_at = "", "", now
        planned += 1
    session.flush()
    return planned


def switch_off(session: Session, tenant_id: int, booking_id: int, *, by: str,
               actor_user_id: int | None = None) -> AutopayMandate:
    """No more automatic charges for this booking (a charge already under way at Stripe
    completes). Commits."""
    mandate = mandate_of(session, tenant_id, booking_id)
    if mandate is None or mandate.status == "off":
        raise NotFound("Automatic payments are not on for this booking.")
    now = clock.now()
    mandate.status, mandate.switched_off_at, mandate.switched_off_by = "off", now, by
    mandate.updated_at = now
    stop_charges(session, tenant_id, booking_id)
    audit.record(session, tenant_id, "autopay.off", actor="user" if actor_user_id else by,
                 actor_user_id=actor_user_id, subject_type="booking", subject_id=booking_id)
    session.commit()
    return mandate


def stages_settled(session: Session, tenant_id: int, stage_ids: list[int]) -> None:
    """Stages paid (by this charge, a checkout or an offline payment): their planned charges
    are done (caller's transaction)."""
    session.execute(update(AutopayCharge)
                    .where(AutopayCharge.tenant_id == tenant_id,
                           AutopayCharge.stage_id.in_(stage_ids),
                           AutopayCharge.status != "paid")
                    .values(status="paid", next_attempt_at=None, failure_code="",
                            failure_message="", updated_at=clock.now())
                    .execution_options(synchronize_session=False))


def stop_charges(session: Session, tenant_id: int, booking_id: int,
                 stage_ids: list[int] | None = None) -> int:
    """Planned charges that must not run (autopay off, stages paid another way or voided)
    become `off` (caller's transaction)."""
    query = (update(AutopayCharge)
             .where(AutopayCharge.tenant_id == tenant_id, AutopayCharge.booking_id == booking_id,
                    AutopayCharge.status.in_(STOPPABLE))
             .values(status="off", next_attempt_at=None, updated_at=clock.now())
             .execution_options(synchronize_session=False))
    if stage_ids is not None:
        query = query.where(AutopayCharge.stage_id.in_(stage_ids))
    return session.execute(query).rowcount


# -- changing the card (from the couple's booking page) ------------------------------------------

def start_card_change(session: Session, tenant_id: int, booking_id: int,
                      gateway: PaymentGateway) -> CardSetup:
    """A SetupIntent to save a new card for this booking's automatic payments. Commits.
    (Each visit makes a new one: an unconfirmed SetupIntent charges nothing.)"""
    booking = get_owned(session, Booking, tenant_id, booking_id)
    tenant = session.get(Tenant, tenant_id)
    if booking.status != "confirmed" or not _later_due(
            session, tenant_id, booking_id, 0):
        raise InvalidTransition("Nothing is left to pay automatically for this booking.")
    if not tenant.can_take_charges:
        raise Conflict("This business cannot take card payments right now.")
    account = tenant.stripe_account_id or ""
    customer = ensure_customer(session, tenant, account, booking, gateway)
    return gateway.create_card_setup(
        account=account, customer=customer,
        metadata={"tenant_id": str(tenant_id), "booking_id": str(booking_id)},
        idempotency_key=f"booking-{booking_id}-setup-{uuid.uuid4().hex}")


def finish_card_change(session: Session, tenant_id: int, booking_id: int, setup_id: str,
                       gateway: PaymentGateway) -> AutopayMandate:
    """The couple came back from saving a card: check the SetupIntent with Stripe and, when it
    succeeded for this booking, make that card the one autopay charges (turning autopay on
    with the consent shown on the card page). Commits."""
    booking = get_owned(session, Booking, tenant_id, booking_id)
    tenant = session.get(Tenant, tenant_id)
    account = tenant.stripe_account_id or ""
    session.commit()
    setup = gateway.retrieve_card_setup(setup_id, account=account)
    if setup.metadata.get("tenant_id") != str(tenant_id) or \
            setup.metadata.get("booking_id") != str(booking_id):
        raise NotFound()
    if setup.status != "succeeded":
        raise InvalidTransition(setup.last_error or "The card was not saved. Please try again.")
    card = gateway.retrieve_card(setup.payment_method, account=account)
    now = clock.now()
    mandate = mandate_of(session, tenant_id, booking_id)
    if mandate is not None and mandate.status == "active" \
            and mandate.payment_method_id == card.id:
        session.commit()
        return mandate  # a reload of the return page
    consent = consent_sentence(tenant, booking, _later_due(session, tenant_id, booking_id, 0))
    if mandate is None:
        mandate = AutopayMandate(tenant_id=tenant_id, booking_id=booking_id, created_at=now,
                                 status="active", consented_at=now)
        session.add(mandate)
    mandate.status, mandate.stripe_account, mandate.customer_id = "active", account, setup.customer
    mandate.intent_id, mandate.consent_text = "", consent
    mandate.consented_at, mandate.switched_off_at, mandate.switched_off_by = now, None, ""
    _use_card(mandate, card.id, card.brand, card.last4, card.exp_month, card.exp_year)
    plan_charges(session, mandate)
    audit.record(session, tenant_id, "autopay.card_changed", actor="couple",
                 subject_type="booking", subject_id=booking_id,
                 card=f"{card.brand} {card.last4}")
    session.commit()
    return mandate


def card_expires_before(mandate: AutopayMandate, moment: datetime) -> bool:
    """The saved card's last valid day is before `moment` (cards run to the end of the month)."""
    if not mandate.card_exp_year:
        return False
    year, month = mandate.card_exp_year, mandate.card_exp_month
    first_invalid = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return first_invalid <= moment
