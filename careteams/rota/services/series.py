"""Recurring visits: creating them, adding their occurrences up to the horizon (also
from the clock), and splitting one for "this and the following visits"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import ValidationError, ensure
from careteams.extensions import db
from careteams.jobs_util import run_each
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Shift, ShiftKind, ShiftSeries, ShiftStatus
from careteams.rota.services.checks import (
    findings_for,
    refuse_blocking,
    refuse_outside_business_window,
)
from careteams.rota.services.common import booked_elsewhere, team_with_access, unbook
from careteams.rota.services.settings import settings_for
from careteams.rota.services.tasks import chosen_tasks
from careteams.teams.models import Team


def create_series(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> ShiftSeries:
    """A recurring visit; its occurrences are added to the rota up to the co-op's horizon."""
    now = now or utcnow()
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    problem = rules.validate_rrule(data["rrule"])
    if problem:
        raise ValidationError(details={"fields": {"rrule": [problem]}})
    refuse_outside_business_window(team, {"first_date": data["first_date"], "ends_on": data.get("ends_on")}, now)
    series = ShiftSeries(team_id=team.id, rrule=data["rrule"].strip(), first_date=data["first_date"],
                         start_time=data["start_time"], duration_minutes=data["duration_minutes"],
                         ends_on=data.get("ends_on"), kind=data["kind"], break_minutes=data.get("break_minutes") or 0,
                         required_skills=sorted(set(data.get("required_skills") or [])),
                         notes=data.get("notes") or "", created_by_id=actor.person_id,
                         tasks=chosen_tasks(actor, team, access, data.get("tasks") or []))
    sample = Shift(team_id=team.id, kind=series.kind, break_minutes=series.break_minutes,
                   starts_at=datetime(2026, 1, 5, 12, tzinfo=UTC),
                   ends_at=datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(minutes=series.duration_minutes))
    refuse_blocking(findings_for(sample, team, None))
    db.session.add(series)
    db.session.flush()
    materialise_series(series, now)
    return series


def materialise_series(series: ShiftSeries, now: datetime, from_date: date | None = None) -> int:
    """Add the series' occurrences up to the horizon that are not there yet (idempotent:
    one shift per series per occurrence date, also unique in the database)."""
    team = series.team
    settings = settings_for(team.cooperative_id)
    today = now.astimezone(ZoneInfo(team.zone)).date()
    start = max(from_date or today, today)
    horizon = today + timedelta(weeks=settings.horizon_weeks)
    existing = set(db.session.scalars(sa.select(Shift.occurrence_date).where(Shift.series_id == series.id)))
    added = 0
    for day, starts_at, ends_at in rules.occurrence_times(series.rrule, series.first_date, series.start_time,
                                                           series.duration_minutes, team.zone, start, horizon,
                                                           series.ends_on, kind=ShiftKind(series.kind).value):
        if day in existing:
            continue
        shift = Shift(team_id=team.id, series_id=series.id, occurrence_date=day, starts_at=starts_at,
                      ends_at=ends_at, kind=series.kind, required_skills=list(series.required_skills or []),
                      break_minutes=series.break_minutes, notes=series.notes, status=ShiftStatus.open,
                      tasks=list(series.tasks or []))
        _refuse_like_a_one_off(shift, team, settings, day)
        db.session.add(shift)
        added += 1
    db.session.flush()
    return added


def _refuse_like_a_one_off(shift: Shift, team: Team, settings, day: date) -> None:
    """A series never makes a visit the rota would refuse as a one-off (rules.occurrence_span
    keeps lengths; this is the belt to its braces, e.g. a co-op that blocks the break check
    and an overnight visit an hour longer on the autumn night)."""
    if shift.ends_at <= shift.starts_at or rules.duration(shift.starts_at, shift.ends_at) > rules.MAX_SHIFT:
        raise ValidationError(details={"fields": {"start_time": [f"The visit on {day:%d %B %Y} would have no length."]}})
    blocking = [f for f in findings_for(shift, team, None, settings) if f.blocking]
    if blocking:
        raise ValidationError("The co-op's rota rules do not allow this.", code="check_failed",
                              details={"date": day.isoformat(),
                                       "checks": [{"code": f.code, "message": f.message} for f in blocking]})


def split_series(actor: Actor, shift: Shift, team: Team, changes: dict, now: datetime) -> ShiftSeries:
    """'This and following': the old pattern ends the day before; a new one starts here.
    `changes["tasks"]`, if given, is already checked against the plan (update_shift)."""
    old = db.session.get(ShiftSeries, shift.series_id)
    day = shift.occurrence_date
    start_time = changes.get("start_time", old.start_time)
    new = ShiftSeries(team_id=old.team_id, rrule=changes.get("rrule", old.rrule), first_date=day,
                      start_time=start_time, duration_minutes=changes.get("duration_minutes", old.duration_minutes),
                      ends_on=old.ends_on, kind=changes.get("kind", old.kind),
                      required_skills=sorted(set(changes.get("required_skills", old.required_skills or []))),
                      break_minutes=changes.get("break_minutes", old.break_minutes),
                      notes=changes.get("notes", old.notes), created_by_id=actor.person_id,
                      tasks=list(changes.get("tasks", old.tasks or [])))
    problem = rules.validate_rrule(new.rrule)
    if problem:
        raise ValidationError(details={"fields": {"rrule": [problem]}})
    old.ends_on = day - timedelta(days=1)
    db.session.add(new)
    db.session.flush()
    # One visit per day (rules: "This and following"): the visit the change was made from
    # follows the new series even if it had been edited alone; any other following visit
    # that was edited alone, cancelled or completed keeps what it is and moves to the new
    # series, so the new series skips its date instead of adding a second visit that day.
    shift.detached = False
    following = db.session.scalars(sa.select(Shift).where(
        Shift.series_id == old.id, Shift.occurrence_date >= day).order_by(Shift.occurrence_date)).all()
    for s in following:
        if s.id != shift.id and (s.detached or s.status in (ShiftStatus.completed, ShiftStatus.cancelled)):
            s.series_id = new.id
    db.session.flush()
    following = [s for s in following if s.id == shift.id or not (
        s.detached or s.status in (ShiftStatus.completed, ShiftStatus.cancelled))]
    times = {d: (s, e) for d, s, e in rules.occurrence_times(new.rrule, new.first_date, new.start_time,
                                                               new.duration_minutes, team.zone, day,
                                                               day + timedelta(weeks=60), new.ends_on,
                                                               kind=ShiftKind(new.kind).value)}
    settings = settings_for(team.cooperative_id)
    for s in following:
        if s.occurrence_date in times:
            # Keep the visit (and its booking if the worker is still free) on the new pattern.
            with db.session.no_autoflush:
                s.series_id, (s.starts_at, s.ends_at) = new.id, times[s.occurrence_date]
                s.kind, s.notes, s.break_minutes = new.kind, new.notes, new.break_minutes
                s.required_skills = list(new.required_skills)
                s.tasks = list(new.tasks)
                _refuse_like_a_one_off(s, team, settings, s.occurrence_date)
                clash = s.booked_person_id is not None and booked_elsewhere(s.booked_person_id, s.starts_at, s.ends_at, s.id)
            if clash:
                unbook(s, "The visit moved to a time you are booked elsewhere.")
            db.session.flush()
        elif s.status == ShiftStatus.booked:
            s.series_id = new.id
            s.detached = True  # no longer on the pattern; kept because someone is booked
        else:
            db.session.delete(s)
    db.session.flush()
    materialise_series(new, now, from_date=day)
    return new


def materialise_all(now: datetime) -> int:
    """Every recurring visit's occurrences up to the horizon (idempotent)."""
    live = [s for s in db.session.scalars(sa.select(ShiftSeries).order_by(ShiftSeries.id)).all()
            if s.ends_on is None or s.ends_on >= now.date() - timedelta(days=1)]
    # One series that cannot be materialised is rolled back alone and said once to its
    # co-op's facilitators; every other series (in every co-op) still gets its visits.
    return sum(run_each("rota.materialise", live, lambda series: materialise_series(series, now),
                        key=lambda s: f"series {s.id}", cooperative=lambda s: s.team.cooperative_id).done)
