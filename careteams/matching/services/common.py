"""Shared helpers for the matching services: constants, local dates, profiles and checks as plain facts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching import rules
from careteams.matching.models import WorkerCheck, WorkerProfile
from careteams.members.models import Cooperative
from careteams.teams.models import TeamMemberStatus

CURRENT_MEMBER_STATUSES = (TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active)
MAX_TRAVEL_KM = 200  # the check constraint's upper bound: the widest SQL box ever needed
SUGGESTION_LIMIT = 20
DEFAULT_CHECK_WARNING_DAYS = 30
DEFAULT_INTRODUCTION_STALE_DAYS = 14


def local_today(now: datetime, cooperative_id: int) -> date:
    """The calendar date at `now` where the co-op is. Checks expire, and members
    start and leave, on local dates: a DBS check that expires on 1 June stops
    counting at midnight in London, not an hour later at midnight UTC."""
    return now.astimezone(ZoneInfo(db.session.get(Cooperative, cooperative_id).timezone)).date()


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def profile_of(coop_id: int, person_id: int) -> WorkerProfile | None:
    return db.session.scalar(sa.select(WorkerProfile).where(
        WorkerProfile.cooperative_id == coop_id, WorkerProfile.person_id == person_id))


def check_facts(checks: Iterable[WorkerCheck]) -> list[rules.CheckFact]:
    return [rules.CheckFact(c.kind, c.name, c.checked_on, c.expires_on) for c in checks]


def windows_of(items) -> list[rules.Window]:
    return [(w.weekday, w.start_minute, w.end_minute) for w in items]
