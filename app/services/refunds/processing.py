"""Refund parts on their way to Stripe and back: the task that creates the Stripe refund, the
webhooks and sweeper that bring each part to succeeded, failed or canceled.

Part states: pending -> processing -> succeeded | failed | canceled (and processing -> pending
for a retry after a Stripe error; succeeded -> failed when Stripe fails a refund it had paid).

Invariants:
- a part is claimed with a guarded UPDATE (pending and due, or processing and stale), so two
  workers never call Stripe for it at once; no transaction is open during the call;
- the Stripe refund is created with the idempotency key `refund-part-<id>`, so a retry after
  a crash, a timeout or a lost answer replays the same refund instead of making a second one;
  a retry more than 24 hours after the first attempt (Stripe prunes keys after 24 hours) lists
  the PaymentIntent's refunds first and adopts the one carrying our part id;
- a part settles once: every status change is a guarded UPDATE from the status we read, and
  only the change that wins moves money between `refund_pending_minor` and `refunded_minor`,
  so duplicated or reordered webhooks, the task and the sweeper can all report the same refund;
- what we act on is the refund fetched from Stripe, matched to a part of the same tenant;
- every call about a part goes to the connected account its payment was made on
  (`payments.stripe_account`); a refund event from another account changes nothing. The
  platform fee comes back in proportion (`connect.fees.REFUND_APPLICATION_FEE`).
- a settlement locks the booking row (`FOR UPDATE` on PostgreSQL; SQLite serializes writers)
  before it changes a part, so two parts of one request (deposit and balance) settling at the
  same moment decide the request's and the booking's status one after the other, the second
  seeing the first; the sweeper repairs any request still open although every part is final.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.models import Booking, Payment, RefundPart, RefundRequest, Tenant
from app.services.bookings import lifecycle as bookings
from app.services.connect.fees import REFUND_APPLICATION_FEE
from app.services.notifications import vendor as tell_team
from app.services.payments.gateway import GatewayError, PaymentGateway, Refund, RefundRefused
from app.services.refunds.requests import STRIPE_REASONS, _reserve, queue_couple_email
from app.services.shared import audit, clock, jobs
from app.services.shared.errors import Conflict, InvalidTransition
from app.services.shared.links import Links
from app.services.shared.money import format_money

log = logging.getLogger(__name__)
EVENT_TYPES = frozenset({"charge.refunded", "refund.created", "refund.updated", "refund.failed"})
STRIPE_FINAL = {"succeeded": "succeeded", "failed": "failed", "canceled": "canceled"}
STRIPE_FINAL_FAILURES = ("failed", "canceled")
SETTLES_FROM = {"succeeded": ("pending", "processing"),
                "failed": ("pending", "processing", "succeeded"),
                "canceled": ("pending", "processing")}
ACTIVE = ("pending", "processing")
KEY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 30.0
    # A claimed part whose worker never reported back (killed) is claimed again after this.
    stuck_after: timedelta = timedelta(minutes=2)
    # A part Stripe holds as pending is re-fetched this often (a webhook may never come).
    recheck_after: timedelta = timedelta(minutes=5)

    def delay(self, attempt: int) -> timedelta:
        return timedelta(seconds=self.base_seconds * 2 ** max(0, attempt - 1))


def after_stripe_call(part_id: int, refund: Refund) -> None:
    """Runs between Stripe's answer and our commit. Nothing to do; tests replace it to kill the
    worker exactly there (the window a crash can leave a refund we have not recorded)."""


def idempotency_key(part: RefundPart) -> str:
    return f"refund-part-{part.id}"


# -- the task -------------------------------------------------------------------------------------

def _claim(session: Session, part: RefundPart, policy: RetryPolicy) -> bool:
    now = clock.now()
    claimed = session.execute(
        update(RefundPart)
        .where(RefundPart.id == part.id, RefundPart.tenant_id == part.tenant_id,
               RefundPart.stripe_refund_id.is_(None),
               or_(and_(RefundPart.status == "pending", RefundPart.next_attempt_at <= now),
                   and_(RefundPart.status == "processing",
                        or_(RefundPart.claimed_at.is_(None),
                            RefundPart.claimed_at < now - policy.stuck_after))))
        .values(status="processing", claimed_at=now, attempts=RefundPart.attempts + 1,
                first_attempt_at=func.coalesce(RefundPart.first_attempt_at, now), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    return claimed == 1


def process_part(session: Session, part_id: int, gateway: PaymentGateway, links: Links,
                 policy: RetryPolicy) -> str:
    """Send one part to Stripe if it is due and unclaimed. Returns succeeded, processing,
    retry, failed or skipped. Commits before and after the Stripe call, never across it."""
    part = session.get(RefundPart, part_id)
    if part is None or not _claim(session, part, policy):
        session.commit()
        return "skipped"
    session.refresh(part)
    audit.record(session, part.tenant_id, "refund.attempt", subject_type="booking",
                 subject_id=part.booking_id, refund_part_id=part.id,
                 refund_request_id=part.request_id, attempt=part.attempts,
                 amount_minor=part.amount_minor, currency=part.currency)
    session.commit()
    payment = session.get(Payment, part.payment_id)
    request = session.get(RefundRequest, part.request_id)
    intent_id, tenant_id, account = payment.stripe_payment_intent_id, part.tenant_id, \
        payment.stripe_account
    metadata = {"tenant_id": str(tenant_id), "booking_id": str(part.booking_id),
                "refund_request_id": str(part.request_id), "refund_part_id": str(part.id)}
    stale_key = part.first_attempt_at is not None and part.first_attempt_at < clock.now() - KEY_TTL
    amount, key, reason = part.amount_minor, idempotency_key(part), STRIPE_REASONS[request.reason]
    session.commit()  # nothing is held while we talk to Stripe
    try:
        refund = _existing_refund(gateway, account, intent_id, part_id) if stale_key else None
        if refund is None:
            refund = gateway.create_refund(account=account, payment_intent=intent_id,
                                           amount=amount, reason=reason, metadata=metadata,
                                           idempotency_key=key,
                                           refund_application_fee=REFUND_APPLICATION_FEE)
    except RefundRefused as exc:
        return _give_up(session, part_id, exc.message, links)
    except GatewayError as exc:
        return _retry_later(session, part_id, exc.message, links, policy)
    after_stripe_call(part_id, refund)
    return apply_refund(session, part_id, refund, links, source="task")


def _existing_refund(gateway: PaymentGateway, account: str, intent_id: str, part_id: int
                     ) -> Refund | None:
    """The refund an earlier attempt created for this part, looked up by our metadata: after
    24 hours Stripe may have forgotten the key, and replaying it would refund twice."""
    for refund in gateway.list_refunds(account=account, payment_intent=intent_id):
        if refund.metadata.get("refund_part_id") == str(part_id):
            return refund
    return None


def _retry_later(session: Session, part_id: int, error: str, links: Links,
                 policy: RetryPolicy) -> str:
    session.rollback()
    part = session.get(RefundPart, part_id, populate_existing=True)
    if part.attempts >= policy.max_attempts:
        return _give_up(session, part_id, f"{error} (after {part.attempts} attempts)", links)
    due = clock.now() + policy.delay(part.attempts)
    changed = session.execute(
        update(RefundPart)
        .where(RefundPart.id == part_id, RefundPart.tenant_id == part.tenant_id,
               RefundPart.status == "processing", RefundPart.stripe_refund_id.is_(None))
        .values(status="pending", claimed_at=None, next_attempt_at=due, last_error=error[:1000],
                updated_at=clock.now())
        .execution_options(synchronize_session=False)).rowcount
    if changed == 1:
        audit.record(session, part.tenant_id, "refund.attempt_failed", subject_type="booking",
                     subject_id=part.booking_id, refund_part_id=part.id, attempt=part.attempts,
                     error=error[:300], next_attempt_at=due.isoformat())
        jobs.after_commit(session, jobs.Job.PROCESS_REFUND_PART, part_id, eta=due)
    session.commit()
    log.warning("refund part %s attempt %s failed: %s", part_id, part.attempts, error)
    return "retry"


def _give_up(session: Session, part_id: int, error: str, links: Links) -> str:
    session.rollback()
    part = session.get(RefundPart, part_id, populate_existing=True)
    if part.stripe_refund_id is not None:
        return part.status  # Stripe has it: its outcome decides, not our error
    return _settle(session, part, "failed", error, links, source="task")


# -- applying what Stripe says -------------------------------------------------------------------

def apply_refund(session: Session, part_id: int, refund: Refund, links: Links, *,
                 source: str) -> str:
    """Bring the part in line with the refund fetched from Stripe; commits. Returns the part's
    status afterwards ("mismatch" when the refund is not this part's)."""
    part = session.get(RefundPart, part_id, populate_existing=True)
    stripe_failed_it = part.stripe_status in STRIPE_FINAL_FAILURES
    if part.stripe_refund_id not in (None, refund.id) or refund.amount != part.amount_minor \
            or refund.currency != part.currency:
        log.warning("refund %s does not match part %s: ignored", refund.id, part_id)
        session.rollback()
        return "mismatch"
    if stripe_failed_it and refund.status not in STRIPE_FINAL_FAILURES:
        # Stripe never revives a refund it failed or canceled: a later, different report is stale
        # or forged, and must not move money the part already gave back.
        log.warning("refund %s reported %s after %s: ignored", refund.id, refund.status,
                    part.stripe_status)
        session.rollback()
        return part.status
    now = clock.now()
    if part.stripe_refund_id is None:
        session.execute(
            update(RefundPart).where(RefundPart.id == part_id, RefundPart.tenant_id == part.tenant_id,
                                     RefundPart.stripe_refund_id.is_(None))
            .values(stripe_refund_id=refund.id, updated_at=now)
            .execution_options(synchronize_session=False))
        audit.record(session, part.tenant_id, "refund.created_at_stripe", actor="stripe",
                     subject_type="booking", subject_id=part.booking_id, refund_part_id=part.id,
                     stripe_refund_id=refund.id, amount_minor=part.amount_minor,
                     currency=part.currency, seen_by=source)
    session.execute(update(RefundPart).where(RefundPart.id == part_id, RefundPart.tenant_id == part.tenant_id)
                    .values(stripe_status=refund.status[:40], updated_at=now)
                    .execution_options(synchronize_session=False))
    target = STRIPE_FINAL.get(refund.status)
    if target is None:
        # Stripe holds it as pending: ours is processing until Stripe settles it.
        session.execute(update(RefundPart)
                        .where(RefundPart.id == part_id, RefundPart.tenant_id == part.tenant_id,
                               RefundPart.status == "pending")
                        .values(status="processing", claimed_at=now)
                        .execution_options(synchronize_session=False))
        _sync_request(session, part.request_id)
        session.commit()
        return "processing"
    part = session.get(RefundPart, part_id, populate_existing=True)
    reason = refund.failure_reason.replace("_", " ") if refund.failure_reason else ""
    # A part we gave up on (every attempt timed out) whose refund Stripe made after all: the
    # refund is real, so the part succeeds; left failed, its Retry would refund a second time.
    return _settle(session, part, target, f"Stripe: {reason}" if reason else "", links, source=source,
                   from_our_failure=not stripe_failed_it)


def _settle(session: Session, part: RefundPart, to: str, error: str, links: Links, *,
            source: str, from_our_failure: bool = False) -> str:
    """Move the part to a final status once, and its money with it; commits."""
    old = part.status
    allowed = SETTLES_FROM[to] + (("failed",) if to == "succeeded" and from_our_failure else ())
    if old not in allowed:
        session.commit()
        return old
    _lock_booking(session, part.booking_id)
    now = clock.now()
    changed = session.execute(
        update(RefundPart).where(RefundPart.id == part.id, RefundPart.tenant_id == part.tenant_id,
                                 RefundPart.status == old)
        .values(status=to, settled_at=now, updated_at=now, claimed_at=None,
                last_error=error[:1000] if error else RefundPart.last_error)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()  # someone else settled it meanwhile
        return session.get(RefundPart, part.id, populate_existing=True).status
    amount = part.amount_minor
    if to == "succeeded" and old == "failed":
        values = {"refunded_minor": Payment.refunded_minor + amount}  # its reservation was given back
    elif to == "succeeded":
        values = {"refund_pending_minor": Payment.refund_pending_minor - amount,
                  "refunded_minor": Payment.refunded_minor + amount}
    elif old == "succeeded":
        values = {"refunded_minor": Payment.refunded_minor - amount}
    else:
        values = {"refund_pending_minor": Payment.refund_pending_minor - amount}
    session.execute(update(Payment).where(Payment.id == part.payment_id, Payment.tenant_id == part.tenant_id)
                    .values(**values)
                    .execution_options(synchronize_session=False))
    audit.record(session, part.tenant_id, f"refund.{to}", actor="stripe" if part.stripe_refund_id
                 else "system", subject_type="booking", subject_id=part.booking_id,
                 refund_part_id=part.id, refund_request_id=part.request_id,
                 amount_minor=amount, currency=part.currency, stripe_refund_id=part.stripe_refund_id,
                 error=error[:300], seen_by=source)
    booking = _conclude(session, part.request_id, part.booking_id, completed_by=part.id)
    if to == "succeeded":
        # Hook for credit notes (invoices): one job per succeeded part, after the commit.
        jobs.after_commit(session, jobs.Job.REFUND_PART_SUCCEEDED, part.id)
    elif to == "failed":
        _queue_failed_email(session, booking, part, error, links)
    session.commit()
    return to


def _lock_booking(session: Session, booking_id: int) -> None:
    """Serialize the settlements of one booking's refund parts (a no-op on SQLite, whose writers
    are serialized anyway). Taken before the part changes, so the order is always booking, then
    payment."""
    session.execute(select(Booking.id).where(Booking.id == booking_id).with_for_update())


def _conclude(session: Session, request_id: int, booking_id: int, *, completed_by: int) -> Booking:
    """Bring the request and the booking in line with their parts (the booking row is locked),
    and tell the couple when this call completed the request."""
    was = session.scalar(select(RefundRequest.status).where(RefundRequest.id == request_id))
    request = _sync_request(session, request_id)
    booking = session.get(Booking, booking_id, populate_existing=True)
    _sync_booking(session, booking)
    if request.status == "succeeded" and was != "succeeded":
        # Keyed by the part whose success completed it: a request completes once per such part.
        queue_couple_email(session, booking, request, "completed",
                           f"refund-{request.id}-completed-by-{completed_by}")
    return booking


def _sync_request(session: Session, request_id: int) -> RefundRequest:
    """A request is processing while a part is on its way, succeeded when every part did,
    canceled when every part was, failed otherwise. A part superseded by a retry is ignored."""
    request = session.get(RefundRequest, request_id, populate_existing=True)
    parts = list(session.scalars(select(RefundPart).where(RefundPart.request_id == request_id)
                                 .execution_options(populate_existing=True)))
    retried = {p.retry_of_id for p in parts if p.retry_of_id}
    statuses = [p.status for p in parts if p.id not in retried]
    if all(s == "pending" for s in statuses):
        status = "pending"
    elif any(s in ACTIVE for s in statuses):
        status = "processing"
    elif all(s == "succeeded" for s in statuses):
        status = "succeeded"
    elif all(s == "canceled" for s in statuses):
        status = "canceled"
    else:
        status = "failed"
    if status != request.status:
        request.status = status
        request.updated_at = clock.now()
        request.completed_at = clock.now() if status in ("succeeded", "failed", "canceled") else None
        session.flush()
    return request


def _sync_booking(session: Session, booking: Booking) -> None:
    """refunded when every captured card amount came back, partially_refunded when some did
    (for a booking still going ahead; a canceled one stays canceled until fully refunded)."""
    payments = list(session.scalars(select(Payment).where(Payment.booking_id == booking.id)
                                    .execution_options(populate_existing=True)))
    captured = sum(p.amount_minor for p in payments)
    refunded = sum(p.refunded_minor for p in payments)
    if refunded <= 0:
        return
    target = "refunded" if refunded >= captured else "partially_refunded"
    if target == booking.status or target not in bookings.TRANSITIONS.get(booking.status, ()):
        return
    try:
        bookings.transition(session, booking, target, actor="system", refunded_minor=refunded,
                             captured_minor=captured, currency=booking.currency)
    except InvalidTransition:
        log.warning("booking %s changed while its refund settled; status left as is", booking.id)
    session.refresh(booking)


def _queue_failed_email(session: Session, booking: Booking, part: RefundPart, error: str,
                        links: Links) -> None:
    tenant = session.get(Tenant, booking.tenant_id)
    amount_text = format_money(part.amount_minor, part.currency, tenant.locale or "en_US")
    # Keyed by attempt: the guarded status change that calls this runs once per failure, and a
    # part reopened by a retry may fail again and deserves a second alert.
    tell_team.notify_team(
        session, tenant.id, event_key=f"refund_failed-{part.id}-{part.attempts}", booking=booking,
        kind="refund_failed", subject=f"Refund of {amount_text} failed for booking #{booking.id}",
        sentence=f"Refund of {amount_text} to {booking.couple_names} failed: "
                 f"{error or 'Stripe did not say why.'}",
        login_url=links.login(),
        context={"part": part, "amount_text": amount_text,
                 "error": error or "Stripe did not say why."})


# -- webhooks and the sweeper ----------------------------------------------------------------------

@dataclass(frozen=True)
class EventOutcome:
    outcome: str  # processed, unknown (not ours), tenant_mismatch


def _part_for(session: Session, refund: Refund) -> RefundPart | None:
    part = session.scalar(select(RefundPart).where(RefundPart.stripe_refund_id == refund.id))
    if part is not None:
        return part
    try:
        part_id = int(refund.metadata.get("refund_part_id", ""))
    except ValueError:
        return None
    part = session.get(RefundPart, part_id)
    # Our commit may not have happened (a worker killed after Stripe answered): adopt it.
    return part if part is not None and part.stripe_refund_id is None else None


def reconcile_refund(session: Session, refund: Refund, links: Links, *,
                     claimed_tenant_id: int | None = None, account: str | None = None,
                     source: str = "webhook") -> str:
    """`account`: the connected account the refund was fetched from; the part's payment must
    live there."""
    part = _part_for(session, refund)
    if part is None:
        session.rollback()
        return "unknown"
    payment_account = session.scalar(select(Payment.stripe_account)
                                      .where(Payment.id == part.payment_id))
    if refund.metadata.get("tenant_id") != str(part.tenant_id) or (
            claimed_tenant_id is not None and claimed_tenant_id != part.tenant_id) or (
            account is not None and account != payment_account):
        log.warning("refund %s belongs to tenant %s but names %s/%s: ignored", refund.id,
                    part.tenant_id, refund.metadata.get("tenant_id"), claimed_tenant_id)
        session.rollback()
        return "tenant_mismatch"
    apply_refund(session, part.id, refund, links, source=source)
    return "processed"


def _account_for(session: Session, event_type: str, object_id: str) -> str | None:
    """The account our rows say the event's object lives on (None: not ours, as far as we know
    yet: a refund made by a worker that died before recording it)."""
    if event_type == "charge.refunded":
        return session.scalar(select(Payment.stripe_account)
                              .where(Payment.stripe_charge_id == object_id))
    return session.scalar(select(Payment.stripe_account).join(
        RefundPart, RefundPart.payment_id == Payment.id)
        .where(RefundPart.stripe_refund_id == object_id))


def handle_event(session: Session, event_type: str, object_id: str, gateway: PaymentGateway,
                 links: Links, *, claimed_tenant_id: int | None,
                 claimed_account: str | None = None) -> EventOutcome:
    """A refund webhook: re-fetch what it names from Stripe and reconcile each refund of ours
    (charge.refunded names a charge: all its refunds are looked at). The object is fetched from
    the account our rows name; an event from another account changes nothing and asks nothing."""
    known = _account_for(session, event_type, object_id)
    session.commit()
    if known is not None and claimed_account is not None and known != claimed_account:
        log.warning("refund event for %s from account %r, ours is on %r: ignored", object_id,
                    claimed_account, known)
        return EventOutcome("tenant_mismatch")
    account = known if known is not None else (claimed_account or "")
    if event_type == "charge.refunded":
        refunds = gateway.list_refunds(account=account, charge=object_id)
    else:
        refunds = [gateway.retrieve_refund(object_id, account=account)]
    outcomes = [reconcile_refund(session, r, links, claimed_tenant_id=claimed_tenant_id,
                                 account=account) for r in refunds]
    if "processed" in outcomes:
        return EventOutcome("processed")
    return EventOutcome("tenant_mismatch" if "tenant_mismatch" in outcomes else "unknown")


def reconcile_part(session: Session, part_id: int, gateway: PaymentGateway, links: Links) -> str:
    """Ask Stripe about a part it holds as pending (its webhook may be late or lost)."""
    part = session.get(RefundPart, part_id, populate_existing=True)
    if part is None or part.stripe_refund_id is None or part.status not in ACTIVE:
        session.commit()
        return part.status if part else "missing"
    refund_id = part.stripe_refund_id
    account = session.scalar(select(Payment.stripe_account).where(Payment.id == part.payment_id))
    session.commit()
    refund = gateway.retrieve_refund(refund_id, account=account or "")
    return apply_refund(session, part_id, refund, links, source="sweeper")


def sweep(session: Session, policy: RetryPolicy, limit: int = 500) -> tuple[list[int], list[int]]:
    """(parts to send to Stripe, parts to re-fetch from Stripe): pending parts whose time came
    (a lost task, a flushed queue), parts claimed by a worker that died, and parts Stripe has
    held as pending for a while."""
    now = clock.now()
    to_send = list(session.scalars(
        select(RefundPart.id).where(
            RefundPart.stripe_refund_id.is_(None),
            or_(and_(RefundPart.status == "pending", RefundPart.next_attempt_at <= now),
                and_(RefundPart.status == "processing",
                     RefundPart.claimed_at < now - policy.stuck_after)))
        .order_by(RefundPart.next_attempt_at).limit(limit)))
    to_check = list(session.scalars(
        select(RefundPart.id).where(RefundPart.stripe_refund_id.is_not(None),
                                    RefundPart.status.in_(ACTIVE),
                                    RefundPart.updated_at < now - policy.recheck_after)
        .order_by(RefundPart.updated_at).limit(limit)))
    session.commit()
    return to_send, to_check


def repair_requests(session: Session, limit: int = 500) -> int:
    """Conclude requests still pending or processing although none of their parts is (a
    settlement that lost a race before the booking lock, or a crash between two commits).
    Returns how many were repaired; each repair commits."""
    open_parts = select(RefundPart.id).where(RefundPart.request_id == RefundRequest.id,
                                             RefundPart.status.in_(ACTIVE))
    stalled = list(session.scalars(
        select(RefundRequest.id).where(RefundRequest.status.in_(ACTIVE), ~open_parts.exists())
        .order_by(RefundRequest.id).limit(limit)))
    session.commit()
    repaired = 0
    for request_id in stalled:
        request = session.get(RefundRequest, request_id)
        _lock_booking(session, request.booking_id)
        last = session.scalar(select(func.max(RefundPart.id)).where(
            RefundPart.request_id == request_id, RefundPart.status == "succeeded"))
        before = session.scalar(select(RefundRequest.status).where(RefundRequest.id == request_id))
        _conclude(session, request_id, request.booking_id, completed_by=last or 0)
        if before in ACTIVE and session.get(RefundRequest, request_id).status not in ACTIVE:
            audit.record(session, request.tenant_id, "refund.request_repaired", actor="system",
                         subject_type="booking", subject_id=request.booking_id,
                         refund_request_id=request_id, status=request.status)
            repaired += 1
        session.commit()
    if repaired:
        log.warning("%s refund request(s) were left open with every part final: concluded", repaired)
    return repaired


# -- the owner's retry --------------------------------------------------------------------------

def retry_part(session: Session, tenant_id: int, part_id: int, *, actor_user_id: int) -> RefundPart:
    """Send a failed part again; commits. A part Stripe never created goes back to pending
    under its own key (an earlier attempt may have reached Stripe after all: the key, or after
    24 hours the lookup by part id, finds it). A part whose Stripe refund failed gets a new part,
    hence a new key, for the same amount. Either way the amount is reserved again, and refused
    if it is no longer refundable."""
    from app.services.refunds.requests import get_part

    part = get_part(session, tenant_id, part_id)
    if part.status != "failed" or session.scalar(
            select(RefundPart.id).where(RefundPart.retry_of_id == part.id)):
        session.rollback()
        raise InvalidTransition("Only a failed refund can be retried, once.")
    if part.stripe_refund_id is not None and part.stripe_status not in ("failed", "canceled"):
        # We gave up on it, but Stripe has the refund and has not settled it: wait for Stripe.
        session.rollback()
        raise InvalidTransition("Stripe is still processing this refund; it cannot be retried.")
    payment = session.get(Payment, part.payment_id)
    if not _reserve(session, payment, part.amount_minor):
        session.rollback()
        raise Conflict("That amount is no longer refundable from this payment.")
    now = clock.now()
    if part.stripe_refund_id is None:
        changed = session.execute(
            update(RefundPart).where(RefundPart.id == part.id, RefundPart.tenant_id == tenant_id,
                                     RefundPart.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now, claimed_at=None,
                    settled_at=None, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            session.rollback()
            raise InvalidTransition("This refund changed meanwhile; reload and try again.")
        target = part
    else:
        target = RefundPart(
            tenant_id=tenant_id, request_id=part.request_id, booking_id=part.booking_id,
            payment_id=part.payment_id, retry_of_id=part.id, amount_minor=part.amount_minor,
            currency=part.currency, status="pending", stripe_status="", attempts=0, last_error="",
            next_attempt_at=now, created_at=now, updated_at=now)
        session.add(target)
        session.flush()
    audit.record(session, tenant_id, "refund.retried", actor="user", actor_user_id=actor_user_id,
                 subject_type="booking", subject_id=part.booking_id, refund_part_id=part.id,
                 new_refund_part_id=target.id, amount_minor=part.amount_minor,
                 currency=part.currency)
    _sync_request(session, part.request_id)
    jobs.after_commit(session, jobs.Job.PROCESS_REFUND_PART, target.id)
    session.commit()
    return session.get(RefundPart, target.id, populate_existing=True)
