"""Autopay: turning it on once the deposit that saved the card is recorded, charging each
stage on its due date (a sweeper every minute finds what is due and retakes crashed tries),
and warning couples whose saved card expires before the next charge."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from huey import crontab

from app.adapters.stripe_gateway import gateway_for
from app.queue import huey
from app.services.autopay import charging, enrolment
from app.services.connect.fees import FeePolicy
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.registry import handles
from app.web.links import WebLinks


def _stale(app: Flask) -> timedelta:
    return timedelta(seconds=app.config["AUTOPAY_CLAIM_STALE_SECONDS"])


@handles(Job.ACTIVATE_AUTOPAY)
@huey.task()
def activate_autopay(mandate_id: int, payment_method: str) -> str:
    with app_session() as (app, session):
        mandate = enrolment.activate(session, mandate_id, payment_method, gateway_for(app))
        return mandate.status if mandate is not None else "missing"


@handles(Job.CHARGE_AUTOPAY)
@huey.task()
def charge_autopay(charge_id: int) -> str:
    with app_session() as (app, session):
        return charging.charge(session, charge_id, gateway_for(app), WebLinks(app),
                               FeePolicy.from_config(app.config), stale=_stale(app))


@huey.periodic_task(crontab(minute="*"))
def sweep_autopay() -> int:
    """Enqueue the charges whose moment has come (and tries a crashed worker left)."""
    with app_session() as (app, session):
        due = charging.due_charges(session, stale=_stale(app))
        session.commit()
    for charge_id in due:
        charge_autopay(charge_id)
    return len(due)


@huey.periodic_task(crontab(minute="17"))
def warn_expiring_cards() -> int:
    with app_session() as (app, session):
        return charging.warn_expiring_cards(session, WebLinks(app))
