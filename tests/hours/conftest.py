"""A small world for hours tests: the rota's world plus an Hours checker hat."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours.models import TimesheetEntry
from careteams.hours.rules import EntryKind, TimesheetStatus
from careteams.matching.models import EmploymentType, WorkerProfile
from careteams.members.services import actor_for
from careteams.teams.models import HatType
from tests.rota.conftest import add_hat, add_member, build_world

# A finished morning visit (the test clock is late November 2026).
START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(app):
    w = build_world()
    checker_type = HatType(cooperative_id=w.coop.id, name="Hours checker", permissions=["confirm_hours"])
    db.session.add(checker_type)
    db.session.flush()
    w.checker = add_hat(w.team, add_member(w.team), checker_type)  # also a worker in the team
    w.checker_type = checker_type
    return w


def act(person):
    return actor_for(person)


def make_entry(world, person=None, status=TimesheetStatus.pending, start=START, minutes=120, **kw) -> TimesheetEntry:
    person = person or world.worker
    entry = TimesheetEntry(team_id=kw.pop("team_id", world.team.id), person_id=person.id, status=status,
                           started_at=start, ended_at=start + timedelta(minutes=minutes),
                           kind=kw.pop("kind", EntryKind.visit), **kw)
    if status != TimesheetStatus.pending:
        entry.submitted_at = start + timedelta(minutes=minutes)
    if status == TimesheetStatus.confirmed:
        entry.confirmed_at = kw.get("confirmed_at") or start + timedelta(hours=5)
        entry.confirmed_by_id = world.leader.id
    db.session.add(entry)
    db.session.flush()
    return entry


def profile(world, person, employed: bool, rate: int | None = None, dob: date = date(1990, 5, 1)) -> WorkerProfile:
    # Team workers already have a profile (with valid checks) from the rota world.
    row = db.session.scalar(sa.select(WorkerProfile).where(
        WorkerProfile.cooperative_id == world.coop.id, WorkerProfile.person_id == person.id))
    if row is None:
        row = WorkerProfile(cooperative_id=world.coop.id, person_id=person.id, latitude=53.6, longitude=-1.8, travel_km=10)
        db.session.add(row)
    row.employment_type = EmploymentType.employed if employed else EmploymentType.independent
    row.hourly_rate_pence = rate
    row.date_of_birth = dob
    db.session.flush()
    return row
