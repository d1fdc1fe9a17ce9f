"""Schedule math: stages always sum to the total, none negative, whatever the rule."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.payments.schedules import (
    FULL,
    Installment,
    ScheduleRule,
    due_date,
    plan,
    round_half_up_share,
    rule_problems,
)

totals = st.integers(min_value=0, max_value=10**11)
percents = st.integers(min_value=0, max_value=FULL)


@st.composite
def installment_rules(draw):
    count = draw(st.integers(min_value=2, max_value=4))
    cuts = sorted(draw(st.lists(st.integers(0, FULL), min_size=count - 1, max_size=count - 1)))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, FULL], strict=True)]
    return ScheduleRule(mode="installments", deposit_bp=None, installments=tuple(
        Installment(s, draw(st.sampled_from(("booking", "event"))), draw(st.integers(0, 400)))
        for s in shares))


rules = st.one_of(
    st.builds(lambda bp, days: ScheduleRule(mode="deposit", deposit_bp=bp, balance_due_days=days),
              percents, st.integers(0, 730)),
    st.builds(lambda fixed, days: ScheduleRule(mode="deposit", deposit_bp=None,
                                               deposit_fixed_minor=fixed, balance_due_days=days),
              st.integers(0, 10**12), st.integers(0, 730)),
    installment_rules(),
)


@settings(max_examples=400, deadline=None)
@given(rule=rules, total=totals)
def test_stages_sum_to_the_total_and_none_is_negative(rule, total):
    stages = plan(rule, total)
    assert sum(s.amount_minor for s in stages) == total
    assert all(s.amount_minor > 0 for s in stages)
    assert [s.seq for s in stages] == list(range(1, len(stages) + 1))
    assert len(stages) <= (2 if rule.mode == "deposit" else len(rule.installments))


@settings(max_examples=300, deadline=None)
@given(bp=percents, total=totals)
def test_percentage_deposit_rounds_half_up_and_balance_is_the_rest(bp, total):
    stages = plan(ScheduleRule(mode="deposit", deposit_bp=bp), total)
    deposit = next((s.amount_minor for s in stages if s.kind == "deposit"), 0)
    exact = total * bp / FULL
    assert abs(deposit - exact) <= 0.5
    assert deposit == round_half_up_share(total, bp)
    balance = next((s.amount_minor for s in stages if s.kind == "balance"), 0)
    assert balance == total - deposit


@settings(max_examples=200, deadline=None)
@given(fixed=st.integers(0, 10**9), total=totals)
def test_fixed_deposit_never_exceeds_the_total(fixed, total):
    stages = plan(ScheduleRule(mode="deposit", deposit_bp=None, deposit_fixed_minor=fixed), total)
    deposit = next((s.amount_minor for s in stages if s.kind == "deposit"), 0)
    assert deposit == min(fixed, total)


@pytest.mark.parametrize(("total", "bp", "deposit"), [
    (1001, 5000, 501),      # 500.5 rounds up
    (999, 3333, 333),       # 332.9667
    (100000, 3000, 30000),  # JPY 100,000 at 30 %: ¥30,000
    (1, 5000, 1),           # 0.5 rounds up; the balance is then 0 and dropped
    (12345, 1250, 1543),    # 12.5 %: 1543.125
])
def test_known_deposits(total, bp, deposit):
    stages = plan(ScheduleRule(mode="deposit", deposit_bp=bp), total)
    assert stages[0].amount_minor == deposit
    assert sum(s.amount_minor for s in stages) == total


def test_three_equal_installments_of_one_hundred_lose_nothing():
    rule = ScheduleRule(mode="installments", deposit_bp=None, installments=(
        Installment(3334), Installment(3333, "event", 60), Installment(3333, "event", 14)))
    assert [s.amount_minor for s in plan(rule, 100)] == [33, 34, 33]  # running total rounded
    assert [s.amount_minor for s in plan(rule, 10)] == [3, 4, 3]


def test_tiny_totals_never_go_negative_with_half_shares():
    rule = ScheduleRule(mode="installments", deposit_bp=None, installments=(
        Installment(5000), Installment(5000, "event", 1)))
    assert [s.amount_minor for s in plan(rule, 1)] == [1]
    assert [s.amount_minor for s in plan(rule, 3)] == [2, 1]


@pytest.mark.parametrize("rule", [
    ScheduleRule(mode="deposit", deposit_bp=10001),
    ScheduleRule(mode="deposit", deposit_bp=None, deposit_fixed_minor=None),
    ScheduleRule(mode="deposit", deposit_bp=100, deposit_fixed_minor=100),
    ScheduleRule(mode="installments", installments=(Installment(FULL),)),
    ScheduleRule(mode="installments", installments=(Installment(5000), Installment(4000))),
    ScheduleRule(mode="installments", installments=tuple(Installment(2000) for _ in range(5))),
    ScheduleRule(mode="weekly"),
])
def test_bad_rules_are_refused(rule):
    assert rule_problems(rule)
    with pytest.raises(ValueError):
        plan(rule, 1000)


@settings(max_examples=300, deadline=None)
@given(anchor=st.sampled_from(("booking", "event")), offset=st.integers(0, 800),
       lead=st.integers(0, 900))
def test_due_dates_stay_between_booking_and_event(anchor, offset, lead):
    booked = date(2030, 3, 1)
    event = booked + timedelta(days=lead)
    due = due_date(anchor, offset, booked, event)
    assert booked <= due <= event


def test_event_relative_due_date_moves_with_the_event_and_booking_relative_does_not():
    booked = date(2030, 1, 10)
    assert due_date("event", 30, booked, date(2030, 6, 1)) == date(2030, 5, 2)
    assert due_date("event", 30, booked, date(2030, 8, 1)) == date(2030, 7, 2)
    assert due_date("booking", 14, booked, date(2030, 6, 1)) == date(2030, 1, 24)
    assert due_date("booking", 14, booked, date(2030, 8, 1)) == date(2030, 1, 24)
