"""The co-op's monthly figures: hours delivered, active teams and workers, turnover, undisputed share."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from careteams.errors import ensure
from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours import rules
from careteams.hours.enums import EntryKind, Frequency, TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.hours.services.common import superseded
from careteams.members.models import Cooperative
from careteams.members.permissions import Actor
from careteams.teams.models import Team, TeamMember, TeamMemberStatus, TeamRole


def figures(actor: Actor, cooperative_id: int, first: date, last: date) -> list[dict]:
    """Per month: hours delivered, active teams and workers, turnover (annualised) and the
    share of confirmed hours never disputed (facilitators)."""
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    coop = db.session.get(Cooperative, cooperative_id)
    out = []
    for month in rules.month_starts(first, last):
        _, end = rules.period_bounds(Frequency.monthly, month)
        lo, hi = rules.local_midnight_utc(month, coop.timezone), rules.local_midnight_utc(end, coop.timezone)
        entries = db.session.scalars(sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
            Team.cooperative_id == cooperative_id, TimesheetEntry.status == TimesheetStatus.confirmed,
            TimesheetEntry.started_at >= lo, TimesheetEntry.started_at < hi)).all()
        entries = [e for e in entries if not superseded(e)]
        delivered = [e for e in entries if e.kind != EntryKind.cancellation]
        minutes = sum(rules.worked_minutes(e.started_at, e.ended_at, e.break_minutes) for e in delivered)
        undisputed = sum(rules.worked_minutes(e.started_at, e.ended_at, e.break_minutes)
                         for e in delivered if e.disputed_at is None)
        paid = sa.select(TeamMember).join(Team, Team.id == TeamMember.team_id).where(
            Team.cooperative_id == cooperative_id, TeamMember.role == TeamRole.paid_worker)

        rows = db.session.scalars(paid).all()
        still = {m.person_id for m in rows if m.status in (TeamMemberStatus.active, TeamMemberStatus.trial)}
        leavers = len({m.person_id for m in rows if m.status == TeamMemberStatus.left and m.ended_on
                       and month <= m.ended_on < end} - still)
        out.append({
            "month": month.isoformat()[:7],
            "hours_delivered": Decimal(minutes) / 60 if minutes else Decimal(0),
            "active_teams": len({e.team_id for e in delivered}),
            "active_workers": len({e.person_id for e in delivered}),
            "leavers": leavers,
            "turnover_annualised_percent": rules.annualised_turnover_percent(
                leavers, _headcount(rows, month), _headcount(rows, end - timedelta(days=1))),
            "confirmed_without_dispute_percent": rules.share_percent(undisputed, minutes),
        })
    return out


def _headcount(places: list[TeamMember], day: date) -> int:
    """Workers with a paid place in some team on `day`."""
    return len({m.person_id for m in places if m.status in (TeamMemberStatus.active, TeamMemberStatus.left)
                and (m.active_on or m.started_on or m.invited_at.date()) <= day
                and (m.ended_on is None or m.ended_on > day)})
