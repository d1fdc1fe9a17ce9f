"""Huey tasks: take ids, open an app context, call one service, re-raise on failure.

Jobs named by services (`app.services.jobs`) are enqueued here after their transaction commits.
If the queue is unreachable at that moment the rows are still there and the periodic sweepers
enqueue them later, so nothing is lost.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager

from huey import crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.adapters.smtp import transport_for
from app.extensions import db
from app.links import WebLinks
from app.queue import bound_app, huey
from app.services import accounts, booking_links, bookings, clock, email, jobs, reminders, tokens

log = logging.getLogger(__name__)


@contextmanager
def app_session():
    app = bound_app()
    with app.app_context():
        yield app, db.session


def delivery_policy(app) -> email.DeliveryPolicy:
    base = app.config["BASE_URL"]
    domain = base.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "mais.localhost"
    return email.DeliveryPolicy(
        sender=app.config["MAIL_FROM"],
        domain=domain,
        max_attempts=app.config["EMAIL_MAX_ATTEMPTS"],
        retry_base_seconds=app.config["EMAIL_RETRY_BASE_SECONDS"],
    )


@huey.task()
def send_email(email_id: int) -> str:
    with app_session() as (app, session):
        outcome = email.deliver(session, email_id, transport_for(app.config["SMTP_URL"]),
                                delivery_policy(app))
        if outcome == "retry":
            due = email.next_attempt(session, email_id)
            if due is not None:
                send_email.schedule((email_id,), delay=max(0.0, (due - clock.now()).total_seconds()))
        return outcome


@huey.task()
def send_password_reset(email_addr: str) -> None:
    # Runs off the request so the reply cannot reveal, even by timing, whether the email exists.
    with app_session() as (app, session):
        accounts.request_password_reset(session, email_addr, WebLinks(app))


@huey.periodic_task(crontab(minute="*"))
def sweep_outbox() -> int:
    with app_session() as (_, session):
        due = email.sweep(session)
    for email_id in due:
        send_email(email_id)
    return len(due)


@huey.task()
def send_booking_links(tenant_id: int, email_addr: str) -> int:
    # Off the request, like password reset: the reply cannot reveal whether the address booked.
    with app_session() as (app, session):
        return booking_links.send_fresh_links(session, tenant_id, email_addr, WebLinks(app))


@huey.periodic_task(crontab(minute="*"))
def release_expired_holds() -> int:
    with app_session() as (_, session):
        return bookings.release_expired_holds(session)


@huey.periodic_task(crontab(minute="17", hour="3"))
def purge_tokens() -> int:
    with app_session() as (_, session):
        return tokens.purge(session)


@huey.periodic_task(crontab(minute="*"))
def dispatch_reminders() -> int:
    """Claim due reminders and enqueue one send each; safe when several consumers run it."""
    with app_session() as (_, session):
        claimed = reminders.claim_due(session)
    for reminder_id in claimed:
        send_reminder(reminder_id)
    return len(claimed)


def _send_reminder(reminder_id: int, manual: bool) -> str:
    with app_session() as (app, session):
        try:
            return reminders.send(session, reminder_id, WebLinks(app), manual=manual).status
        except Exception as exc:
            reminders.record_failure(session, reminder_id, f"{type(exc).__name__}: {exc}")
            raise


@huey.task()
def send_reminder(reminder_id: int) -> str:
    return _send_reminder(reminder_id, manual=False)


@huey.task()
def send_reminder_now(reminder_id: int) -> str:
    return _send_reminder(reminder_id, manual=True)


@huey.periodic_task(crontab(minute="30", hour="2"))
def recover_failed_reminders() -> int:
    with app_session() as (_, session):
        return reminders.recover_failed(session)


JOBS = {"send_email": send_email, "send_reminder_now": send_reminder_now}


# -- payments ------------------------------------------------------------------------------------
def _gateway(app):
    from app.payments_web import gateway_for

    return gateway_for(app)


@huey.task()
def process_stripe_event(event_row_id: int) -> str:
    from app.services import stripe_events

    with app_session() as (app, session):
        return stripe_events.process_event(session, event_row_id, _gateway(app), WebLinks(app))


@huey.periodic_task(crontab(minute="*"))
def sweep_stripe_events() -> int:
    """Enqueue stored events whose task was lost or whose retry is due."""
    from app.services import stripe_events

    with app_session() as (_, session):
        due = stripe_events.sweep(session)
    for event_row_id in due:
        process_stripe_event(event_row_id)
    return len(due)


@huey.periodic_task(crontab(minute="*"))
def reconcile_processing_payments() -> int:
    """Ask Stripe about payments left in processing (a webhook may never come)."""
    from app.services import payments

    with app_session() as (app, session):
        stripe_ids = payments.processing_intents(session)
        for stripe_id in stripe_ids:
            try:
                payments.reconcile_intent(session, stripe_id, _gateway(app), WebLinks(app),
                                          source="sweeper")
            except Exception:  # one bad intent must not stop the others; retried next minute
                session.rollback()
                log.exception("could not reconcile payment intent %s", stripe_id)
        return len(stripe_ids)


@huey.task()
def cancel_checkout_intent(stripe_id: str) -> str:
    from app.services import payments

    with app_session() as (app, session):
        return payments.cancel_open_intent(session, stripe_id, _gateway(app), WebLinks(app))


JOBS["process_stripe_event"] = process_stripe_event
JOBS["cancel_checkout_intent"] = cancel_checkout_intent


# -- refunds -------------------------------------------------------------------------------------
def refund_policy(app):
    from app.services.refund_processing import RetryPolicy

    return RetryPolicy(max_attempts=app.config["REFUND_MAX_ATTEMPTS"],
                       base_seconds=app.config["REFUND_RETRY_BASE_SECONDS"])


@huey.task()
def process_refund_part(part_id: int) -> str:
    from app.services import refund_processing

    with app_session() as (app, session):
        return refund_processing.process_part(session, part_id, _gateway(app), WebLinks(app),
                                              refund_policy(app))


@huey.task()
def reconcile_refund_part(part_id: int) -> str:
    from app.services import refund_processing

    with app_session() as (app, session):
        return refund_processing.reconcile_part(session, part_id, _gateway(app), WebLinks(app))


@huey.periodic_task(crontab(minute="*"))
def sweep_refunds() -> int:
    """Enqueue refund parts whose task was lost, whose worker died, or that Stripe still holds."""
    from app.services import refund_processing

    with app_session() as (app, session):
        to_send, to_check = refund_processing.sweep(session, refund_policy(app))
    for part_id in to_send:
        process_refund_part(part_id)
    for part_id in to_check:
        reconcile_refund_part(part_id)
    return len(to_send) + len(to_check)


@huey.task()
def refund_part_succeeded(part_id: int) -> int | None:
    """Enqueued once per refund part that succeeded, after its commit: issue its credit note."""
    from app.services import credit_notes

    with app_session() as (_, session):
        doc = credit_notes.credit_refund_part(session, part_id)
        return doc.id if doc is not None else None


JOBS["process_refund_part"] = process_refund_part
JOBS["refund_part_succeeded"] = refund_part_succeeded


# -- invoices ------------------------------------------------------------------------------------
@huey.task()
def deliver_document(document_id: int) -> str:
    """Render a document's PDF from its snapshot, store it, and email it once."""
    from app.services import invoices

    with app_session() as (app, session):
        return invoices.deliver(session, document_id, WebLinks(app))


@huey.periodic_task(crontab(minute="*"))
def sweep_documents() -> int:
    """Documents whose render or email job was lost, and refunds whose credit note was: again."""
    from app.services import credit_notes, invoices

    with app_session() as (_, session):
        lost = invoices.lost_renders(session)
        uncredited = credit_notes.parts_without_credit_note(session)
    for document_id in lost:
        deliver_document(document_id)
    for part_id in uncredited:
        refund_part_succeeded(part_id)
    return len(lost) + len(uncredited)


JOBS["deliver_document"] = deliver_document


def _enqueue_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT was released; the rows are not committed until the outer COMMIT
    for name, args, eta in jobs.take_pending(session):
        try:
            task = JOBS[name]
            if eta is None:
                task(*args)
            else:
                task.schedule(args, delay=max(0.0, (eta - clock.now()).total_seconds()))
        except Exception:  # the row is committed; the sweeper enqueues it later
            log.exception("could not enqueue %s%r; the sweeper will pick it up", name, args)


def _drop_on_rollback(session: Session) -> None:
    jobs.take_pending(session)


def install_job_hooks() -> None:
    if not event.contains(Session, "after_commit", _enqueue_after_commit):
        event.listen(Session, "after_commit", _enqueue_after_commit)
        event.listen(Session, "after_rollback", _drop_on_rollback)
