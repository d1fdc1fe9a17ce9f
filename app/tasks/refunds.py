"""Refunds: each part sent to Stripe once (retried with backoff), reconciled, and swept."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from huey import crontab

from app.adapters.stripe_gateway import gateway_for
from app.queue import huey
from app.services.refunds import processing
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.invoices import refund_part_succeeded
from app.tasks.registry import handles
from app.web.links import WebLinks


def refund_policy(app: Flask) -> processing.RetryPolicy:
    return processing.RetryPolicy(
        max_attempts=app.config["REFUND_MAX_ATTEMPTS"],
        base_seconds=app.config["REFUND_RETRY_BASE_SECONDS"],
        stuck_after=timedelta(seconds=app.config["REFUND_STUCK_AFTER_SECONDS"]),
        recheck_after=timedelta(seconds=app.config["REFUND_RECHECK_AFTER_SECONDS"]))


@handles(Job.PROCESS_REFUND_PART)
@huey.task()
def process_refund_part(part_id: int) -> str:
    with app_session() as (app, session):
        return processing.process_part(session, part_id, gateway_for(app), WebLinks(app),
                                       refund_policy(app))


@huey.task()
def reconcile_refund_part(part_id: int) -> str:
    with app_session() as (app, session):
        return processing.reconcile_part(session, part_id, gateway_for(app), WebLinks(app))


@huey.periodic_task(crontab(minute="*"))
def sweep_refunds() -> int:
    """Enqueue refund parts whose task was lost, whose worker died, or that Stripe still holds,
    and conclude requests left open although every part is final."""
    with app_session() as (app, session):
        to_send, to_check = processing.sweep(session, refund_policy(app))
        processing.repair_requests(session)
    for part_id in to_send:
        process_refund_part(part_id)
    for part_id in to_check:
        reconcile_refund_part(part_id)
    return len(to_send) + len(to_check)


__all__ = ["process_refund_part", "reconcile_refund_part", "refund_part_succeeded",
           "refund_policy", "sweep_refunds"]
