"""Pure rota rules: clock changes, recurrences, codes, and each check on both sides of
its boundary."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from careteams.rota import rules
from careteams.rota.rules import Visit

LONDON = "Europe/London"
LDN = ZoneInfo(LONDON)


def local(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=LDN)


# ------------------------------------------------------------- clock changes


@pytest.mark.parametrize("change_day", [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)])
def test_daily_visit_stays_at_nine_local_across_the_change(change_day):
    occurrences = rules.occurrence_times("FREQ=DAILY", change_day - timedelta(days=3), time(9, 0), 60, LONDON,
                                         change_day - timedelta(days=2), change_day + timedelta(days=2),
                                         kind="practical_help")
    assert [d for d, _, _ in occurrences] == [change_day + timedelta(days=i) for i in range(-2, 3)]
    for day, start, end in occurrences:
        assert start.astimezone(LDN).time() == time(9, 0)
        assert start.astimezone(LDN).date() == day
        assert end - start == timedelta(hours=1)
    # The UTC instant moves by an hour across the change: that is what keeps 09:00 local.
    before = occurrences[0][1]
    after = occurrences[-1][1]
    assert {before.hour, after.hour} == {8, 9}


@pytest.mark.parametrize("night, hours", [
    (date(2026, 3, 28), 11), (date(2026, 10, 24), 13),
    (date(2027, 3, 27), 11), (date(2027, 10, 30), 13),
    (date(2026, 3, 21), 12), (date(2026, 10, 17), 12),
])
def test_overnight_shift_has_its_true_length(night, hours):
    [(day, start, end)] = rules.occurrence_times("FREQ=WEEKLY", night, time(20, 0), 12 * 60, LONDON, night, night,
                                                       kind="overnight")
    assert day == night
    assert start.astimezone(LDN).time() == time(20, 0)
    assert end.astimezone(LDN).time() == time(8, 0)
    assert rules.duration(start, end) == timedelta(hours=hours)
    # The trap: wall-clock subtraction of two London times says 12 hours on every night.
    assert end.astimezone(LDN) - start.astimezone(LDN) == timedelta(hours=12) or hours == 12


def test_wall_clock_subtraction_is_wrong_but_duration_is_right():
    start, end = local(2026, 10, 24, 20), local(2026, 10, 25, 8)
    assert end - start == timedelta(hours=12)  # zoneinfo: same tzinfo -> wall clock
    assert rules.duration(start, end) == timedelta(hours=13)


def test_nonexistent_local_time_is_refused_and_ambiguous_is_first():
    with pytest.raises(rules.NonexistentLocalTime):
        rules.localise(datetime(2026, 3, 29, 1, 30), LONDON)
    moved = rules.localise(datetime(2026, 3, 29, 1, 30), LONDON, strict=False)
    assert moved.astimezone(LDN).hour == 2 and moved.utcoffset() == timedelta(hours=1)
    ambiguous = rules.localise(datetime(2026, 10, 25, 1, 30), LONDON)
    assert ambiguous.utcoffset() == timedelta(hours=1)  # the first 01:30 (BST)
    assert rules.to_utc(datetime(2026, 7, 1, 9), LONDON) == datetime(2026, 7, 1, 8, tzinfo=UTC)


def test_recurrence_respects_rule_and_end_date():
    occ = rules.occurrence_times("FREQ=WEEKLY;BYDAY=MO,TH", date(2027, 1, 4), time(10), 90, LONDON,
                                 date(2027, 1, 1), date(2027, 1, 31), ends_on=date(2027, 1, 14),
                                 kind="companionship")
    assert [d for d, _, _ in occ] == [date(2027, 1, 4), date(2027, 1, 7), date(2027, 1, 11), date(2027, 1, 14)]
    assert rules.validate_rrule("FREQ=WEEKLY;BYDAY=MO") is None
    assert rules.validate_rrule("every monday") is not None
    assert rules.validate_rrule("FREQ=SOMETIMES") is not None
    assert rules.validate_rrule("FREQ=MINUTELY") is not None  # thousands of shifts a week
    assert rules.validate_rrule("FREQ=DAILY;BYHOUR=9,17") is not None  # twice a day: two series instead
    assert rules.validate_rrule("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1;UNTIL=20270101") is None
    assert rules.validate_rrule("FREQ=DAILY;INTERVAL=x") is not None
    assert "local date" in rules.validate_rrule("FREQ=DAILY;UNTIL=20270101T000000Z")


def test_week_bounds_are_local_mondays():
    start, end = rules.week_bounds(date(2026, 10, 28), LONDON)  # the week after the change
    assert start.astimezone(LDN) == local(2026, 10, 26, 0)
    assert end.astimezone(LDN) == local(2026, 11, 2, 0)
    start, end = rules.week_bounds(date(2026, 10, 25), LONDON)  # the change itself is a Sunday
    assert end - start == timedelta(days=7, hours=1)


# ------------------------------------------------------------- codes and waves


def test_codes_are_three_or_four_digits_and_avoid_taken():
    rng = random.Random(1)
    taken = {str(n) for n in range(100, 9999)}  # only 9999 left
    assert rules.new_code(taken, rng) == "9999"
    for _ in range(200):
        code = rules.new_code(set(), rng)
        assert code.isdigit() and 3 <= len(code) <= 4
    with pytest.raises(RuntimeError):
        rules.new_code({str(n) for n in range(100, 10000)}, rng)


def test_waves():
    assert rules.waves([1, 2, 3, 4, 5], 0) == [[1, 2, 3, 4, 5]]
    assert rules.waves([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert rules.waves([], 2) == []


def test_overlap_is_half_open():
    a = local(2027, 1, 4, 9)
    assert not rules.overlaps(a, a + timedelta(hours=1), a + timedelta(hours=1), a + timedelta(hours=2))
    assert rules.overlaps(a, a + timedelta(hours=1), a + timedelta(minutes=59), a + timedelta(hours=2))


# ------------------------------------------------------------- checks, both sides of each boundary

BASE = datetime(2027, 1, 4, 8, tzinfo=UTC)


def v(start, hours, **kw):
    return Visit(start, start + timedelta(hours=hours), **kw)


def codes(findings):
    return {f.code for f in findings}


def test_daily_rest_eleven_hours_boundary():
    day = v(BASE, 12)  # 08:00-20:00
    ok = v(BASE + timedelta(hours=23), 4)  # 07:00 next day: exactly 11 h rest
    short = v(BASE + timedelta(hours=23) - timedelta(minutes=1), 4)
    assert rules.check_daily_rest(ok, [day]) == []
    assert codes(rules.check_daily_rest(short, [day])) == {rules.REST}
    # Several short visits in a day leave a long night: no warning.
    visits = [v(BASE + timedelta(hours=h), 1) for h in (0, 4, 9)]
    assert rules.check_daily_rest(v(BASE + timedelta(hours=24), 1), visits) == []


def _weeks_of(hours_per_week: float, week_end: datetime, weeks: int = 17):
    out = []
    for w in range(weeks):
        start = week_end - timedelta(weeks=w + 1)
        # spread over 5 days, one block a day
        for d in range(5):
            out.append(v(start + timedelta(days=d, hours=6), hours_per_week / 5))
    return out


def test_weekly_average_over_48_boundary_and_opt_out():
    week = (BASE - timedelta(hours=8), BASE - timedelta(hours=8) + timedelta(weeks=1))
    at_limit = _weeks_of(48, week[1])
    probe = at_limit[0]  # a visit of this week, already counted once
    found, average, this_week = rules.check_weekly_hours(probe, at_limit, week, opted_out=False)
    assert round(average, 2) == 48.0 and found == []
    over = at_limit + [v(week[0] - timedelta(weeks=3) + timedelta(hours=1), 0.5)]
    found, average, this_week = rules.check_weekly_hours(probe, over, week, opted_out=False)
    assert average > 48 and codes(found) == {rules.WEEKLY_HOURS}
    assert "this week" in found[0].message and round(this_week) == 48
    found, _, _ = rules.check_weekly_hours(probe, over, week, opted_out=True)
    assert found == []


def test_break_after_six_hours_boundary():
    assert rules.check_break(v(BASE, 6)) == []
    assert codes(rules.check_break(v(BASE, 6 + 1 / 60))) == {rules.BREAK}
    assert rules.check_break(v(BASE, 7, break_minutes=20)) == []
    assert codes(rules.check_break(v(BASE, 7, break_minutes=19))) == {rules.BREAK}


def test_team_minimum_visit_boundary():
    assert rules.check_visit_length(v(BASE, 1), 60, False) == []
    assert codes(rules.check_visit_length(v(BASE, 59 / 60), 60, False)) == {rules.SHORT_VISIT}


def test_personal_care_thirty_and_fifteen_minute_boundaries():
    def pc(minutes):
        return rules.check_visit_length(Visit(BASE, BASE + timedelta(minutes=minutes), kind="personal_care"), 0, False)

    assert pc(30) == []
    assert codes(pc(29)) == {rules.SHORT_PERSONAL_CARE} and not pc(29)[0].blocking
    assert codes(pc(16)) == {rules.SHORT_PERSONAL_CARE}
    assert codes(pc(15)) == {rules.PERSONAL_CARE_TOO_SHORT} and pc(15)[0].blocking
    allowed = rules.check_visit_length(Visit(BASE, BASE + timedelta(minutes=15), kind="personal_care"), 0, True)
    assert codes(allowed) == {rules.PERSONAL_CARE_TOO_SHORT} and not allowed[0].blocking
    # Other kinds are not held to the personal-care minimum.
    assert rules.check_visit_length(Visit(BASE, BASE + timedelta(minutes=15), kind="companionship"), 0, False) == []


def test_travel_gap_boundary():
    # Two places 10 km apart (about), at 20 km/h: 30 minutes' travel.
    a = Visit(BASE, BASE + timedelta(hours=1), latitude=53.0, longitude=-1.0, place=1)
    km = rules.haversine_km(53.0, -1.0, 53.0 + 10 / 111.195, -1.0)
    assert km == pytest.approx(10, abs=0.01)
    needed = km / 20 * 60
    far_lat = 53.0 + 10 / 111.195

    def next_visit(gap_minutes, place=2):
        start = a.ends_at + timedelta(minutes=gap_minutes)
        return Visit(start, start + timedelta(hours=1), latitude=far_lat, longitude=-1.0, place=place)

    assert rules.check_travel(next_visit(needed + 0.5), [a], 20) == []
    assert codes(rules.check_travel(next_visit(needed - 0.5), [a], 20)) == {rules.TRAVEL}
    # Same place: no travel needed, whatever the gap.
    same = Visit(a.ends_at, a.ends_at + timedelta(hours=1), latitude=53.0, longitude=-1.0, place=1)
    assert rules.check_travel(same, [a], 20) == []
    # The visit before counts as well as the one after.
    later = Visit(a.starts_at - timedelta(minutes=needed - 0.5) - timedelta(hours=1),
                  a.starts_at - timedelta(minutes=needed - 0.5), latitude=far_lat, longitude=-1.0, place=2)
    assert codes(rules.check_travel(a, [later], 20)) == {rules.TRAVEL}


def test_check_visit_applies_the_coops_blocks():
    visit = v(BASE, 0.5)
    common = dict(week=(BASE, BASE + timedelta(weeks=1)), opted_out=False, team_minimum_minutes=60,
                  allow_short_personal_care=False, speed_kmh=20)
    warn = rules.check_visit(visit, [], **common)
    assert codes(warn) == {rules.SHORT_VISIT} and not any(f.blocking for f in warn)
    block = rules.check_visit(visit, [], blocking_checks=[rules.SHORT_VISIT], **common)
    assert all(f.blocking for f in block)


def test_notice_minutes():
    assert rules.notice_minutes(BASE, BASE + timedelta(hours=2)) == 120
    assert rules.notice_minutes(BASE + timedelta(hours=1), BASE) == 0
