"""When a reminder is due: local wall times resolved per occurrence with zoneinfo.

DST (DESIGN.md "Time"): a wall time that does not exist (inside a spring-forward gap) moves forward
by the length of the gap (02:30 on the US spring-forward day is sent at 03:30 EDT); an ambiguous
one (inside a fall-back overlap) takes the first occurrence (01:30 EDT, not 01:30 EST). Both
follow from resolving with fold=0, which uses the offset in force before the transition.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.models.reminder import STAGE_KINDS

# How long after its moment a reminder may still go out (a consumer down, the queue lost).
AFTER_EVENT_WINDOW = timedelta(days=2)
# Payment reminders, before the due date (balance_due) and after it (past_due).
BALANCE_WINDOW = timedelta(days=1)


def resolve_local(day: date, wall: time, timezone: str) -> datetime:
    """The UTC instant of `wall` o'clock on `day` in `timezone` (fold=0: see the module doc)."""
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Occurrence:
    key: str
    kind: str
    rule_id: int
    stage_id: int | None
    local_date: date
    local_time: time
    timezone: str
    due_at: datetime
    window_ends_at: datetime


def event_start(event_date: date, start_time: time | None, timezone: str) -> datetime:
    """When the event begins; without a start time, the start of its day."""
    return resolve_local(event_date, start_time or time(0, 0), timezone)


def occurrence(kind: str, rule_id: int, offset_days: int, send_time: time, timezone: str, *,
               event_date: date, start_time: time | None, stage_id: int | None = None,
               stage_due: date | None = None) -> Occurrence:
    """The reminder a rule gives for one booking (and one stage, for balance and past-due
    reminders: `offset_days` before, respectively after, the stage's due date)."""
    if kind == "before_event":
        day = event_date - timedelta(days=offset_days)
    elif kind == "after_event":
        day = event_date + timedelta(days=offset_days)
    elif kind in STAGE_KINDS:
        if stage_due is None:
            raise ValueError("payment reminders need the stage's due date")
        day = stage_due + timedelta(days=offset_days if kind == "past_due" else -offset_days)
    else:
        raise ValueError(f"unknown reminder kind {kind!r}")
    due = resolve_local(day, send_time, timezone)
    if kind == "before_event":
        window_end = max(due, event_start(event_date, start_time, timezone))
    elif kind == "after_event":
        window_end = due + AFTER_EVENT_WINDOW
    else:
        window_end = due + BALANCE_WINDOW
    return Occurrence(key=f"{rule_id}:{stage_id or 0}", kind=kind, rule_id=rule_id, stage_id=stage_id,
                      local_date=day, local_time=send_time, timezone=timezone, due_at=due,
                      window_ends_at=window_end)
