"""Refund requests: what can be refunded, how an amount splits across a booking's payments, and
filing a request (by a tenant user, or by a cancellation under the booking's policy).

Invariants kept here:
- a request is rows first: the request and one part per payment are committed before any call
  to Stripe; each part's task is enqueued after that commit (`process_refund_part`);
- a part reserves its amount on its payment with one guarded UPDATE
  (`... WHERE amount - refunded - pending >= x`), so concurrent requests, on PostgreSQL (the
  UPDATE waits for the row lock and re-checks) or SQLite (writes are serialized), can never
  together reserve more than was captured; the CHECK constraint on `payments` backs it;
- per booking, the parts never exceed the sum of the payments' refundable amounts, since each
  part is bounded by its own payment;
- each public function commits once, or rolls back and raises.

Cancelling a booking (with the refund its policy gives) is `app.services.bookings.cancellation`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Booking, Payment, PaymentStage, RefundPart, RefundRequest, Tenant
from app.models.refund import REFUND_REASONS
from app.services.bookings import availability
from app.services.bookings import emails as booking_emails
from app.services.bookings import lifecycle as bookings
from app.services.email import outbox as email
from app.services.refunds import policy as cancellation_policy
from app.services.shared import audit, clock, currencies, jobs
from app.services.shared.errors import Conflict, NotFound, ValidationFailed
from app.services.shared.links import Links
from app.services.shared.money import format_money, share_of
from app.services.shared.tenancy import get_owned
from app.services.shared.unit_of_work import committing

REASON_LABELS = {"requested_by_customer": "Requested by the couple", "duplicate": "Duplicate payment",
                 "fraudulent": "Fraudulent payment", "cancellation": "Cancellation",
                 "booking_canceled": "Paid after the booking was canceled"}
# What a tenant user may choose; "booking_canceled" is filed only by the system.
USER_REASONS = ("requested_by_customer", "duplicate", "fraudulent", "cancellation")
# Stripe knows three reasons; a cancellation is the customer's request.
STRIPE_REASONS = {"requested_by_customer": "requested_by_customer", "duplicate": "duplicate",
                  "fraudulent": "fraudulent", "cancellation": "requested_by_customer",
                  "booking_canceled": "requested_by_customer"}
NOTE_MAX = 500
FILE_ATTEMPTS = 3
FINAL_REQUEST = ("succeeded", "failed", "canceled")


class RefundExceedsRefundable(Conflict):
    """More than what is still refundable (captured minus refunded or on its way)."""

    def __init__(self, refundable_text: str) -> None:
        super().__init__(f"That is more than can still be refunded ({refundable_text}).")
        self.refundable_text = refundable_text


class ReservationRaced(Conflict):
    """A concurrent request reserved part of a payment between our read and our UPDATE."""

    def __init__(self) -> None:
        super().__init__("A refund for this booking was filed at the same moment; reload and try "
                         "again.")


@dataclass(frozen=True)
class SplitLine:
    payment: Payment
    amount_minor: int


@dataclass(frozen=True)
class Split:
    """How an amount comes out of a booking's card payments (newest payment first)."""

    lines: list[SplitLine]
    amount_minor: int
    refundable_minor: int
    currency: str


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling now refunds under the booking's policy."""

    amount_minor: int
    percent_bp: int
    days_before: int
    deposit_kept_minor: int
    paid_minor: int
    currency: str
    policy: dict


# -- reading ------------------------------------------------------------------------------------

def card_payments(session: Session, tenant_id: int, booking_id: int) -> list[Payment]:
    """The booking's card payments, newest first, read fresh (other transactions reserve too).
    Offline payments are returned outside MAIS (docs/decisions.md)."""
    return list(session.scalars(
        select(Payment).where(Payment.tenant_id == tenant_id, Payment.booking_id == booking_id,
                              Payment.method == "card")
        .order_by(Payment.received_at.desc(), Payment.id.desc())
        .execution_options(populate_existing=True)))


def left_on(payment: Payment) -> int:
    return payment.amount_minor - payment.refunded_minor - payment.refund_pending_minor


def refundable_minor(session: Session, tenant_id: int, booking_id: int) -> int:
    return sum(left_on(p) for p in card_payments(session, tenant_id, booking_id))


def _money_text(session: Session, tenant_id: int, amount: int, currency: str) -> str:
    tenant = session.get(Tenant, tenant_id)
    return format_money(amount, currency, tenant.locale or "en_US")


def split(session: Session, tenant_id: int, booking_id: int, amount_minor: int, *,
          payment_id: int | None = None) -> Split:
    """Split `amount_minor` across the booking's card payments (only `payment_id`, if given),
    newest first; raises ValidationFailed (not positive) or RefundExceedsRefundable."""
    booking = bookings.get_booking(session, tenant_id, booking_id)
    payments = [p for p in card_payments(session, tenant_id, booking_id)
                if payment_id is None or p.id == payment_id]
    refundable = sum(left_on(p) for p in payments)
    if amount_minor <= 0:
        raise ValidationFailed({"amount": "Enter an amount greater than zero."})
    step = currencies.get(booking.currency).step
    if amount_minor % step:
        # Stripe refuses refunds off the step (KWD's last digit, ISK's whole krónur).
        raise ValidationFailed({"amount": f"{booking.currency} refunds are multiples of "
                                          f"{_money_text(session, tenant_id, step, booking.currency)}."})
    if amount_minor > refundable:
        raise RefundExceedsRefundable(_money_text(session, tenant_id, refundable, booking.currency))
    takes = allocate(amount_minor, [left_on(p) for p in payments])
    lines = [SplitLine(payment, take) for payment, take in zip(payments, takes, strict=True)
             if take > 0]
    return Split(lines, amount_minor, refundable, booking.currency)


def allocate(amount_minor: int, available: list[int]) -> list[int]:
    """How much of `amount_minor` comes out of each payment, in the order given: each takes what
    it still has, so the takes sum to the amount (when it is at most the total available), none
    is negative, and each stays a multiple of the currency's step when the inputs are."""
    takes, rest = [], amount_minor
    for left in available:
        take = max(0, min(rest, left))
        takes.append(take)
        rest -= take
    return takes


def requests_for(session: Session, tenant_id: int, booking_id: int) -> list[RefundRequest]:
    return list(session.scalars(
        select(RefundRequest).where(RefundRequest.tenant_id == tenant_id,
                                    RefundRequest.booking_id == booking_id)
        .order_by(RefundRequest.created_at.desc(), RefundRequest.id.desc())))


def parts_of(session: Session, tenant_id: int, request_id: int) -> list[RefundPart]:
    return list(session.scalars(
        select(RefundPart).where(RefundPart.tenant_id == tenant_id, RefundPart.request_id == request_id)
        .order_by(RefundPart.id)))


def get_request(session: Session, tenant_id: int, booking_id: int, request_id: int) -> RefundRequest:
    row = session.get(RefundRequest, request_id)
    if row is None or row.tenant_id != tenant_id or row.booking_id != booking_id:
        raise NotFound()
    return row


def get_part(session: Session, tenant_id: int, part_id: int) -> RefundPart:
    row = get_owned(session, RefundPart, tenant_id, part_id)
    return row


# -- the policy on cancellation -------------------------------------------------------------------

def booking_policy(session: Session, booking: Booking) -> dict:
    """The policy copied onto the booking when it was made; bookings made before policies
    existed get the tenant's current one."""
    if booking.cancellation_policy:
        return cancellation_policy.normalized(booking.cancellation_policy)
    return cancellation_policy.current(session, booking.tenant_id)


def cancellation_quote(session: Session, booking: Booking, today: date | None = None) -> CancellationQuote:
    """Refund for cancelling today: the tier's share of what was paid by card, less a
    non-refundable deposit, never more than what is still refundable."""
    policy = booking_policy(session, booking)
    today = today or availability.local_today(session, booking.tenant_id)
    days = (booking.event_date - today).days
    payments = card_payments(session, booking.tenant_id, booking.id)
    paid = sum(p.amount_minor for p in payments)
    kept = 0
    if not policy["deposit_refundable"]:
        deposit = session.scalar(select(PaymentStage).where(
            PaymentStage.tenant_id == booking.tenant_id, PaymentStage.booking_id == booking.id,
            PaymentStage.kind == "deposit", PaymentStage.status == "paid"))
        if deposit is not None and any(p.id == deposit.payment_id for p in payments):
            kept = min(deposit.amount_minor, paid)
    share = cancellation_policy.percent_bp(policy, days)
    amount = share_of(paid - kept, share, 10_000, booking.currency)
    amount = min(amount, sum(left_on(p) for p in payments))
    return CancellationQuote(amount, share, days, kept, paid, booking.currency, policy)


# -- filing ---------------------------------------------------------------------------------------

def _validate(amount_minor: int | None, reason: str, note: str) -> None:
    problems = {}
    if amount_minor is None or amount_minor <= 0:
        problems["amount"] = "Enter an amount greater than zero."
    if reason not in USER_REASONS:
        problems["reason"] = "Choose a reason."
    if len(note or "") > NOTE_MAX:
        problems["note"] = f"Use at most {NOTE_MAX} characters."
    if problems:
        raise ValidationFailed(problems)


def _reserve(session: Session, payment: Payment, amount: int) -> bool:
    return session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.tenant_id == payment.tenant_id,
               Payment.amount_minor - Payment.refunded_minor - Payment.refund_pending_minor >= amount)
        .values(refund_pending_minor=Payment.refund_pending_minor + amount)
        .execution_options(synchronize_session=False)).rowcount == 1


def file_request(session: Session, booking: Booking, amount_minor: int, reason: str, note: str, *,
                 actor: str, actor_user_id: int | None, payment_id: int | None = None,
                 **audit_details: object) -> RefundRequest:
    """Add the request, its parts and their reservations in the caller's transaction (no
    commit), from the booking's card payments or only from `payment_id`; the couple is emailed
    and each part's task enqueued after the commit. Raises RefundExceedsRefundable, or
    ReservationRaced when a concurrent request reserved the same money first."""
    if reason not in REFUND_REASONS:
        raise ValueError(f"unknown refund reason {reason!r}")
    plan = split(session, booking.tenant_id, booking.id, amount_minor, payment_id=payment_id)
    now = clock.now()
    request = RefundRequest(
        tenant_id=booking.tenant_id, booking_id=booking.id, amount_minor=amount_minor,
        currency=booking.currency, reason=reason, note=(note or "").strip(), requested_by=actor,
        requested_by_user_id=actor_user_id, status="pending", created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    # Reserve in payment id order, so two requests over the same payments lock them alike.
    for line in sorted(plan.lines, key=lambda line: line.payment.id):
        if not _reserve(session, line.payment, line.amount_minor):
            raise ReservationRaced()
    parts = []
    for line in plan.lines:
        part = RefundPart(
            tenant_id=booking.tenant_id, request_id=request.id, booking_id=booking.id,
            payment_id=line.payment.id, amount_minor=line.amount_minor, currency=plan.currency,
            status="pending", stripe_status="", attempts=0, last_error="", next_attempt_at=now,
            created_at=now, updated_at=now)
        session.add(part)
        parts.append(part)
    session.flush()
    for part in parts:
        jobs.after_commit(session, jobs.Job.PROCESS_REFUND_PART, part.id)
    audit.record(session, booking.tenant_id, "refund.requested", actor=actor,
                 actor_user_id=actor_user_id, subject_type="booking", subject_id=booking.id,
                 refund_request_id=request.id, amount_minor=amount_minor, currency=plan.currency,
                 reason=reason, parts=[{"part_id": p.id, "payment_id": p.payment_id,
                                        "amount_minor": p.amount_minor} for p in parts],
                 **audit_details)
    queue_couple_email(session, booking, request, "started", f"refund-{request.id}-started")
    return request


def queue_couple_email(session: Session, booking: Booking, request: RefundRequest, stage: str,
                       dedupe_key: str) -> None:
    """Tell the couple a refund `stage` ("started" or "completed"); once per dedupe key."""
    tenant = session.get(Tenant, booking.tenant_id)
    amount_text = format_money(request.amount_minor, request.currency, tenant.locale or "en_US")
    email.queue_email(
        session, tenant.id, to=booking.email, kind=f"refund_{stage}",
        subject=f"Refund of {amount_text} {stage} – {tenant.name}",
        context={"booking": booking, "request": request, "amount_text": amount_text,
                 "reason_text": REASON_LABELS[request.reason],
                 **booking_emails.describe(booking, tenant)},
        dedupe_key=dedupe_key)


def request_refund(session: Session, tenant_id: int, booking_id: int, amount_minor: int | None,
                   reason: str, note: str, links: Links, *, actor_user_id: int) -> RefundRequest:
    """A tenant user refunds part or all of what a booking paid by card; commits."""
    booking = bookings.get_booking(session, tenant_id, booking_id)
    for _ in range(FILE_ATTEMPTS):
        try:
            with committing(session):
                _validate(amount_minor, reason, note)
                return file_request(session, booking, amount_minor, reason, note, actor="user",
                                    actor_user_id=actor_user_id)
        except ReservationRaced:
            # Another request took some of it: split again on fresh rows.
            booking = bookings.get_booking(session, tenant_id, booking_id)
    raise RefundExceedsRefundable(_money_text(
        session, tenant_id, refundable_minor(session, tenant_id, booking_id), booking.currency))


# -- what the dashboard and the portal show -------------------------------------------------------

@dataclass(frozen=True)
class RequestView:
    request: RefundRequest
    parts: list[RefundPart]
    retryable_part_ids: frozenset[int]

    @property
    def final(self) -> bool:
        return self.request.status in FINAL_REQUEST


@dataclass(frozen=True)
class BookingRefunds:
    requests: list[RequestView]
    captured_minor: int
    refunded_minor: int
    pending_minor: int
    refundable_minor: int
    currency: str


def booking_refunds(session: Session, tenant_id: int, booking_id: int) -> BookingRefunds:
    booking = bookings.get_booking(session, tenant_id, booking_id)
    payments = card_payments(session, tenant_id, booking_id)
    views = []
    for request in requests_for(session, tenant_id, booking_id):
        parts = parts_of(session, tenant_id, request.id)
        retried = {p.retry_of_id for p in parts if p.retry_of_id}
        views.append(RequestView(request, parts, frozenset(
            p.id for p in parts if p.status == "failed" and p.id not in retried)))
    return BookingRefunds(views, sum(p.amount_minor for p in payments),
                          sum(p.refunded_minor for p in payments),
                          sum(p.refund_pending_minor for p in payments),
                          sum(left_on(p) for p in payments), booking.currency)


def request_view(session: Session, tenant_id: int, booking_id: int, request_id: int) -> RequestView:
    request = get_request(session, tenant_id, booking_id, request_id)
    session.refresh(request)
    parts = parts_of(session, tenant_id, request.id)
    for part in parts:
        session.refresh(part)
    retried = {p.retry_of_id for p in parts if p.retry_of_id}
    return RequestView(request, parts, frozenset(
        p.id for p in parts if p.status == "failed" and p.id not in retried))
