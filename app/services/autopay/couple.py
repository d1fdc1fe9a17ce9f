"""What the couple sees of autopay: on their booking page, on the card page, and on a
checkout the bank sent them to (pay with the saved card, confirming it is them)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AutopayCharge, AutopayMandate, Booking, PaymentStage, Tenant
from app.services.autopay import enrolment
from app.services.autopay.settings import settings_for
from app.services.payments import stages as payment_stages

STATUS_WORDS = {
    "scheduled": "charged automatically",
    "charging": "being charged",
    "retrying": "declined; we try again",
    "needs_action": "waiting for you to confirm",
    "failed": "declined; please pay with another card",
    "processing": "processing",
    "paid": "paid",
    "off": "not automatic",
}


@dataclass(frozen=True)
class PlannedLine:
    stage: PaymentStage
    status: str
    words: str
    next_at: datetime | None


@dataclass(frozen=True)
class CoupleView:
    """`mandate` is None when autopay was never set up; `can_set_up`: a card can be saved now
    (the tenant offers autopay and something is left to pay later)."""

    mandate: AutopayMandate | None
    lines: list[PlannedLine] = field(default_factory=list)
    can_set_up: bool = False
    consent_text: str = ""

    @property
    def on(self) -> bool:
        return self.mandate is not None and self.mandate.status == "active"


def view_for(session: Session, tenant: Tenant, booking: Booking) -> CoupleView:
    mandate = enrolment.mandate_of(session, tenant.id, booking.id)
    stages = payment_stages.stages_for(session, tenant.id, booking.id)
    charges = {c.stage_id: c for c in session.scalars(select(AutopayCharge).where(
        AutopayCharge.tenant_id == tenant.id, AutopayCharge.booking_id == booking.id))}
    due = [s for s in stages if s.status == "due"]
    lines = []
    if mandate is not None and mandate.status == "active":
        for stage in stages:
            charge = charges.get(stage.id)
            if charge is None or stage.status == "void":
                continue
            lines.append(PlannedLine(stage, charge.status, STATUS_WORDS[charge.status],
                                     charge.next_attempt_at))
    can = (booking.status == "confirmed" and bool(due) and tenant.can_take_charges
           and settings_for(session, tenant.id).offered)
    return CoupleView(mandate=mandate, lines=lines, can_set_up=can,
                      consent_text=enrolment.consent_sentence(tenant, booking, due) if due else "")


def saved_card_for_checkout(session: Session, tenant_id: int, stage_id: int, intent_id: str
                            ) -> AutopayMandate | None:
    """The saved card the couple may pay this checkout with: only on the intent of an
    automatic charge that needs them (it belongs to their Customer), while autopay is on."""
    if not intent_id:
        return None
    charge = session.scalar(select(AutopayCharge).where(
        AutopayCharge.tenant_id == tenant_id, AutopayCharge.stage_id == stage_id,
        AutopayCharge.intent_id == intent_id))
    if charge is None or charge.status != "needs_action":
        return None
    mandate = enrolment.mandate_of(session, tenant_id, charge.booking_id)
    return mandate if mandate is not None and mandate.status == "active" else None
