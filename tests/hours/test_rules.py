"""Pure rules: every state transition, rounding, splits, periods, the fair-pay threshold."""

from __future__ import annotations

import inspect
import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.rules import EntryKind, Frequency, PayTerms
from careteams.hours.rules import TimesheetAction as A
from careteams.hours.rules import TimesheetStatus as S

EXPECTED = {
    (S.pending, A.edit): S.pending, (S.pending, A.submit): S.submitted,
    (S.submitted, A.confirm): S.confirmed, (S.submitted, A.adjust): S.adjustment_proposed,
    (S.submitted, A.dispute): S.disputed, (S.submitted, A.auto_confirm): S.confirmed,
    (S.adjustment_proposed, A.accept): S.confirmed, (S.adjustment_proposed, A.reject): S.disputed,
    (S.disputed, A.resolve): S.confirmed, (S.disputed, A.resolve_void): S.void,
    (S.disputed, A.confirm): S.confirmed,  # issue 17: the checker confirms after the worker's answer
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_transition(status, action):
    if (status, action) in EXPECTED:
        assert rules.next_status(status, action) == EXPECTED[(status, action)]
    else:
        with pytest.raises(rules.InvalidTransition):
            rules.next_status(status, action)


@pytest.mark.parametrize("action", list(A))
def test_confirmed_and_void_are_final(action):
    for final in (S.confirmed, S.void):
        with pytest.raises(rules.InvalidTransition):
            rules.next_status(final, action)


def test_auto_confirm_only_submitted_after_the_set_time():
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert rules.due_for_auto_confirm(S.submitted, at, at + timedelta(hours=72), 72)
    assert not rules.due_for_auto_confirm(S.submitted, at, at + timedelta(hours=71, minutes=59), 72)
    assert not rules.due_for_auto_confirm(S.pending, at, at + timedelta(days=30), 72)
    assert not rules.due_for_auto_confirm(S.adjustment_proposed, at, at + timedelta(days=30), 72)


def test_reminder_at_most_once_a_day():
    today = date(2026, 11, 3)
    assert rules.reminder_due(S.pending, None, today)
    assert rules.reminder_due(S.pending, date(2026, 11, 2), today)
    assert not rules.reminder_due(S.pending, today, today)
    assert not rules.reminder_due(S.submitted, None, today)


def test_overnight_across_the_october_clock_change_is_13_hours():
    tz = ZoneInfo("Europe/London")
    start = datetime(2026, 10, 24, 20, 0, tzinfo=tz)
    end = datetime(2026, 10, 25, 8, 0, tzinfo=tz)
    assert end - start == timedelta(hours=12)  # wall clock: the trap
    assert rules.worked_minutes(start, end, 0) == 13 * 60
    assert rules.worked_minutes(datetime(2026, 3, 28, 20, tzinfo=tz), datetime(2026, 3, 29, 8, tzinfo=tz), 30) == 11 * 60 - 30


def test_local_times_refuses_a_time_the_clock_skips():
    with pytest.raises(ValueError):
        rules.local_times(date(2026, 3, 29), (1, 30), (3, 0), "Europe/London")
    started, ended = rules.local_times(date(2026, 3, 29), (0, 30), (3, 0), "Europe/London")
    assert ended - started == timedelta(hours=1, minutes=30)


def test_local_times_overnight_and_zone():
    started, ended = rules.local_times(date(2026, 10, 24), (20, 0), (8, 0), "Europe/London")
    assert started == datetime(2026, 10, 24, 19, 0, tzinfo=UTC)
    assert ended == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("value, pence", [(Fraction(1, 2), 1), (Fraction(3, 2), 2), (Fraction(5, 2), 3),
                                          (Fraction(2499, 1000), 2), (Fraction(-3, 2), -2), (Fraction(315, 2), 158),
                                          (Fraction(11875, 3), 3958)])
def test_round_half_up(value, pence):
    assert rules.round_half_up(value) == pence


def test_split_by_shares_sums_to_the_total():
    assert rules.split_by_shares(5299, [60, 40]) == [3179, 2120]
    assert rules.split_by_shares(100, [33, 33, 34]) == [33, 33, 34]
    assert rules.split_by_shares(1, [50, 50]) == [1, 0]
    assert sum(rules.split_by_shares(-2663, [60, 40])) == -2663
    with pytest.raises(ValueError):
        rules.split_by_shares(100, [60, 30])


def test_rate_on_picks_the_rate_in_force():
    rates = [(date(2026, 1, 1), 1250), (date(2026, 10, 15), 1300)]
    assert rules.rate_on(rates, date(2026, 10, 14)) == 1250
    assert rules.rate_on(rates, date(2026, 10, 15)) == 1300
    assert rules.rate_on(rates, date(2025, 12, 31)) is None


def test_pay_lines_independent_deduction_and_contribution():
    terms = PayTerms(employed=False, hourly_pence=1600)
    lines = rules.pay_lines(rules.EntryFacts(EntryKind.visit, 85), terms)
    assert [(line.element, line.pay_pence, line.charge_pence) for line in lines] == [("hours", 2097, 2663)]
    assert all(type(line.pay_pence) is int and type(line.charge_pence) is int for line in lines)


def test_sleep_in_flat_and_cancellation_by_setting():
    terms = PayTerms(employed=True, hourly_pence=1300, sleep_in_pence=9000, cancellation_percent=Decimal("50"))
    sleep = rules.pay_lines(rules.EntryFacts(EntryKind.sleep_in, 600, travel_minutes=0), terms)
    assert [(line.element, line.pay_pence) for line in sleep] == [("sleep_in", 9000)]
    cancel = rules.pay_lines(rules.EntryFacts(EntryKind.cancellation, 90), terms)
    assert [(line.element, line.pay_pence) for line in cancel] == [("cancellation", 975)]
    assert rules.cancellation_pay_due(60, 24, Decimal("50"))
    assert not rules.cancellation_pay_due(24 * 60, 24, Decimal("50"))
    assert not rules.cancellation_pay_due(60, 24, Decimal("0"))


def test_period_bounds():
    assert rules.period_bounds(Frequency.monthly, date(2026, 12, 1)) == (date(2026, 12, 1), date(2027, 1, 1))
    assert rules.period_bounds(Frequency.weekly, date(2026, 10, 19)) == (date(2026, 10, 19), date(2026, 10, 26))
    with pytest.raises(ValueError):
        rules.period_bounds(Frequency.weekly, date(2026, 10, 20))


def test_minimum_wage_table_comes_from_configuration():
    assert rules.minimum_hourly_pence("21_and_over", date(2026, 3, 31)) == (1221, date(2025, 4, 1))
    assert rules.minimum_hourly_pence("21_and_over", date(2026, 4, 1)) == (1271, date(2026, 4, 1))
    assert rules.minimum_hourly_pence("18_to_20", date(2025, 6, 1))[0] == 1000
    assert rules.minimum_hourly_pence("18_to_20", date(2026, 6, 1))[0] == 1085
    assert rules.age_band(date(2006, 4, 2), date(2026, 4, 1)) == "18_to_20"  # turns 20 next day
    assert rules.age_band(date(2005, 4, 1), date(2026, 4, 1)) == "21_and_over"
    assert rules.age_band(None, date(2026, 4, 1)) == "21_and_over"
    assert rules.age_band(date(2010, 1, 1), date(2026, 4, 1)) == "under_18"


def test_fair_pay_just_above_and_just_below_the_threshold():
    # 10 hours at exactly £12.71 an hour is not below; one penny less in total is.
    at = rules.fair_pay(12710, 600, 1271)
    assert not at.below and at.effective_pence_per_hour == Decimal("1271.00")
    below = rules.fair_pay(12709, 600, 1271, "21 and over")
    assert below.below and "BELOW" in below.arithmetic
    assert "£127.09 pay ÷ 10 h 00 min working time = £12.71 an hour" in below.arithmetic  # shown rounded, compared exactly
    # Travel and waiting count: 60 min paid at £13.00 but 63 min worked is £12.38 an hour.
    assert rules.fair_pay(1300, 63, 1271).below
    assert not rules.fair_pay(1300, 61, 1271).below


def test_turnover_and_shares():
    assert rules.annualised_turnover_percent(1, 22, 21) == Decimal("55.8")
    assert rules.annualised_turnover_percent(0, 0, 0) == Decimal("0.0")
    assert rules.share_percent(87, 100) == Decimal("87.0")


# ---------------------------------------------------------------- money is never a float


def test_every_money_column_is_integer_or_numeric(app):
    checked = 0
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if set(column.name.split("_")) & {"pence", "amount", "rate", "percent", "mileage"}:
                assert isinstance(column.type, (sa.Integer, sa.Numeric)) and not isinstance(column.type, sa.Float), \
                    f"{table.name}.{column.name} is {column.type!r}"
                if isinstance(column.type, sa.Numeric):
                    assert column.type.asdecimal, f"{table.name}.{column.name} would load as float"
                checked += 1
    assert checked >= 15


def test_hours_rules_never_return_floats():
    hints_checked = 0
    for name, func in inspect.getmembers(rules, inspect.isfunction):
        if func.__module__ != rules.__name__:
            continue
        returned = typing.get_type_hints(func).get("return")
        assert returned is not float and "float" not in str(returned), name
        hints_checked += 1
    assert hints_checked > 10
    for dataclass_ in (rules.PayLine, rules.PayTerms, rules.FairPay, rules.EntryFacts):
        for field_name, hint in typing.get_type_hints(dataclass_).items():
            assert hint is not float, f"{dataclass_.__name__}.{field_name}"
