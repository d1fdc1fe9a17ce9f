"""Bookings: create with a race-safe date hold, edit, reschedule, and the status state machine.

Invariants kept here:
- a live booking (pending_deposit, confirmed, paid_in_full, completed) owns exactly one row in
  `date_slots` for its date; the UNIQUE (tenant, date, slot) constraint means two transactions
  can never both take a date's last slot, on PostgreSQL or SQLite;
- prices are copied from the catalog onto the booking when it is made;
- `status` changes only in `transition`, with a guarded UPDATE, so two racing changes (a couple
  canceling while the sweeper expires the hold) cannot both apply;
- each public function commits once, or rolls back and raises.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AuditEvent, Booking, BookingAddOn
from app.services.bookings import availability, catalog
from app.services.bookings import emails as booking_emails
from app.services.bookings import terms as booking_terms
from app.services.invoices import issuing as invoices
from app.services.invoices import settings as invoice_settings
from app.services.notifications import vendor as tell_team
from app.services.payments import stages as payment_stages
from app.services.refunds import policy as cancellation_policy
from app.services.reminders import dispatch as reminders
from app.services.shared import audit, clock
from app.services.shared.errors import DateTaken, DomainError, InvalidTransition, ValidationFailed
from app.services.shared.links import Links
from app.services.shared.tenancy import get_owned

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_deposit": frozenset({"confirmed", "canceled", "expired"}),
    "confirmed": frozenset({"paid_in_full", "completed", "canceled", "partially_refunded", "refunded"}),
    "paid_in_full": frozenset({"completed", "canceled", "partially_refunded", "refunded"}),
    "completed": frozenset({"partially_refunded", "refunded"}),
    # Refund states are reached only when refunds settle (app/services/refund_processing.py).
    "partially_refunded": frozenset({"completed", "canceled", "refunded"}),
    "canceled": frozenset({"refunded"}),
    "expired": frozenset({"refunded"}),
    "refunded": frozenset(),
}
LABELS = {"pending_deposit": "awaiting deposit", "confirmed": "confirmed", "paid_in_full": "paid in full",
          "completed": "completed", "canceled": "canceled", "expired": "expired",
          "partially_refunded": "partially refunded", "refunded": "refunded"}
LIVE = ("pending_deposit", "confirmed", "paid_in_full", "completed", "partially_refunded")
SETTLED_BY_REFUNDS = frozenset({"partially_refunded", "refunded"})
CHANGEABLE = booking_emails.CHANGEABLE
CLAIM_ATTEMPTS = 3
LIMITS = {"couple_names": 200, "email": 254, "phone": 40, "venue": 200, "notes": 2000}


@dataclass
class BookingDetails:
    """What the couple tells us, as plain values (the web layer has parsed dates and times)."""

    couple_names: str
    email: str
    event_date: date | None
    venue: str
    phone: str = ""
    start_time: time | None = None
    notes: str = ""


@dataclass
class BookingRequest(BookingDetails):
    package_id: object = None
    add_on_ids: list = field(default_factory=list)
    # The digest of the terms the couple was shown and accepted (public page); None when a
    # tenant user enters the booking.
    accepted_terms: str | None = None


def _details_problems(details: BookingDetails) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(getattr(details, name) or "") > limit:
            problems[name] = f"Use at most {limit} characters."
    if not details.couple_names.strip():
        problems.setdefault("couple_names", "Enter your names.")
    address = details.email.strip()
    if "@" not in address or address.startswith("@") or address.endswith("@") or " " in address:
        problems.setdefault("email", "Enter an email address such as name@example.com.")
    if not details.venue.strip():
        problems.setdefault("venue", "Enter the venue (a town is fine if not decided yet).")
    return problems


def _date_field_problem(session: Session, tenant_id: int, day: date | None) -> str | None:
    """Every date rule except capacity, which the slot claim decides race-free."""
    problem = availability.date_problem(session, tenant_id, day)
    return None if problem == availability.FULL else problem


def _apply_details(booking: Booking, details: BookingDetails) -> None:
    booking.couple_names = details.couple_names.strip()
    booking.email = details.email.strip().lower()
    booking.phone = details.phone.strip()
    booking.start_time = details.start_time
    booking.venue = details.venue.strip()
    booking.notes = details.notes.strip()


def _date_taken(session: Session, tenant_id: int, day: date) -> DateTaken:
    nearby = availability.nearby_free_dates(session, tenant_id, day)
    return DateTaken(f"Sorry, {day.isoformat()} is no longer available.", free_dates=nearby)


def create_booking(session: Session, tenant_id: int, request: BookingRequest, links: Links, *,
                   actor: str = "couple", actor_user_id: int | None = None,
                   initial_status: str = "pending_deposit") -> Booking:
    """Book a package (and add-ons) on a date, holding the date, or raise and write nothing.

    A public booking starts in pending_deposit and holds its date until `hold_expires_at`. The
    owner may enter a booking directly as confirmed. A date filled meanwhile raises DateTaken
    with nearby free dates.
    """
    if initial_status not in ("pending_deposit", "confirmed"):
        raise ValidationFailed({"status": "A new booking starts awaiting deposit or confirmed."})
    package, add_ons, problems = catalog.bookable_selection(
        session, tenant_id, request.package_id, request.add_on_ids)
    problems.update(_details_problems(request))
    date_issue = _date_field_problem(session, tenant_id, request.event_date)
    if date_issue:
        problems["event_date"] = date_issue
    if problems:
        session.rollback()
        raise ValidationFailed(problems)
    assert package is not None and request.event_date is not None
    for _ in range(CLAIM_ATTEMPTS):
        try:
            return _create_once(session, tenant_id, request, package, add_ons, links, actor,
                                actor_user_id, initial_status)
        except IntegrityError:
            # Another transaction took the slot between our read and our insert: look again.
            session.rollback()
            package, add_ons, _ = catalog.bookable_selection(
                session, tenant_id, request.package_id, request.add_on_ids)
            if package is None:
                raise ValidationFailed({"package_id": "Choose one of the packages shown."}) from None
    raise _date_taken(session, tenant_id, request.event_date)


def _create_once(session, tenant_id, request, package, add_ons, links, actor, actor_user_id,
                 initial_status) -> Booking:
    rules = availability.rules(session, tenant_id)
    now = clock.now()
    booking = Booking(
        tenant_id=tenant_id, package_id=package.id, package_title=package.title,
        package_price_minor=package.price_minor, currency=package.currency,
        total_minor=invoice_settings.amount_owed(
            session, tenant_id, package.price_minor + sum(a.price_minor for a in add_ons),
            package.currency),
        status=initial_status, event_date=request.event_date,
        source="public" if actor == "couple" else "dashboard", ics_sequence=0,
        hold_expires_at=now + timedelta(minutes=rules.hold_minutes)
        if initial_status == "pending_deposit" else None,
        created_at=now, updated_at=now,
        cancellation_policy=cancellation_policy.current(session, tenant_id),
    )
    _apply_details(booking, request)
    for add_on in add_ons:
        booking.add_ons.append(BookingAddOn(tenant_id=tenant_id, add_on_id=add_on.id, title=add_on.title,
                                            price_minor=add_on.price_minor, currency=add_on.currency))
    session.add(booking)
    session.flush()
    if not availability.claim_slot(session, tenant_id, booking.event_date, booking.id, rules.capacity_per_day):
        session.rollback()
        raise _date_taken(session, tenant_id, request.event_date)
    stages = payment_stages.create_stages(session, booking)
    if request.accepted_terms is not None:
        accepted = booking_terms.check_accepted(session, booking, package, add_ons,
                                                request.accepted_terms)
        invoices.add_terms(session, tenant_id, booking.id, accepted)
    if initial_status == "pending_deposit" and not any(s.kind == "deposit" for s in stages):
        # Nothing to pay up front (a free package or a 0 % deposit): confirmed at once.
        initial_status = booking.status = "confirmed"
        booking.hold_expires_at = None
    audit.record(session, tenant_id, "booking.created", actor=actor, actor_user_id=actor_user_id,
                 subject_type="booking", subject_id=booking.id, status=initial_status,
                 event_date=booking.event_date.isoformat(), total_minor=booking.total_minor,
                 currency=booking.currency)
    if initial_status == "confirmed":
        invoices.add_invoice(session, tenant_id, booking.id)
    kind = "booking_received" if initial_status == "pending_deposit" else "booking_confirmed"
    booking_emails.queue_booking_email(session, booking, kind, links)
    tell_team.notify_team(
        session, tenant_id, event_key=f"booking_created-{booking.id}", booking=booking,
        login_url=links.login(),
        sentence=f"New booking #{booking.id} from {booking.couple_names}: {booking.package_title} "
                 f"on {booking.event_date.isoformat()}")
    reminders.sync_booking(session, tenant_id, booking.id)
    session.commit()
    return booking


def get_booking(session: Session, tenant_id: int, booking_id: int) -> Booking:
    booking = get_owned(session, Booking, tenant_id, booking_id)
    return booking


def transition(session: Session, booking: Booking, to: str, *, actor: str,
                actor_user_id: int | None = None, **details: object) -> None:
    """Move the booking to `to` if the state machine allows it and nobody changed it meanwhile."""
    old = booking.status
    if to not in TRANSITIONS.get(old, ()):
        raise InvalidTransition(f"A booking that is {LABELS[old]} cannot become {LABELS.get(to, to)}.")
    now = clock.now()
    values: dict[str, object] = {"status": to, "updated_at": now}
    if to == "confirmed":
        values["hold_expires_at"] = None
    if to in ("canceled", "expired") or (to == "refunded" and old in LIVE):
        values["hold_expires_at"] = None
        values["ics_sequence"] = booking.ics_sequence + 1
    if to == "canceled":
        values["canceled_at"] = now
    changed = session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.tenant_id == booking.tenant_id,
                              Booking.status == old).values(**values)
    ).rowcount
    if changed != 1:
        raise InvalidTransition("This booking was changed meanwhile; reload and try again.")
    if to in ("canceled", "expired", "refunded"):
        availability.release_slot(session, booking.tenant_id, booking.id)
    audit.record(session, booking.tenant_id, f"booking.{to}", actor=actor, actor_user_id=actor_user_id,
                 subject_type="booking", subject_id=booking.id, **{"from": old}, **details)
    reminders.sync_booking(session, booking.tenant_id, booking.id)
    if to == "confirmed":
        invoices.add_invoice(session, booking.tenant_id, booking.id)  # numbered in this transaction


def reschedule_problem(session: Session, booking: Booking, *, enforce_cutoff: bool) -> str | None:
    """Why this booking cannot be moved at all right now (status or the tenant's cut-off)."""
    if booking.status not in CHANGEABLE:
        return f"A booking that is {LABELS[booking.status]} cannot be rescheduled."
    if enforce_cutoff:
        rules = availability.rules(session, booking.tenant_id)
        today = availability.local_today(session, booking.tenant_id)
        if (booking.event_date - today).days < rules.reschedule_cutoff_days:
            return (f"Bookings can be moved online until {rules.reschedule_cutoff_days} days before "
                    "the event. Please contact us directly.")
    return None


def _move(session: Session, booking: Booking, new_date: date | None) -> None:
    problem = _date_field_problem(session, booking.tenant_id, new_date)
    if problem is None and new_date == booking.event_date:
        problem = "That is already the date of the booking."
    if problem:
        raise ValidationFailed({"event_date": problem})
    rules = availability.rules(session, booking.tenant_id)
    for _ in range(CLAIM_ATTEMPTS):
        # A savepoint per attempt: losing a slot to a concurrent transaction (IntegrityError)
        # undoes only the attempt, not the link consumed earlier in this transaction, and the
        # next attempt sees the slot taken and claims the next one (capacity above 1).
        try:
            with session.begin_nested():
                availability.release_slot(session, booking.tenant_id, booking.id)
                claimed = availability.claim_slot(session, booking.tenant_id, new_date, booking.id,
                                                  rules.capacity_per_day)
            break
        except IntegrityError:
            continue
    else:
        claimed = False
    if not claimed:
        raise DateTaken()
    booking.event_date = new_date
    payment_stages.move_due_dates(session, booking)
    booking.ics_sequence += 1
    booking.updated_at = clock.now()
    reminders.sync_booking(session, booking.tenant_id, booking.id)


def reschedule(session: Session, booking: Booking, new_date: date | None, links: Links, *,
               actor: str, actor_user_id: int | None = None, enforce_cutoff: bool = True) -> Booking:
    """Move a live booking to a free date and commit: the old date is freed, earlier links end,
    and the couple gets a new manage link with an updated calendar entry."""
    old_date = booking.event_date
    try:
        problem = reschedule_problem(session, booking, enforce_cutoff=enforce_cutoff)
        if problem:
            raise InvalidTransition(problem)
        _move(session, booking, new_date)
        audit.record(session, booking.tenant_id, "booking.rescheduled", actor=actor,
                     actor_user_id=actor_user_id, subject_type="booking", subject_id=booking.id,
                     **{"from": old_date.isoformat(), "to": new_date.isoformat()})
        booking_emails.revoke_links(session, booking)
        booking_emails.queue_booking_email(session, booking, "booking_rescheduled", links)
        tell_team.notify_team(
            session, booking.tenant_id, booking=booking, login_url=links.login(),
            event_key=f"booking_rescheduled-{booking.id}-{booking.ics_sequence}-{new_date}",
            sentence=f"Booking #{booking.id} ({booking.couple_names}) moved from "
                     f"{old_date.isoformat()} to {new_date.isoformat()}")
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _date_taken(session, booking.tenant_id, new_date) from None
    except DateTaken:
        session.rollback()
        raise _date_taken(session, booking.tenant_id, new_date) from None
    except DomainError:
        session.rollback()
        raise
    return booking


def edit_booking(session: Session, tenant_id: int, booking_id: int, details: BookingDetails,
                 links: Links, *, actor_user_id: int) -> Booking:
    """A tenant user corrects the couple's details; a new date moves the booking (no cut-off)."""
    booking = get_booking(session, tenant_id, booking_id)
    problems = _details_problems(details)
    if problems:
        session.rollback()
        raise ValidationFailed(problems)
    before = {k: str(getattr(booking, k) or "") for k in ("couple_names", "email", "phone", "venue",
                                                           "start_time", "notes")}
    _apply_details(booking, details)
    after = {k: str(getattr(booking, k) or "") for k in before}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        booking.updated_at = clock.now()
        audit.record(session, tenant_id, "booking.edited", actor="user", actor_user_id=actor_user_id,
                     subject_type="booking", subject_id=booking.id, changes=changes)
    if details.event_date is not None and details.event_date != booking.event_date:
        reschedule(session, booking, details.event_date, links, actor="user",
                   actor_user_id=actor_user_id, enforce_cutoff=False)
        invoices.follow_changes(session, tenant_id, booking.id)  # after the move committed
        return booking
    session.commit()
    return booking


def release_expired_holds(session: Session, limit: int = 500) -> int:
    """Expire unpaid bookings whose hold ran out, freeing their dates. Safe to run concurrently:
    each expiry is a guarded UPDATE, so a booking confirmed or expired meanwhile is left alone."""
    now = clock.now()
    due = list(session.scalars(
        select(Booking).where(Booking.status == "pending_deposit", Booking.hold_expires_at <= now,
                              ~payment_stages.deposit_processing(Booking.id))
        .order_by(Booking.hold_expires_at).limit(limit)))
    expired = 0
    for booking in due:
        try:
            transition(session, booking, "expired", actor="system")
        except InvalidTransition:
            session.rollback()
            continue
        session.commit()
        expired += 1
    return expired


def timeline(session: Session, tenant_id: int, booking_id: int) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.tenant_id == tenant_id, AuditEvent.subject_type == "booking",
                                 AuditEvent.subject_id == booking_id)
        .order_by(AuditEvent.created_at, AuditEvent.id)))
