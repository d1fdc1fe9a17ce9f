"""Stripe webhook events: stored by id first, processed by a task, swept when lost.

Invariants:
- an event is stored once (UNIQUE stripe_id); a duplicate delivery changes nothing and is
  not processed again;
- processing claims the row with a guarded UPDATE, so two workers never process one event at
  once; it acts on the PaymentIntent fetched from Stripe (`payments.reconcile_intent`), so the
  order in which events arrive does not matter;
- a failure is retried with backoff up to MAX_ATTEMPTS, then the event is `failed` and waits
  for a replay from the dashboard; the sweeper re-enqueues whatever is due or stuck;
- an event from a connected account (`account`) acts only on objects of the tenant owning
  that account (`connect.events`); a platform event only on objects made on the platform.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import StripeEvent, Tenant
from app.services.connect import events as connect_events
from app.services.payments import recording as payments
from app.services.payments.gateway import MalformedEvent, ObjectNotFound, PaymentGateway
from app.services.refunds import processing as refund_processing
from app.services.shared import audit, clock, jobs
from app.services.shared.errors import InvalidTransition
from app.services.shared.links import Links
from app.services.shared.tenancy import get_owned
from app.services.shared.unit_of_work import committing

log = logging.getLogger(__name__)
HANDLED = frozenset({"payment_intent.succeeded", "payment_intent.processing",
                     "payment_intent.payment_failed", "payment_intent.canceled"}
                    ) | refund_processing.EVENT_TYPES | connect_events.EVENT_TYPES
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=30)
STUCK_AFTER = timedelta(minutes=5)


_EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_.-]{1,251}$")
_EVENT_TYPE = re.compile(r"^[a-z0-9_.]{1,100}$")
_OBJECT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
MAX_DEPTH = 32
_MAX_ROW_ID = 2**31 - 1


def check_event(event: Any) -> dict:
    """The event if it has the shape of a Stripe event object, else MalformedEvent with why.

    Runs after the signature check: a signed body can still be an array, a string, a number or
    an object whose fields have the wrong types, and none of that may reach the database."""
    if not isinstance(event, dict):
        raise MalformedEvent("The body is not a JSON object.")
    if event.get("object") != "event":
        raise MalformedEvent("The body is not an event object.")
    if not isinstance(event.get("id"), str) or not _EVENT_ID.match(event["id"]):
        raise MalformedEvent("The event has no valid id.")
    if not isinstance(event.get("type"), str) or not _EVENT_TYPE.match(event["type"]):
        raise MalformedEvent("The event has no valid type.")
    created = event.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or not 0 < created < 2**40:
        raise MalformedEvent("The event has no valid created time.")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("The event's data.object is not an object.")
    obj = data["object"]
    if "id" in obj and not (isinstance(obj["id"], str) and _OBJECT_ID.match(obj["id"])):
        raise MalformedEvent("The event's object has no valid id.")
    metadata = obj.get("metadata")
    if metadata is not None and not (
            isinstance(metadata, dict)
            and all(isinstance(v, str) for v in metadata.values())):
        raise MalformedEvent("The event's metadata is not a map of strings.")
    account = event.get("account")
    if account is not None and not (isinstance(account, str) and _OBJECT_ID.match(account)):
        raise MalformedEvent("The event's account is not an account id.")
    _check_nesting(event)
    return event


def _check_nesting(value: Any) -> None:
    """No deeper than MAX_DEPTH and no NUL anywhere (PostgreSQL text cannot hold it)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedEvent("The event is nested too deeply.")
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise MalformedEvent("The event contains a NUL character.")
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            raise MalformedEvent("The event contains a NUL character.")


def _claimed_tenant(session: Session, obj: dict) -> int | None:
    raw = (obj.get("metadata") or {}).get("tenant_id")
    if not isinstance(raw, str) or not raw.isdigit() or not 0 < int(raw) <= _MAX_ROW_ID:
        return None
    tenant_id = int(raw)
    return tenant_id if session.get(Tenant, tenant_id) is not None else None


def record_event(session: Session, event: dict) -> tuple[StripeEvent, bool]:
    """Store a verified event (shape checked by `check_event`) by its id and enqueue its
    processing after the commit. Returns (row, stored_now); a duplicate returns the stored row
    untouched."""
    event = check_event(event)
    existing = session.scalar(select(StripeEvent).where(StripeEvent.stripe_id == event["id"]))
    if existing is not None:
        return existing, False
    obj = event["data"]["object"]
    now = clock.now()
    account = str(event.get("account") or "")[:255]
    row = StripeEvent(
        stripe_id=str(event["id"])[:255], type=str(event.get("type", ""))[:100],
        tenant_id=_claimed_tenant(session, obj) or connect_events.tenant_id_of(session, account),
        account=account,
        object_id=str(obj.get("id", ""))[:255] if isinstance(obj, dict) else "",
        payload=event, status="received", attempts=0, last_error="", next_attempt_at=now,
        received_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()  # the same event, delivered twice at once: the other request stored it
        return session.scalar(select(StripeEvent).where(StripeEvent.stripe_id == event["id"])), False
    jobs.after_commit(session, jobs.Job.PROCESS_STRIPE_EVENT, row.id)
    session.commit()
    return row, True


def process_event(session: Session, event_row_id: int, gateway: PaymentGateway,
                  links: Links, stuck_after: timedelta = STUCK_AFTER) -> str:
    """Process one stored event if it is waiting and unclaimed. Returns processed, ignored,
    retry, failed or skipped. Raises after recording a failure, so the task shows it."""
    now = clock.now()
    row = session.get(StripeEvent, event_row_id)
    if row is None:
        return "skipped"
    claimed = session.execute(
        update(StripeEvent)
        .where(StripeEvent.id == event_row_id, StripeEvent.tenant_id == row.tenant_id,
               StripeEvent.status == "received",
               or_(StripeEvent.claimed_at.is_(None), StripeEvent.claimed_at < now - stuck_after))
        .values(claimed_at=now, attempts=StripeEvent.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    if claimed != 1:
        return "skipped"
    session.refresh(row)
    if row.type not in HANDLED or not row.object_id:
        return _finish(session, row, "ignored", f"not handled: {row.type}")
    ignore = connect_events.reason_to_ignore(session, row)
    if ignore:
        log.warning("stripe event %s (%s) ignored: %s", row.stripe_id, row.type, ignore)
        return _finish(session, row, "ignored", ignore)
    try:
        if row.type in connect_events.EVENT_TYPES:
            result = connect_events.handle_event(session, row, gateway, links)
        elif row.type in refund_processing.EVENT_TYPES:
            result = refund_processing.handle_event(session, row.type, row.object_id, gateway,
                                                    links, claimed_tenant_id=row.tenant_id,
                                                    claimed_account=row.account)
        else:
            result = payments.reconcile_intent(session, row.object_id, gateway, links,
                                               claimed_tenant_id=row.tenant_id,
                                               claimed_account=row.account)
    except ObjectNotFound:
        # Stripe does not know the object (an event from elsewhere, or a test event): no retry
        # can change that, so it is ignored once, with the reason, and no traceback.
        session.rollback()
        row = session.get(StripeEvent, event_row_id)
        log.info("stripe event %s (%s): Stripe has no %s; ignored", row.stripe_id, row.type,
                 row.object_id)
        return _finish(session, row, "ignored", f"unknown object: Stripe has no {row.object_id}")
    except Exception as exc:
        session.rollback()
        row = session.get(StripeEvent, event_row_id)
        row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        row.claimed_at = None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.next_attempt_at = clock.now() + RETRY_BASE * 2 ** (row.attempts - 1)
        session.commit()
        log.warning("stripe event %s (%s) attempt %s failed: %s", row.stripe_id, row.type,
                    row.attempts, row.last_error)
        raise
    row = session.get(StripeEvent, event_row_id)
    if result.outcome == "unknown":
        return _finish(session, row, "ignored", f"unknown object: not one of ours ({row.object_id})")
    if result.outcome == "tenant_mismatch":
        return _finish(session, row, "ignored", result.outcome)
    return _finish(session, row, "processed", "")


def _finish(session: Session, row: StripeEvent, status: str, note: str) -> str:
    row.status = status
    row.last_error = note
    row.claimed_at = None
    row.processed_at = clock.now()
    session.commit()
    return status


def sweep(session: Session, limit: int = 500, stuck_after: timedelta = STUCK_AFTER) -> list[int]:
    """Ids of events waiting to be processed whose time has come (lost or retried tasks)."""
    now = clock.now()
    return list(session.scalars(
        select(StripeEvent.id)
        .where(StripeEvent.status == "received", StripeEvent.next_attempt_at <= now,
               or_(StripeEvent.claimed_at.is_(None), StripeEvent.claimed_at < now - stuck_after))
        .order_by(StripeEvent.next_attempt_at).limit(limit)))


def replay(session: Session, tenant_id: int, event_row_id: int, *, actor_user_id: int) -> StripeEvent:
    """A tenant user sends one of their failed events back to processing; commits."""
    with committing(session):
        row = get_event(session, tenant_id, event_row_id)
        changed = session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == row.id, StripeEvent.tenant_id == tenant_id,
                   StripeEvent.status == "failed")
            .values(status="received", attempts=0, claimed_at=None, next_attempt_at=clock.now())
            .execution_options(synchronize_session="fetch")).rowcount
        if changed != 1:
            raise InvalidTransition("Only an event whose processing failed can be replayed.")
        audit.record(session, tenant_id, "stripe_event.replayed", actor="user",
                     actor_user_id=actor_user_id, subject_type="stripe_event", subject_id=row.id,
                     stripe_id=row.stripe_id)
        jobs.after_commit(session, jobs.Job.PROCESS_STRIPE_EVENT, row.id)
    return row


def get_event(session: Session, tenant_id: int, event_row_id: int) -> StripeEvent:
    row = get_owned(session, StripeEvent, tenant_id, event_row_id)
    return row


def events_for(session: Session, tenant_id: int, status: str | None = None, limit: int = 100
               ) -> list[StripeEvent]:
    query = select(StripeEvent).where(StripeEvent.tenant_id == tenant_id)
    if status:
        query = query.where(StripeEvent.status == status)
    return list(session.scalars(query.order_by(StripeEvent.received_at.desc(),
                                               StripeEvent.id.desc()).limit(limit)))
