"""The working-time and care-quality checks of a shift, for a worker or alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.errors import ValidationError, ensure
from careteams.extensions import db
from careteams.members.models import Cooperative
from careteams.members.permissions import Actor
from careteams.members.rules import outside_business_window
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import RotaSettings, Shift, ShiftKind, ShiftStatus
from careteams.rota.services import eligibility
from careteams.rota.services.common import visible_shift
from careteams.rota.services.settings import settings_for
from careteams.teams.models import Team


def visits_of(person_ids: Iterable[int], start: datetime, end: datetime, exclude_shift_id: int | None = None) -> dict[int, list[tuple[int, rules.Visit]]]:
    """Booked (or completed) shifts of these workers in a window, in any team: one query."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Shift.id, Shift.booked_person_id, Shift.starts_at, Shift.ends_at, Shift.kind, Shift.break_minutes,
                  Shift.team_id, Team.latitude, Team.longitude)
        .join(Team, Team.id == Shift.team_id)
        .where(Shift.booked_person_id.in_(ids), Shift.status.in_((ShiftStatus.booked, ShiftStatus.completed)),
               Shift.ends_at > start, Shift.starts_at < end)
    ).all()
    out: dict[int, list[tuple[int, rules.Visit]]] = defaultdict(list)
    for r in rows:
        if r.id == exclude_shift_id:
            continue
        out[r.booked_person_id].append((r.id, rules.Visit(r.starts_at, r.ends_at, r.kind.value, r.break_minutes,
                                                          r.latitude, r.longitude, r.team_id)))
    return out


def visit_of(shift: Shift, team: Team) -> rules.Visit:
    return rules.Visit(shift.starts_at, shift.ends_at, ShiftKind(shift.kind).value, shift.break_minutes,
                       team.latitude, team.longitude, team.id)


def others_for(shift: Shift, visits: Sequence[tuple[int, rules.Visit]]) -> list[rules.Visit]:
    """From a worker's visits loaded once over a wider window (visits_of), the ones
    findings_for would load for `shift`: inside its window, not the shift itself."""
    start, end = _window(shift)
    return [v for sid, v in visits if sid != shift.id and v.ends_at > start and v.starts_at < end]


def window_of(shifts: Iterable[Shift]) -> tuple[datetime, datetime]:
    """The one window covering each shift's checks window (shifts not empty)."""
    windows = [_window(s) for s in shifts]
    return min(w[0] for w in windows), max(w[1] for w in windows)


def _window(shift: Shift) -> tuple[datetime, datetime]:
    return (shift.starts_at - timedelta(weeks=rules.REFERENCE_WEEKS + 1), shift.ends_at + timedelta(days=8))


def findings_for(shift: Shift, team: Team, person_id: int | None, settings: RotaSettings | None = None,
                 others: Sequence[rules.Visit] | None = None, opted_out: bool | None = None) -> list[rules.Finding]:
    """The working-time and care-quality findings of `shift` for `person_id` (or the
    shift alone when nobody is named). `settings`, `others` and `opted_out` may be given
    by a caller that loaded them once for many shifts (each is otherwise a query)."""
    settings = settings or settings_for(team.cooperative_id)
    visit = visit_of(shift, team)
    common = dict(team_minimum_minutes=team.effective_min_visit_minutes,
                  allow_short_personal_care=settings.allow_short_personal_care,
                  blocking_checks=settings.blocking_checks or [])
    if person_id is None:
        return rules.check_shape(visit, **common)
    if others is None:
        start, end = _window(shift)
        others = [v for _, v in visits_of([person_id], start, end, exclude_shift_id=shift.id).get(person_id, [])]
    week = rules.week_bounds(shift.starts_at.astimezone(ZoneInfo(team.zone)).date(), team.zone)
    if opted_out is None:
        opted_out = eligibility.weekly_hours_opt_out(person_id)
    return rules.check_visit(visit, others, week=week, opted_out=opted_out,
                             speed_kmh=settings.travel_speed_kmh, **common)


def check_shift(actor: Actor, shift_id: int, person_id: int | None) -> list[rules.Finding]:
    """What the checks say about booking `person_id` on a shift (the rota's keepers)."""
    shift, team, access = visible_shift(actor, shift_id)
    ensure(perm.can_offer_shifts(access) or perm.can_edit_rota(access))
    return findings_for(shift, team, person_id)


def refuse_blocking(findings: list[rules.Finding]) -> None:
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise ValidationError("The co-op's rota rules do not allow this.", code="check_failed",
                              details={"checks": [{"code": f.code, "message": f.message} for f in blocking]})


def refuse_outside_business_window(team: Team, days: dict[str, date | None], now: datetime) -> None:
    """422 naming each field whose date is before the co-op was founded or more than five
    years ahead (members.rules.outside_business_window; rules chosen in rota/rules.py).
    Checked on the dates as given, before any zone arithmetic that could overflow."""
    coop = db.session.get(Cooperative, team.cooperative_id)
    # Not recorded: the day the co-op was created here, in its own zone (as hours does).
    founded = coop.founded_on or coop.created_at.astimezone(ZoneInfo(coop.timezone)).date()
    today = now.astimezone(ZoneInfo(team.zone)).date()
    problems = {field: [why] for field, day in days.items()
                if day is not None and (why := outside_business_window(day, founded, today))}
    if problems:
        raise ValidationError(next(iter(problems.values()))[0], details={"fields": problems})
