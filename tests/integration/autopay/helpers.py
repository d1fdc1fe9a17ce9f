"""Autopay through the real parts: the couple's checkout and return pages, the simulator over
HTTP (as Stripe.js would confirm), the Huey consumer running the charge tasks."""
from __future__ import annotations

from datetime import datetime

import stripe
from sqlalchemy import select

from tests.fixtures.portal import csrf_from
from tests.integration.payments.helpers import checkout_path, client_secret, intent_id, stages

DEPOSIT_CHECKOUT = "Pay the remaining installments automatically"


def installments_shop(app, tenant):
    """The tenant's catalog, Gold $2,500.00 paid in four installments of $625.00: at booking,
    then 150, 120 and 90 days before the event."""
    from app.extensions import db
    from app.services.payments import settings as payment_settings
    from tests.integration.bookings.helpers import make_catalog

    catalog = make_catalog(app, tenant.tenant_id, tenant.user_id)
    with app.app_context():
        payment_settings.save_rule(db.session, tenant.tenant_id, None, payment_settings.RuleForm(
            mode="installments", installments=(("25", "booking", "0"), ("25", "event", "150"),
                                               ("25", "event", "120"), ("25", "event", "90"))),
            actor_user_id=tenant.user_id)
        db.session.remove()
    return catalog


def open_deposit_checkout(app, client, tenant, booking_id: int) -> tuple[str, str]:
    """The deposit's checkout page: (its path, its html)."""
    path = checkout_path(app, tenant.slug, tenant.tenant_id, stages(app, booking_id)[0]["id"])
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:1500]
    return path, page.get_data(as_text=True)


def choose_autopay(client, path: str, html: str, chosen: bool = True):
    return client.post(f"{path}/autopay", data={"csrf_token": csrf_from(html),
                                               **({"autopay": "1"} if chosen else {})},
                       headers={"HX-Request": "true"})


def confirm_as_stripe_js(sim, pi_id: str, payment_method: str):
    """What Stripe.js does when the couple presses Pay; a decline comes back as the error."""
    try:
        return sim.client_for("payment_intent", pi_id).v1.payment_intents.confirm(
            pi_id, params={"payment_method": payment_method})
    except stripe.CardError as exc:
        return exc


def pay_deposit_with_autopay(app, client, sim, tenant, booking_id: int,
                             card: str = "pm_card_visa") -> str:
    """The couple ticks autopay, pays the deposit, lands on the return page; returns the
    deposit's PaymentIntent id."""
    path, html = open_deposit_checkout(app, client, tenant, booking_id)
    assert DEPOSIT_CHECKOUT in html
    chosen = choose_autopay(client, path, html)
    assert chosen.status_code == 200 and 'data-chosen="yes"' in chosen.get_data(as_text=True)
    pi = intent_id(client_secret(html))
    confirm_as_stripe_js(sim, pi, card)
    back = client.get(f"{path}/return?payment_intent={pi}")
    assert back.status_code == 200, back.get_data(as_text=True)[:1000]
    return pi


def mandate(app, booking_id: int) -> dict | None:
    from app.extensions import db
    from app.models import AutopayMandate

    with app.app_context():
        row = db.session.scalar(select(AutopayMandate).where(
            AutopayMandate.booking_id == booking_id))
        found = None if row is None else {
            "status": row.status, "customer": row.customer_id, "pm": row.payment_method_id,
            "brand": row.card_brand, "last4": row.card_last4, "consent": row.consent_text,
            "exp": (row.card_exp_month, row.card_exp_year)}
        db.session.remove()
    return found


def charges(app, booking_id: int) -> list[dict]:
    from app.extensions import db
    from app.models import AutopayCharge, PaymentStage

    with app.app_context():
        rows = db.session.execute(
            select(AutopayCharge, PaymentStage.seq)
            .join(PaymentStage, PaymentStage.id == AutopayCharge.stage_id)
            .where(AutopayCharge.booking_id == booking_id).order_by(PaymentStage.seq)).all()
        found = [{"id": c.id, "stage_id": c.stage_id, "seq": seq, "status": c.status,
                  "attempts": c.attempts, "next": c.next_attempt_at, "code": c.failure_code,
                  "intent": c.intent_id} for c, seq in rows]
        db.session.remove()
    return found


def run_due_charges(app) -> list[str]:
    """What the minute sweeper does, through the real queue: enqueue every due charge and wait
    for each task's answer (the consumer fixture runs them)."""
    from app.extensions import db
    from app.services.autopay import charging
    from app.tasks.autopay import charge_autopay

    with app.app_context():
        due = charging.due_charges(db.session)
        db.session.remove()
    results = [charge_autopay(charge_id) for charge_id in due]
    return [r.get(blocking=True, timeout=60) for r in results]


def wait_until(check, what: str, timeout: float = 30.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def travel_to_charge_moment(app, tenant, due) -> datetime:
    """Move the clock to one minute past 09:00 on `due` in the tenant's time zone."""
    from datetime import time, timedelta

    from app.services.reminders.times import resolve_local
    from app.services.shared import clock

    moment = resolve_local(due, time(9, 1), "America/New_York")
    clock.travel(moment + timedelta(seconds=1))
    return moment


def off_session_creates(sim) -> list[dict]:
    return [r for r in sim.control.requests("/v1/payment_intents", method="POST")
            if r["path"].rstrip("/") == "/v1/payment_intents"
            and str(r["params"].get("off_session")).lower() == "true"]
