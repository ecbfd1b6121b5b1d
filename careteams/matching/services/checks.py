"""Worker checks across a co-op (facilitators): who has which check, which expire soon
or have expired, and each worker's history. A check renewed by a later one of the same
kind (and training item) is history, not a problem: only a worker's current checks
count as expiring or expired, here, on the facilitators' day and on the home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from careteams.db import utcnow
from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching.models import WorkerCheck, WorkerProfile
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor

SOON_DAYS = 30  # "expiring soon": within the next 30 days


def current_check():
    """SQL: the WorkerCheck row is its worker's latest of that kind (and training item): no later one renews it."""
    later = aliased(WorkerCheck)
    return ~sa.exists().where(
        later.worker_profile_id == WorkerCheck.worker_profile_id, later.kind == WorkerCheck.kind,
        sa.func.lower(later.name) == sa.func.lower(WorkerCheck.name),
        sa.or_(later.checked_on > WorkerCheck.checked_on,
               sa.and_(later.checked_on == WorkerCheck.checked_on, later.id > WorkerCheck.id)))


def needs_renewal(today: date, days: int = SOON_DAYS):
    """SQL: a current check that has expired or expires within `days` of `today`."""
    return sa.and_(WorkerCheck.expires_on.is_not(None), WorkerCheck.expires_on <= today + timedelta(days=days),
                   current_check())


def coop_today(coop: Cooperative) -> date:
    return utcnow().astimezone(ZoneInfo(coop.timezone)).date()


@dataclass
class CheckLine:
    check: WorkerCheck
    person: Person
    current: bool = True

    def standing(self, today: date) -> str:
        """"expired", "expiring" (within 30 days), "valid", or "renewed" (a later check replaced it)."""
        if not self.current:
            return "renewed"
        if self.check.expires_on is not None and self.check.expires_on <= today:
            return "expired"
        if self.check.expires_on is not None and self.check.expires_on <= today + timedelta(days=SOON_DAYS):
            return "expiring"
        return "valid"


@dataclass
class WorkerChecks:
    person: Person
    profile: WorkerProfile
    lines: list[CheckLine] = field(default_factory=list)  # newest first


@dataclass
class CoopChecks:
    today: date
    workers: list[WorkerChecks]
    expired: list[CheckLine]
    expiring: list[CheckLine]


def _lines(rows) -> dict[int, list[CheckLine]]:
    by_profile: dict[int, list[CheckLine]] = {}
    for check, person, current in rows:
        by_profile.setdefault(check.worker_profile_id, []).append(CheckLine(check, person, bool(current)))
    return by_profile


def coop_checks(actor: Actor, coop: Cooperative) -> CoopChecks:
    """Every worker with a profile in the co-op and their checks; the current checks that have expired
    or expire within 30 days first. Two queries, however many workers (facilitators)."""
    ensure(perm.can_record_checks(actor, coop.id))
    today = coop_today(coop)
    profiles = db.session.execute(
        sa.select(WorkerProfile, Person).join(Person, Person.id == WorkerProfile.person_id)
        .where(WorkerProfile.cooperative_id == coop.id).order_by(Person.name, Person.id)).all()
    rows = db.session.execute(
        sa.select(WorkerCheck, Person, current_check().label("current"))
        .join(WorkerProfile, WorkerProfile.id == WorkerCheck.worker_profile_id)
        .join(Person, Person.id == WorkerProfile.person_id)
        .where(WorkerProfile.cooperative_id == coop.id)
        .order_by(WorkerCheck.checked_on.desc(), WorkerCheck.id.desc())).all()
    by_profile = _lines(rows)
    workers = [WorkerChecks(person, profile, by_profile.get(profile.id, [])) for profile, person in profiles]
    every = [line for lines in by_profile.values() for line in lines]
    soon = sorted((line for line in every if line.standing(today) in ("expired", "expiring")),
                  key=lambda line: (line.check.expires_on, line.person.name))
    return CoopChecks(today, workers, [line for line in soon if line.standing(today) == "expired"],
                      [line for line in soon if line.standing(today) == "expiring"])


def worker_checks(actor: Actor, coop: Cooperative, person_id: int) -> tuple[WorkerChecks, date]:
    """One worker's checks, newest first, renewed ones marked (facilitators)."""
    ensure(perm.can_record_checks(actor, coop.id))
    found = db.session.execute(
        sa.select(WorkerProfile, Person).join(Person, Person.id == WorkerProfile.person_id)
        .where(WorkerProfile.cooperative_id == coop.id, WorkerProfile.person_id == person_id)).first()
    if found is None:
        raise NotFound("That person has no worker profile here.")
    profile, person = found
    rows = db.session.execute(
        sa.select(WorkerCheck, Person, current_check().label("current"))
        .join(WorkerProfile, WorkerProfile.id == WorkerCheck.worker_profile_id)
        .join(Person, Person.id == WorkerProfile.person_id)
        .where(WorkerCheck.worker_profile_id == profile.id)
        .order_by(WorkerCheck.checked_on.desc(), WorkerCheck.id.desc())).all()
    today = coop_today(coop)
    return WorkerChecks(person, profile, _lines(rows).get(profile.id, [])), today
