"""Payment schedules as pure functions: how a booking's total splits into stages, and when each
stage is due.

Invariants (property-tested in tests/unit/test_schedules.py):
- the stages of a plan sum exactly to the total and none is negative (zero stages are dropped);
- a percentage deposit is round-half-up(total * pct); the balance is total - deposit;
- installments round their running total, never each share, so rounding cannot lose or add a
  minor unit whatever the number of installments;
- every stage is a multiple of the currency's rounding `step` (10 for KWD, 100 for ISK) when the
  total is; the last stage takes whatever remainder a total off the step leaves;
- a due date never falls before the booking date nor after the event date.
Percentages are basis points (1 % = 100) so 12.5 % is exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_INSTALLMENTS = 4
FULL = 10_000  # 100 % in basis points
ANCHORS = ("booking", "event")


@dataclass(frozen=True)
class Installment:
    """A share of the total due `offset_days` after the booking date or before the event date."""

    share_bp: int
    anchor: str = "event"
    offset_days: int = 0


@dataclass(frozen=True)
class ScheduleRule:
    """Either a deposit (percent or fixed) plus a balance due `balance_due_days` before the event,
    or 2 to 4 installments whose first one is paid when booking (it confirms the booking)."""

    mode: str = "deposit"  # deposit | installments
    deposit_bp: int | None = 3_000
    deposit_fixed_minor: int | None = None
    balance_due_days: int = 30
    installments: tuple[Installment, ...] = ()


@dataclass(frozen=True)
class PlannedStage:
    seq: int
    kind: str  # deposit | balance | installment
    label: str
    amount_minor: int
    due_anchor: str
    due_offset_days: int


def round_half_up_share(total_minor: int, share_bp: int, step: int = 1) -> int:
    """round-half-up(total * share) to a multiple of `step`, in integers so no float ever
    touches money."""
    if total_minor < 0 or share_bp < 0 or step < 1:
        raise ValueError("amounts and shares are never negative")
    return (2 * total_minor * share_bp + FULL * step) // (2 * FULL * step) * step


def rule_problems(rule: ScheduleRule) -> dict[str, str]:
    """Why a rule cannot be used, field by field; empty when it is valid."""
    problems: dict[str, str] = {}
    if rule.mode == "deposit":
        if (rule.deposit_bp is None) == (rule.deposit_fixed_minor is None):
            problems["deposit"] = "Give the deposit either as a percentage or as a fixed amount."
        elif rule.deposit_bp is not None and not 0 <= rule.deposit_bp <= FULL:
            problems["deposit"] = "The deposit percentage is between 0 and 100."
        elif rule.deposit_fixed_minor is not None and rule.deposit_fixed_minor < 0:
            problems["deposit"] = "The deposit cannot be negative."
        if not 0 <= rule.balance_due_days <= 730:
            problems["balance_due_days"] = "The balance is due 0 to 730 days before the event."
    elif rule.mode == "installments":
        count = len(rule.installments)
        if not 2 <= count <= MAX_INSTALLMENTS:
            problems["installments"] = f"A schedule has 2 to {MAX_INSTALLMENTS} installments."
        elif any(i.share_bp < 0 for i in rule.installments):
            problems["installments"] = "No installment can be negative."
        elif sum(i.share_bp for i in rule.installments) != FULL:
            problems["installments"] = "The installments must add up to 100 %."
        elif any(i.anchor not in ANCHORS or not 0 <= i.offset_days <= 730
                 for i in rule.installments):
            problems["installments"] = ("Each installment is due 0 to 730 days after booking or "
                                        "before the event.")
    else:
        problems["mode"] = "Choose a deposit and balance, or installments."
    return problems


def plan(rule: ScheduleRule, total_minor: int, step: int = 1) -> list[PlannedStage]:
    """The stages for a booking of `total_minor`, in payment order, each rounded to `step`
    (the currency's rounding step). The first stage (when there is one) is due at booking and
    confirms the booking; a zero total gives no stages."""
    problems = rule_problems(rule)
    if problems:
        raise ValueError("; ".join(problems.values()))
    if total_minor < 0:
        raise ValueError("a total is never negative")
    if rule.mode == "deposit":
        if rule.deposit_fixed_minor is not None:
            deposit = min(rule.deposit_fixed_minor, total_minor)
        else:
            deposit = min(round_half_up_share(total_minor, rule.deposit_bp or 0, step),
                          total_minor)
        raw = [("deposit", "Deposit", deposit, "booking", 0),
               ("balance", "Balance", total_minor - deposit, "event", rule.balance_due_days)]
    else:
        raw = []
        running_bp = 0
        paid_so_far = 0
        count = len(rule.installments)
        for n, inst in enumerate(rule.installments, start=1):
            running_bp += inst.share_bp
            cumulative = (total_minor if n == count
                          else min(round_half_up_share(total_minor, running_bp, step), total_minor))
            amount = cumulative - paid_so_far
            paid_so_far = cumulative
            anchor, offset = ("booking", 0) if n == 1 else (inst.anchor, inst.offset_days)
            raw.append(("deposit" if n == 1 else "installment",
                        f"Deposit (installment 1 of {count})" if n == 1
                        else f"Installment {n} of {count}", amount, anchor, offset))
    stages = [r for r in raw if r[2] > 0]
    return [PlannedStage(seq, kind, label, amount, anchor, offset)
            for seq, (kind, label, amount, anchor, offset) in enumerate(stages, start=1)]


def due_date(anchor: str, offset_days: int, booked_on: date, event_on: date) -> date:
    """When a stage is due: `offset_days` after booking or before the event, kept between the
    two (a balance "30 days before" an event booked 10 days ahead is due on the booking day)."""
    if anchor == "booking":
        day = booked_on + timedelta(days=offset_days)
    elif anchor == "event":
        day = event_on - timedelta(days=offset_days)
    else:
        raise ValueError(f"unknown anchor {anchor!r}")
    latest = max(booked_on, event_on)
    return min(max(day, booked_on), latest)
