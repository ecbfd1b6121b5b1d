"""Demo rota: a week of shifts for the demo teams, a recurring visit, open offers and a
visit escalated to the facilitators.

The demo teams come from the teams domain; when they are not there (or have no
workers yet) this step quietly does less.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.demo import DEMO_STEPS
from careteams.extensions import db
from careteams.members.models import Cooperative, Person
from careteams.members.services import actor_for
from careteams.rota import rules
from careteams.rota.models import RotaSettings, Shift, ShiftKind, ShiftSeries, ShiftStatus
from careteams.rota.services import offers, series
from careteams.rota.services.settings import settings_for
from careteams.teams.models import Team

DEMO_NOTE = "Demo shift"
# (day offset from next Monday, start hour, hours, kind)
WEEK = [(0, 8, 1, ShiftKind.personal_care), (0, 13, 2, ShiftKind.practical_help), (1, 10, 3, ShiftKind.companionship),
        (2, 8, 1, ShiftKind.personal_care), (3, 14, 2, ShiftKind.companionship), (4, 20, 12, ShiftKind.sleep_in),
        (5, 11, 2, ShiftKind.practical_help)]


# One of Ann's visits nobody took: the rota's clock has passed it to the co-op's
# facilitators (as offers.expire_and_escalate leaves it), so Fran can offer it to the
# co-op's workers from her day page. (day offset from next Monday, start hour, hours, kind)
ESCALATED = (6, 10, 2, ShiftKind.practical_help)

# Demo offers stay open for a week (capped at the shift's start), so that a demo
# started today can still answer them by text tomorrow.
DEMO_OFFER_TTL_MINUTES = 7 * 24 * 60


def seed_rota(coop: Cooperative, people: dict[str, Person]) -> None:
    now = utcnow()
    if not db.session.scalar(sa.select(RotaSettings.id).where(RotaSettings.cooperative_id == coop.id)):
        settings = settings_for(coop.id)
        settings.offer_ttl_minutes = DEMO_OFFER_TTL_MINUTES
        db.session.add(settings)
        db.session.flush()
    for key in ("ann", "bill"):
        leader = people.get(key)
        team = leader and db.session.scalar(sa.select(Team).where(Team.cooperative_id == coop.id, Team.leader_id == leader.id))
        if team is None:
            continue
        actor = actor_for(leader)
        tz = ZoneInfo(team.zone)
        today = now.astimezone(tz).date()
        monday = today + timedelta(days=7 - today.weekday())
        created = []
        for offset, hour, hours, kind in WEEK:
            start = rules.localise(datetime.combine(monday + timedelta(days=offset), time(hour)), team.zone, strict=False)
            exists = db.session.scalar(sa.select(Shift.id).where(Shift.team_id == team.id, Shift.starts_at == start,
                                                                 Shift.notes == DEMO_NOTE))
            if exists:
                continue
            end = rules.localise(datetime.combine(start.date(), time(hour)) + timedelta(hours=hours), team.zone, strict=False)
            shift = Shift(team_id=team.id, starts_at=start, ends_at=end, kind=kind, notes=DEMO_NOTE,
                          break_minutes=60 if hours > 6 else 0, required_skills=[], status=ShiftStatus.open)
            db.session.add(shift)
            db.session.flush()
            created.append(shift)
        if not db.session.scalar(sa.select(ShiftSeries.id).where(ShiftSeries.team_id == team.id)):
            series.create_series(actor, team.id, {
                "rrule": "FREQ=WEEKLY;BYDAY=MO,WE,FR", "first_date": monday, "start_time": time(18),
                "duration_minutes": 60, "kind": ShiftKind.companionship, "notes": "Tea and a chat"}, now=now)
        workers = offers.team_worker_ids(team.id)
        if created and workers:
            offers.book_directly(actor, created[0].id, workers[0], now=now)
        for shift in created[1:4]:
            offers.offer_shift(actor, shift.id, now=now)
        if key == "ann":
            _escalated_visit(team, monday, now)
    db.session.flush()


def _escalated_visit(team: Team, monday, now: datetime) -> None:
    offset, hour, hours, kind = ESCALATED
    start = rules.localise(datetime.combine(monday + timedelta(days=offset), time(hour)), team.zone, strict=False)
    if db.session.scalar(sa.select(Shift.id).where(Shift.team_id == team.id, Shift.starts_at == start)):
        return
    db.session.add(Shift(team_id=team.id, starts_at=start, ends_at=start + timedelta(hours=hours), kind=kind,
                         notes=DEMO_NOTE, required_skills=[], status=ShiftStatus.offered,
                         escalation_level=rules.ESCALATED_TO_FACILITATORS, escalated_at=now))
    db.session.flush()


DEMO_STEPS.append(seed_rota)
