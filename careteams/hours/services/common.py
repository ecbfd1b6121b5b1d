"""Helpers the hours use cases share: the visible team, who to tell and how,
the state machine step, a worker's profile, superseded entries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams import notify
from careteams.errors import Conflict, ValidationError
from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.enums import EntryKind, TimesheetAction, TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.matching.models import WorkerProfile
from careteams.members.models import Cooperative, Person, StaffRole, StaffRoleName
from careteams.members.rules import outside_business_window
from careteams.rota.models import ShiftKind
from careteams.teams.models import Hat, HatStatus, HatType, Team
from careteams.teams.permissions import TeamPermission

A = TimesheetAction


def notify_person(person: Person, subject: str, body: str, dedupe_key: str | None = None) -> None:
    notify.tell(person, body, subject=subject, dedupe_key=dedupe_key)  # as the person chose on My account


def facilitators_of(cooperative_id: int) -> list[Person]:
    return list(db.session.scalars(sa.select(Person).join(StaffRole, StaffRole.person_id == Person.id).where(
        StaffRole.cooperative_id == cooperative_id, StaffRole.role == StaffRoleName.facilitator, Person.active)))


def checkers_of(team: Team, now: datetime, exclude: int) -> list[Person]:
    hats = db.session.scalars(sa.select(Hat).join(HatType, HatType.id == Hat.hat_type_id)
                              .where(Hat.team_id == team.id, Hat.status == HatStatus.accepted)).all()
    ids = {team.leader_id} | {h.person_id for h in hats
                              if h.in_force(now) and TeamPermission.confirm_hours.value in h.hat_type.permissions}
    ids.discard(exclude)
    return list(db.session.scalars(sa.select(Person).where(Person.id.in_(ids), Person.active)))


def worker_profile(cooperative_id: int, person_id: int) -> WorkerProfile | None:
    return db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.cooperative_id == cooperative_id,
                                                            WorkerProfile.person_id == person_id))


def superseded(entry: TimesheetEntry, as_of: datetime | None = None) -> bool:
    """A confirmed correction of this entry exists (confirmed by `as_of`, when given)."""
    query = sa.select(TimesheetEntry.id).where(
        TimesheetEntry.corrects_id == entry.id, TimesheetEntry.status == TimesheetStatus.confirmed)
    if as_of is not None:
        query = query.where(TimesheetEntry.confirmed_at <= as_of)
    return bool(db.session.scalar(query))


def founded_on(coop: Cooperative) -> date:
    """The day the co-op was founded; not recorded: the day it was created here (in its zone)."""
    if coop.founded_on is not None:
        return coop.founded_on
    return coop.created_at.astimezone(ZoneInfo(coop.timezone)).date()


def check_business_day(coop: Cooperative, day: date, field: str, now: datetime) -> None:
    """422 when `day` is before the co-op existed or more than five years ahead."""
    today = now.astimezone(ZoneInfo(coop.timezone)).date()
    why = outside_business_window(day, founded_on(coop), today)
    if why is not None:
        raise ValidationError(why, details={"fields": {field: [why]}})


def step(entry: TimesheetEntry, action: TimesheetAction) -> None:
    try:
        entry.status = rules.next_status(entry.status, action)
    except rules.InvalidTransition as exc:
        raise Conflict(str(exc), code="invalid_transition") from None


def mark_confirmed(entry: TimesheetEntry, by_id: int | None, now: datetime, action: TimesheetAction) -> None:
    step(entry, action)
    entry.confirmed_at = now
    entry.confirmed_by_id = by_id
    entry.auto_confirmed = action == A.auto_confirm


KIND_OF_SHIFT = {ShiftKind.overnight: EntryKind.overnight, ShiftKind.sleep_in: EntryKind.sleep_in}
LOOKBACK = timedelta(days=14)
