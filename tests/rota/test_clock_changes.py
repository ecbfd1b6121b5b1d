"""Recurring visits across the clock changes (issue 13): a series never makes a visit the
rota would refuse as a one-off, and "this and following" never leaves two visits on a day.

The last Sundays of March and October 2027 in London: 28 March (01:00 GMT -> 02:00 BST)
and 31 October (02:00 BST -> 01:00 GMT).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota import rules
from careteams.rota.models import Shift, ShiftStatus
from careteams.rota.services.series import create_series
from careteams.rota.services.shifts import cancel_shift, update_shift
from careteams.scheduler import load_jobs
from tests.factories import CooperativeFactory, PersonFactory
from tests.rota.conftest import make_team

LDN = ZoneInfo("Europe/London")
SPRING = date(2027, 3, 28)
AUTUMN = date(2027, 10, 31)


def actor(person):
    return actor_for(person)


def occurrences(series_id) -> dict[date, Shift]:
    return {s.occurrence_date: s for s in db.session.scalars(sa.select(Shift).where(Shift.series_id == series_id))}


def minutes(shift: Shift) -> float:
    return rules.minutes_between(shift.starts_at, shift.ends_at)


def local(shift: Shift, which: str = "starts_at") -> datetime:
    return getattr(shift, which).astimezone(LDN)


def daily(world, start: time, minutes_: int, kind: str, first: date, now: datetime):
    return create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=DAILY", "first_date": first, "start_time": start, "duration_minutes": minutes_,
        "kind": kind}, now=now)


# ------------------------------------------------------------------ spring (March)


def test_a_0130_daily_series_across_the_spring_change_moves_on_by_the_gap(world):
    """Found: the 01:30 visit on the change night was of no length (and refused by the database)."""
    series = daily(world, time(1, 30), 60, "practical_help", SPRING - timedelta(days=3),
                   now=datetime(2027, 3, 20, 12, tzinfo=UTC))
    by_day = occurrences(series.id)
    assert {SPRING - timedelta(days=1), SPRING, SPRING + timedelta(days=1)} <= set(by_day)
    assert {minutes(s) for s in by_day.values()} == {60}
    change = by_day[SPRING]
    assert (local(change).time(), local(change, "ends_at").time()) == (time(2, 30), time(3, 30))
    assert local(by_day[SPRING + timedelta(days=1)]).time() == time(1, 30)


def test_the_materialise_job_across_the_spring_change_adds_every_co_ops_visits(world):
    """Found: the job hit the check constraint and rolled back every co-op's series."""
    early = datetime(2027, 1, 20, 12, tzinfo=UTC)  # the horizon (8 weeks) stops before 28 March
    night = daily(world, time(1, 30), 60, "practical_help", date(2027, 3, 1), now=early)
    other_coop = CooperativeFactory()
    other_team = make_team(other_coop, PersonFactory(), name="Bea")
    other = create_series(actor(other_team.leader), other_team.id, {
        "rrule": "FREQ=DAILY", "first_date": date(2027, 3, 1), "start_time": time(10), "duration_minutes": 60,
        "kind": "companionship"}, now=early)
    assert SPRING not in occurrences(night.id)
    added = load_jobs()["rota.materialise"].func(datetime(2027, 3, 10, 12, tzinfo=UTC))
    assert added > 0
    assert SPRING in occurrences(night.id) and minutes(occurrences(night.id)[SPRING]) == 60
    assert SPRING + timedelta(days=5) in occurrences(other.id)


def test_a_75_minute_personal_care_visit_at_0045_keeps_its_length_on_both_change_nights(world):
    """Found: 15 minutes on the spring night (a length the rota refuses as a one-off)."""
    spring = daily(world, time(0, 45), 75, "personal_care", SPRING - timedelta(days=1),
                   now=datetime(2027, 3, 20, 12, tzinfo=UTC))
    visit = occurrences(spring.id)[SPRING]
    assert minutes(visit) == 75
    assert (local(visit).time(), local(visit, "ends_at").time()) == (time(0, 45), time(3, 0))
    autumn = daily(world, time(0, 45), 75, "personal_care", AUTUMN - timedelta(days=1),
                   now=datetime(2027, 10, 20, 12, tzinfo=UTC))
    visit = occurrences(autumn.id)[AUTUMN]
    assert minutes(visit) == 75
    assert (local(visit).time(), local(visit, "ends_at").time()) == (time(0, 45), time(1, 0))
    assert local(visit, "ends_at").utcoffset() == timedelta(0)  # 01:00 GMT, after the change


def test_a_0130_hour_long_visit_on_the_autumn_night_is_an_hour_not_two(world):
    series = daily(world, time(1, 30), 60, "companionship", AUTUMN - timedelta(days=2),
                   now=datetime(2027, 10, 20, 12, tzinfo=UTC))
    by_day = occurrences(series.id)
    assert {minutes(s) for s in by_day.values()} == {60}
    assert local(by_day[AUTUMN]).time() == time(1, 30) and local(by_day[AUTUMN]).utcoffset() == timedelta(hours=1)


def test_overnight_and_sleep_in_keep_their_wall_clock_end(world):
    for kind in ("overnight", "sleep_in"):
        for night, hours in ((SPRING - timedelta(days=1), 9), (AUTUMN - timedelta(days=1), 11),
                             (AUTUMN + timedelta(days=6), 10)):
            series = create_series(actor(world.leader), world.team.id, {
                "rrule": "FREQ=DAILY", "first_date": night, "ends_on": night, "start_time": time(22),
                "duration_minutes": 600, "kind": kind, "break_minutes": 60}, now=datetime.combine(
                    night - timedelta(days=7), time(12), UTC))
            [visit] = occurrences(series.id).values()
            assert local(visit, "ends_at").time() == time(8) and minutes(visit) == hours * 60


def test_creating_the_series_over_the_change_answers_201_not_409(world, client, auth_headers, time_machine):
    """Found: where the horizon already covered the change night, creating the series said
    409 "changed at the same time"."""
    time_machine.move_to(datetime(2027, 3, 20, 12, tzinfo=UTC), tick=False)
    db.session.commit()
    response = client.post(f"/api/v1/teams/{world.team.id}/series", headers=auth_headers(world.leader), json={
        "rrule": "FREQ=DAILY", "first_date": "2027-03-25", "start_time": "01:30", "duration_minutes": 60,
        "kind": "practical_help"})
    assert response.status_code == 201, response.json
    db.session.expire_all()
    visit = db.session.scalar(sa.select(Shift).where(Shift.team_id == world.team.id, Shift.occurrence_date == SPRING))
    assert minutes(visit) == 60


# ------------------------------------------------------------------ this and following


def visits_on(team_id: int, day: date) -> list[Shift]:
    return list(db.session.scalars(sa.select(Shift).where(
        Shift.team_id == team_id, Shift.status != ShiftStatus.cancelled,
        sa.or_(Shift.occurrence_date == day,
               sa.and_(Shift.starts_at >= datetime.combine(day, time.min, LDN),
                       Shift.starts_at < datetime.combine(day + timedelta(days=1), time.min, LDN)))))
        .unique())


def test_this_and_following_keeps_a_visit_edited_alone_and_skips_its_day(world):
    """Found: a visit edited on its own, then "this and following" from an earlier visit,
    left two visits on that day (the edited one and a new one from the new series)."""
    now = datetime(2026, 12, 28, 12, tzinfo=UTC)
    series = create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=WEEKLY;BYDAY=MO", "first_date": date(2027, 1, 4), "start_time": time(9),
        "duration_minutes": 60, "kind": "companionship"}, now=now)
    by_day = occurrences(series.id)
    edited_day = date(2027, 1, 18)
    update_shift(actor(world.leader), by_day[edited_day].id, {"starts_at": datetime(2027, 1, 18, 11),
                                                             "ends_at": datetime(2027, 1, 18, 12)}, now=now)
    update_shift(actor(world.leader), by_day[date(2027, 1, 11)].id, {"start_time": time(14)}, scope="following",
                 now=now)
    db.session.expire_all()
    for day in (date(2027, 1, 4) + timedelta(weeks=i) for i in range(8)):
        assert len(visits_on(world.team.id, day)) == 1, day
    [kept] = visits_on(world.team.id, edited_day)
    assert local(kept).time() == time(11) and kept.detached  # its own edit stands
    assert local(visits_on(world.team.id, date(2027, 1, 25))[0]).time() == time(14)
    assert local(visits_on(world.team.id, date(2027, 1, 11))[0]).time() == time(14)


def test_this_and_following_from_a_visit_edited_alone_makes_it_follow(world):
    now = datetime(2026, 12, 28, 12, tzinfo=UTC)
    series = create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=WEEKLY;BYDAY=MO", "first_date": date(2027, 1, 4), "start_time": time(9),
        "duration_minutes": 60, "kind": "companionship"}, now=now)
    day = date(2027, 1, 11)
    shift_id = occurrences(series.id)[day].id
    update_shift(actor(world.leader), shift_id, {"notes": "Ring first"}, now=now)
    update_shift(actor(world.leader), shift_id, {"start_time": time(15)}, scope="following", now=now)
    db.session.expire_all()
    [visit] = visits_on(world.team.id, day)
    assert visit.id == shift_id and local(visit).time() == time(15) and not visit.detached
    assert [len(visits_on(world.team.id, day + timedelta(weeks=i))) for i in range(6)] == [1] * 6


def test_this_and_following_does_not_bring_back_a_cancelled_visit(world):
    now = datetime(2026, 12, 28, 12, tzinfo=UTC)
    series = create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=WEEKLY;BYDAY=MO", "first_date": date(2027, 1, 4), "start_time": time(9),
        "duration_minutes": 60, "kind": "companionship"}, now=now)
    by_day = occurrences(series.id)
    cancel_shift(actor(world.leader), by_day[date(2027, 1, 18)].id, "In hospital", now=now)
    update_shift(actor(world.leader), by_day[date(2027, 1, 11)].id, {"start_time": time(14)}, scope="following",
                 now=now)
    db.session.expire_all()
    assert visits_on(world.team.id, date(2027, 1, 18)) == []
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Shift).where(
        Shift.team_id == world.team.id, Shift.occurrence_date == date(2027, 1, 18)))
    assert total == 1
