"""The co-op's monthly figures: hours delivered, active teams and workers, turnover, undisputed share.

Three queries whatever the range: the co-op, its confirmed entries in the range (a
confirmed correction's original left out in the same query) and its paid places;
the months are counted in Python, on the co-op's clock."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from careteams.errors import ensure
from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours import rules
from careteams.hours.enums import EntryKind, Frequency, TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.members.models import Cooperative
from careteams.members.permissions import Actor
from careteams.teams.models import Team, TeamMember, TeamMemberStatus, TeamRole


def figures_cooperative(actor: Actor, cooperative_id: int) -> Cooperative:
    """The co-op whose figures `actor` may see (facilitators and admins); 404 to outsiders, 403 to its members."""
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    coop = db.session.get(Cooperative, cooperative_id)
    ensure(coop is not None, not_found=True)
    return coop


def figures(actor: Actor, cooperative_id: int, first: date, last: date) -> list[dict]:
    """Per month from `first`'s month to `last`'s: hours delivered, active teams and workers,
    leavers and turnover (annualised) and the share of confirmed hours never disputed."""
    return figures_with_total(actor, cooperative_id, first, last)[0]


def figures_with_total(actor: Actor, cooperative_id: int, first: date, last: date) -> tuple[list[dict], dict]:
    """The months (as `figures`) and the whole range: its leavers, its average headcount and
    its turnover annualised (leavers over the average of the months' average headcounts,
    scaled to a year), to set beside Equal Care's and the sector's yearly rates."""
    coop = figures_cooperative(actor, cooperative_id)
    months = rules.month_starts(first, last)
    if not months:
        return [], {"months": 0, "leavers": 0, "turnover_annualised_percent": Decimal("0.0")}
    zone = ZoneInfo(coop.timezone)
    lo = rules.local_midnight_utc(months[0], coop.timezone)
    hi = rules.local_midnight_utc(rules.period_bounds(Frequency.monthly, months[-1])[1], coop.timezone)
    correction = aliased(TimesheetEntry)
    entries = db.session.scalars(sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
        Team.cooperative_id == cooperative_id, TimesheetEntry.status == TimesheetStatus.confirmed,
        TimesheetEntry.started_at >= lo, TimesheetEntry.started_at < hi,
        # superseded: a confirmed correction of the entry exists (services.common.superseded)
        ~sa.exists().where(correction.corrects_id == TimesheetEntry.id,
                           correction.status == TimesheetStatus.confirmed))).all()
    by_month: dict[date, list[TimesheetEntry]] = defaultdict(list)
    for e in entries:
        if e.kind != EntryKind.cancellation:
            local = e.started_at.astimezone(zone)
            by_month[date(local.year, local.month, 1)].append(e)
    places = db.session.scalars(sa.select(TeamMember).join(Team, Team.id == TeamMember.team_id).where(
        Team.cooperative_id == cooperative_id, TeamMember.role == TeamRole.paid_worker)).all()
    still = {m.person_id for m in places if m.status in (TeamMemberStatus.active, TeamMemberStatus.trial)}
    out, averages, all_leavers = [], [], set()
    for month in months:
        _, end = rules.period_bounds(Frequency.monthly, month)
        delivered = by_month.get(month, [])
        minutes = sum(rules.worked_minutes(e.started_at, e.ended_at, e.break_minutes) for e in delivered)
        undisputed = sum(rules.worked_minutes(e.started_at, e.ended_at, e.break_minutes)
                         for e in delivered if e.disputed_at is None)
        left = {m.person_id for m in places if m.status == TeamMemberStatus.left and m.ended_on
                and month <= m.ended_on < end} - still
        start_count, end_count = _headcount(places, month), _headcount(places, end - timedelta(days=1))
        averages.append(Fraction(start_count + end_count, 2))
        all_leavers |= left
        out.append({
            "month": month.isoformat()[:7],
            "hours_delivered": Decimal(minutes) / 60 if minutes else Decimal(0),
            "active_teams": len({e.team_id for e in delivered}),
            "active_workers": len({e.person_id for e in delivered}),
            "leavers": len(left),
            "turnover_annualised_percent": rules.annualised_turnover_percent(len(left), start_count, end_count),
            "confirmed_without_dispute_percent": rules.share_percent(undisputed, minutes),
        })
    total = {"months": len(months), "leavers": len(all_leavers),
             "turnover_annualised_percent": rules.turnover_percent(len(all_leavers), averages)}
    return out, total


def _headcount(places: list[TeamMember], day: date) -> int:
    """Workers with a paid place in some team on `day`."""
    return len({m.person_id for m in places if m.status in (TeamMemberStatus.active, TeamMemberStatus.left)
                and (m.active_on or m.started_on or m.invited_at.date()) <= day
                and (m.ended_on is None or m.ended_on > day)})
