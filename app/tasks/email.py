"""Outbox delivery: one send per row, retried with backoff, and the sweeper for lost sends."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from huey import crontab

from app.adapters.smtp import transport_for
from app.queue import huey
from app.services.email import outbox
from app.services.shared import clock
from app.services.shared.jobs import Job
from app.tasks.context import app_session
from app.tasks.registry import handles


def delivery_policy(app: Flask) -> outbox.DeliveryPolicy:
    base = app.config["BASE_URL"]
    domain = base.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "mais.localhost"
    return outbox.DeliveryPolicy(
        sender=app.config["MAIL_FROM"],
        domain=domain,
        max_attempts=app.config["EMAIL_MAX_ATTEMPTS"],
        retry_base_seconds=app.config["EMAIL_RETRY_BASE_SECONDS"],
    )


def deliver_now(app: Flask, session, email_id: int) -> str:
    """Deliver one outbox row; a failed attempt schedules its retry at the backoff time."""
    return deliver_batch(app, session, [email_id])[email_id]


def deliver_batch(app: Flask, session, email_ids: list[int]) -> dict[int, str]:
    """Deliver outbox rows over this worker's SMTP connection, one after another; each failed
    attempt schedules that row's retry at its backoff time, the others are unaffected."""
    outcomes = outbox.deliver_many(session, email_ids, transport_for(app.config["SMTP_URL"]),
                                   delivery_policy(app))
    for email_id, outcome in outcomes.items():
        if outcome == "retry":
            due = outbox.next_attempt(session, email_id)
            if due is not None:
                send_email.schedule((email_id,), delay=max(0.0, (due - clock.now()).total_seconds()))
    return outcomes


@handles(Job.SEND_EMAIL)
@huey.task()
def send_email(email_id: int) -> str:
    with app_session() as (app, session):
        return deliver_now(app, session, email_id)


@huey.periodic_task(crontab(minute="*"))
def sweep_outbox() -> int:
    with app_session() as (app, session):
        due = outbox.sweep(session, timedelta(seconds=app.config["EMAIL_STUCK_AFTER_SECONDS"]),
                           timedelta(seconds=app.config["EMAIL_SWEEP_GRACE_SECONDS"]))
    for email_id in due:
        send_email(email_id)
    return len(due)
