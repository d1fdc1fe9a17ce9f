"""Payments: processing stored Stripe events, reconciling intents left in processing, and
cancelling a checkout intent whose stage no longer needs paying."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from huey import crontab

from app.adapters.stripe_gateway import gateway_for
from app.queue import huey
from app.services.payments import events, recording
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.registry import handles
from app.web.links import WebLinks

log = logging.getLogger(__name__)


def _event_stuck_after(app: Flask) -> timedelta:
    return timedelta(seconds=app.config["STRIPE_EVENT_STUCK_AFTER_SECONDS"])


@handles(Job.PROCESS_STRIPE_EVENT)
@huey.task()
def process_stripe_event(event_row_id: int) -> str:
    with app_session() as (app, session):
        return events.process_event(session, event_row_id, gateway_for(app), WebLinks(app),
                                    stuck_after=_event_stuck_after(app))


@huey.periodic_task(crontab(minute="*"))
def sweep_stripe_events() -> int:
    """Enqueue stored events whose task was lost or whose retry is due."""
    with app_session() as (app, session):
        due = events.sweep(session, stuck_after=_event_stuck_after(app))
    for event_row_id in due:
        process_stripe_event(event_row_id)
    return len(due)


@huey.periodic_task(crontab(minute="*"))
def reconcile_processing_payments() -> int:
    """Ask Stripe about payments left in processing (a webhook may never come)."""
    with app_session() as (app, session):
        stripe_ids = recording.processing_intents(session)
        for stripe_id in stripe_ids:
            try:
                recording.reconcile_intent(session, stripe_id, gateway_for(app), WebLinks(app),
                                           source="sweeper")
            except Exception:  # one bad intent must not stop the others; retried next minute
                session.rollback()
                log.exception("could not reconcile payment intent %s", stripe_id)
        return len(stripe_ids)


@handles(Job.CANCEL_CHECKOUT_INTENT)
@huey.task()
def cancel_checkout_intent(stripe_id: str) -> str:
    with app_session() as (app, session):
        return recording.cancel_open_intent(session, stripe_id, gateway_for(app), WebLinks(app))
