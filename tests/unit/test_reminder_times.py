from datetime import UTC, date, datetime, time

import pytest

from app.services.reminders.times import occurrence, resolve_local


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("tz,day,expected", [
    ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 14, 0)),    # spring forward: EDT -4
    ("America/New_York", date(2026, 3, 7), utc(2026, 3, 7, 15, 0)),    # the day before: EST -5
    ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 15, 0)),  # fall back: EST -5 at 10:00
    ("America/New_York", date(2026, 10, 31), utc(2026, 10, 31, 14, 0)),
    ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 29, 8, 0)),      # spring forward: CEST +2
    ("Europe/Berlin", date(2026, 3, 28), utc(2026, 3, 28, 9, 0)),
    ("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 25, 9, 0)),    # fall back: CET +1
    ("Europe/Berlin", date(2026, 10, 24), utc(2026, 10, 24, 8, 0)),
    ("Asia/Kathmandu", date(2026, 6, 1), utc(2026, 6, 1, 4, 15)),      # +05:45
])
def test_ten_oclock_local_on_transition_days(tz, day, expected):
    assert resolve_local(day, time(10, 0), tz) == expected


def test_nonexistent_local_time_moves_forward_by_the_gap():
    # 02:30 does not exist on 2026-03-08 in New York: it is sent at 03:30 EDT.
    assert resolve_local(date(2026, 3, 8), time(2, 30), "America/New_York") == utc(2026, 3, 8, 7, 30)
    # Berlin skips 02:00-03:00 on 2026-03-29: 02:30 becomes 03:30 CEST.
    assert resolve_local(date(2026, 3, 29), time(2, 30), "Europe/Berlin") == utc(2026, 3, 29, 1, 30)


def test_ambiguous_local_time_takes_the_first_occurrence():
    # 01:30 happens twice on 2026-11-01 in New York; the first is EDT (-4).
    assert resolve_local(date(2026, 11, 1), time(1, 30), "America/New_York") == utc(2026, 11, 1, 5, 30)
    # 02:30 happens twice on 2026-10-25 in Berlin; the first is CEST (+2).
    assert resolve_local(date(2026, 10, 25), time(2, 30), "Europe/Berlin") == utc(2026, 10, 25, 0, 30)


def test_a_fold_given_by_the_caller_is_ignored():
    assert resolve_local(date(2026, 11, 1), time(1, 30, fold=1), "America/New_York") == utc(2026, 11, 1, 5, 30)


def test_before_event_occurrence_and_its_window_end_at_the_event_start():
    occ = occurrence("before_event", 7, 3, time(10), "America/New_York", event_date=date(2026, 11, 4),
                     start_time=time(16, 0))
    assert occ.local_date == date(2026, 11, 1)
    assert occ.due_at == utc(2026, 11, 1, 15, 0)  # the fall-back day, EST
    assert occ.window_ends_at == utc(2026, 11, 4, 21, 0)
    assert occ.key == "7:0"


def test_after_event_and_balance_occurrences():
    after = occurrence("after_event", 2, 1, time(10), "Asia/Kathmandu", event_date=date(2026, 6, 1),
                       start_time=None)
    assert after.due_at == utc(2026, 6, 2, 4, 15) and after.window_ends_at > after.due_at
    balance = occurrence("balance_due", 3, 7, time(10), "Europe/Berlin", event_date=date(2026, 9, 1),
                         start_time=None, stage_id=42, stage_due=date(2026, 8, 1))
    assert balance.local_date == date(2026, 7, 25) and balance.key == "3:42"
    with pytest.raises(ValueError):
        occurrence("balance_due", 3, 7, time(10), "UTC", event_date=date(2026, 9, 1), start_time=None)


def test_past_due_occurrences_count_days_after_the_stage_due_date_across_dst():
    # Due 2026-03-04 in New York; summer time starts on the 8th, between the two reminders.
    def past_due(rule_id, days):
        return occurrence("past_due", rule_id, days, time(10), "America/New_York",
                          event_date=date(2026, 5, 1), start_time=None, stage_id=42,
                          stage_due=date(2026, 3, 4))

    three, ten = past_due(9, 3), past_due(10, 10)
    assert (three.local_date, three.due_at) == (date(2026, 3, 7), utc(2026, 3, 7, 15, 0))  # EST
    assert (ten.local_date, ten.due_at) == (date(2026, 3, 14), utc(2026, 3, 14, 14, 0))   # EDT
    assert three.key == "9:42" and three.window_ends_at == utc(2026, 3, 8, 15, 0)
    with pytest.raises(ValueError):
        occurrence("past_due", 9, 3, time(10), "America/New_York", event_date=date(2026, 5, 1),
                   start_time=None)
