"""Autopay rows for dashboard tests, made through the models and `enrolment.plan_charges`
(no Stripe needed: the listing, Retry now and Switch off only read and write rows)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from tests.integration.invoices.helpers import confirmed_booking

CONSENT = "I authorise Alpha to charge this card automatically for the remaining payments."


def autopay_booking(app, account, package_id, *, days=60, names="Alex & Sam", brand="visa",
                    last4="4242", email="couple@example.com") -> tuple[int, list[int]]:
    """A confirmed booking whose couple turned autopay on: an active mandate with a saved card
    and one scheduled charge per due stage. Returns (booking id, charge ids by stage order)."""
    from app.extensions import db
    from app.models import AutopayCharge, AutopayMandate, PaymentStage
    from app.services.autopay import enrolment
    from app.services.shared import clock

    booking_id = confirmed_booking(app, account, package_id, days=days, names=names, email=email)
    with app.app_context():
        now = clock.now()
        mandate = AutopayMandate(
            tenant_id=account.tenant_id, booking_id=booking_id, status="active",
            stripe_account=account.stripe_account, customer_id="cus_test",
            payment_method_id=f"pm_{booking_id}", card_brand=brand, card_last4=last4,
            card_exp_month=8, card_exp_year=2031, consent_text=CONSENT, consented_at=now,
            created_at=now, updated_at=now)
        db.session.add(mandate)
        db.session.flush()
        enrolment.plan_charges(db.session, mandate)
        db.session.commit()
        ids = list(db.session.scalars(
            select(AutopayCharge.id).join(PaymentStage, PaymentStage.id == AutopayCharge.stage_id)
            .where(AutopayCharge.booking_id == booking_id).order_by(PaymentStage.seq)))
        db.session.remove()
    return booking_id, ids


def set_charge(app, charge_id: int, **values) -> None:
    """Put a charge in a given state (status, attempts, failure_message, times...)."""
    from app.extensions import db
    from app.models import AutopayCharge

    with app.app_context():
        row = db.session.get(AutopayCharge, charge_id)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()
        db.session.remove()


def charge_of(db_session, charge_id: int):
    from app.models import AutopayCharge

    db_session.expire_all()
    return db_session.get(AutopayCharge, charge_id)


def mandate_of(db_session, booking_id: int):
    from app.models import AutopayMandate

    db_session.expire_all()
    return db_session.scalar(select(AutopayMandate).where(AutopayMandate.booking_id == booking_id))


def failed(app, charge_id: int, message: str, at: datetime, status: str = "failed",
           attempts: int = 4) -> None:
    set_charge(app, charge_id, status=status, attempts=attempts, next_attempt_at=None,
               last_attempt_at=at, failure_code="card_declined", failure_message=message)
