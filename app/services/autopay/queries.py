"""What the owner's dashboard shows of autopay: the coming automatic charges, the ones that need
attention, and one booking's mandate with its planned charges.

Invariants: every query is filtered by `tenant_id` (joined rows too), returns plain rows with
times already in the tenant's time zone, and runs a fixed number of statements whatever the
number of bookings (no lazy loading from templates)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.models import AutopayCharge, AutopayMandate, Booking, PaymentStage, Tenant
from app.services.autopay.settings import settings_for
from app.services.shared.errors import NotFound
from app.services.shared.tenancy import get_owned

UPCOMING = ("scheduled", "retrying")
NEEDS_ATTENTION = ("failed", "needs_action")
RETRYABLE = ("retrying", "failed", "needs_action")  # what charging.retry_now accepts
UPCOMING_LIMIT = 200

CHARGE_WORDS = {
    "scheduled": "Planned",
    "charging": "Being charged now",
    "retrying": "Declined; will try again",
    "needs_action": "Waiting for the couple to confirm the payment with their bank",
    "failed": "Failed; the couple has been asked to pay",
    "processing": "Charged; the bank is still settling it",
    "paid": "Paid",
    "off": "Not charged automatically",
}
MANDATE_WORDS = {"pending": "Pending", "active": "On", "off": "Off"}


@dataclass(frozen=True)
class ChargeRow:
    charge_id: int
    booking_id: int
    couple_names: str
    stage_label: str
    stage_status: str
    amount_minor: int
    currency: str
    status: str
    status_text: str
    attempts: int
    next_try_no: int
    tries_planned: int  # the first try and the tenant's retries
    next_text: str  # the next try, local time ("" when none is planned)
    last_text: str  # the last try, local time ("" before the first)
    failure_message: str
    card_brand: str
    card_last4: str
    mandate_status: str

    @property
    def can_retry(self) -> bool:
        return (self.status in RETRYABLE and self.stage_status == "due"
                and self.mandate_status == "active")

    @property
    def can_switch_off(self) -> bool:
        return self.mandate_status in ("pending", "active")


@dataclass(frozen=True)
class Overview:
    upcoming: list[ChargeRow]
    attention: list[ChargeRow]
    bookings_on: int
    timezone: str


@dataclass(frozen=True)
class BookingAutopay:
    """One booking's autopay; `mandate_status` is "" when the couple never chose it."""

    mandate_status: str
    status_text: str
    card_brand: str
    card_last4: str
    card_expiry: str  # "08/2031"
    consent_text: str
    consented_text: str
    switched_off_text: str
    switched_off_by: str
    charges: list[ChargeRow]
    timezone: str


def _when(moment: datetime | None, zone: ZoneInfo, locale: str) -> str:
    """"Jan 15, 2030, 9:00 AM": the locale's medium date and short time (no seconds)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return get_datetime_format("medium", locale=locale).format(
        format_time(local, "short", locale=locale), format_date(local, "medium", locale=locale))


def _charges_query(tenant_id: int):
    """Charges with their booking, stage and card; each joined row of the same tenant."""
    return (select(AutopayCharge, Booking.couple_names, PaymentStage.label, PaymentStage.status,
                   PaymentStage.amount_minor, PaymentStage.currency, AutopayMandate.card_brand,
                   AutopayMandate.card_last4, AutopayMandate.status)
            .join(Booking, and_(Booking.id == AutopayCharge.booking_id,
                                Booking.tenant_id == tenant_id))
            .join(PaymentStage, and_(PaymentStage.id == AutopayCharge.stage_id,
                                     PaymentStage.tenant_id == tenant_id))
            .outerjoin(AutopayMandate, and_(AutopayMandate.booking_id == AutopayCharge.booking_id,
                                            AutopayMandate.tenant_id == tenant_id))
            .where(AutopayCharge.tenant_id == tenant_id))


def _rows(session: Session, query, tenant: Tenant, tries_planned: int) -> list[ChargeRow]:
    zone, locale = ZoneInfo(tenant.timezone), tenant.locale or "en_US"
    out = []
    for charge, couple, label, stage_status, amount, currency, brand, last4, mandate in \
            session.execute(query):
        out.append(ChargeRow(
            charge_id=charge.id, booking_id=charge.booking_id, couple_names=couple,
            stage_label=label, stage_status=stage_status, amount_minor=amount, currency=currency,
            status=charge.status, status_text=CHARGE_WORDS[charge.status],
            attempts=charge.attempts, next_try_no=charge.attempts + 1,
            tries_planned=tries_planned,
            next_text=_when(charge.next_attempt_at, zone, locale),
            last_text=_when(charge.last_attempt_at, zone, locale),
            failure_message=charge.failure_message, card_brand=brand or "",
            card_last4=last4 or "", mandate_status=mandate or ""))
    return out


def overview(session: Session, tenant_id: int) -> Overview:
    """The next automatic charges (soonest first, at most UPCOMING_LIMIT), the failed ones and
    those waiting for the couple (latest try first), and how many bookings have autopay on."""
    tenant = session.get(Tenant, tenant_id)
    tries = 1 + len(settings_for(session, tenant_id).retry_days)
    base = _charges_query(tenant_id)
    upcoming = _rows(session, base.where(AutopayCharge.status.in_(UPCOMING))
                     .order_by(AutopayCharge.next_attempt_at, AutopayCharge.id)
                     .limit(UPCOMING_LIMIT), tenant, tries)
    attention = _rows(session, base.where(AutopayCharge.status.in_(NEEDS_ATTENTION))
                      .order_by(AutopayCharge.last_attempt_at.desc(), AutopayCharge.id.desc()),
                      tenant, tries)
    bookings_on = session.scalar(select(func.count()).select_from(AutopayMandate).where(
        AutopayMandate.tenant_id == tenant_id, AutopayMandate.status == "active")) or 0
    return Overview(upcoming=upcoming, attention=attention, bookings_on=bookings_on,
                    timezone=tenant.timezone)


def get_charge(session: Session, tenant_id: int, booking_id: int, charge_id: int) -> AutopayCharge:
    """The charge if it is this tenant's and this booking's; NotFound otherwise."""
    row = get_owned(session, AutopayCharge, tenant_id, charge_id)
    if row.booking_id != booking_id:
        raise NotFound()
    return row


def for_booking(session: Session, tenant_id: int, booking_id: int) -> BookingAutopay:
    """The booking's mandate (card, consent, on/off) and each planned charge, by stage order."""
    tenant = session.get(Tenant, tenant_id)
    zone, locale = ZoneInfo(tenant.timezone), tenant.locale or "en_US"
    tries = 1 + len(settings_for(session, tenant_id).retry_days)
    charges = _rows(session, _charges_query(tenant_id)
                    .where(AutopayCharge.booking_id == booking_id).order_by(PaymentStage.seq),
                    tenant, tries)
    mandate = session.scalar(select(AutopayMandate).where(
        AutopayMandate.tenant_id == tenant_id, AutopayMandate.booking_id == booking_id))
    if mandate is None:
        return BookingAutopay("", "Not set up: the couple did not choose automatic payments.",
                              "", "", "", "", "", "", "", charges, tenant.timezone)
    expiry = f"{mandate.card_exp_month:02d}/{mandate.card_exp_year}" \
        if mandate.card_exp_year else ""
    return BookingAutopay(
        mandate_status=mandate.status, status_text=MANDATE_WORDS[mandate.status],
        card_brand=mandate.card_brand, card_last4=mandate.card_last4, card_expiry=expiry,
        consent_text=mandate.consent_text,
        consented_text=_when(mandate.consented_at, zone, locale),
        switched_off_text=_when(mandate.switched_off_at, zone, locale),
        switched_off_by=mandate.switched_off_by, charges=charges, timezone=tenant.timezone)
