"""What people read: a team's week of the rota, someone's shifts and open offers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from careteams.db import utcnow
from careteams.errors import NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, RotaSettings, Shift, ShiftStatus
from careteams.rota.services import eligibility
from careteams.rota.services.checks import findings_for, others_for, visit_of, visits_of, window_of
from careteams.rota.services.common import ShiftView, in_cooperative, team_with_access
from careteams.rota.services.settings import settings_for, settings_for_many
from careteams.teams.models import Team


@dataclass
class RotaWeek:
    team: Team
    week_start: date
    days: list[date]
    shifts: list[ShiftView]
    hours: dict[int, tuple[str, float, float]]  # person_id -> (name, this week, 17-week average)
    attention: list[AttentionItem] = field(default_factory=list)

    @property
    def previous_week(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.week_start + timedelta(days=7)


WEEKS_SHOWN = (date(1900, 1, 1), date(9000, 12, 31))


def week_rota(actor: Actor, team_id: int, day: date | None = None, *, with_attention: bool = False) -> RotaWeek:
    """A team's shifts for the week holding `day` (default: today in the team's zone), with
    warnings (and, for the page, what needs attention first): a fixed number of queries
    whatever the team's size."""
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_view_rota(access))
    if day is not None and not WEEKS_SHOWN[0] <= day <= WEEKS_SHOWN[1]:
        # The same bounds as the API's schema, for the page's ?week= too: past the
        # calendar's edge the week's bounds would overflow.
        raise ValidationError(details={"fields": {"week": ["Give a week between 1900 and 9000."]}})
    zone = team.zone
    day = day or utcnow().astimezone(ZoneInfo(zone)).date()
    week_start_utc, week_end_utc = rules.week_bounds(day, zone)
    shifts = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.booked_person))
        .where(Shift.team_id == team.id, Shift.starts_at < week_end_utc, Shift.ends_at > week_start_utc)
        .order_by(Shift.starts_at, Shift.id)).all()
    settings = settings_for(team.cooperative_id)
    views, visits = views_with_findings(team, shifts, settings, week=(week_start_utc, week_end_utc))
    workers = {s.booked_person_id for s in shifts if s.booked_person_id}
    hours = {}
    week = (week_start_utc, week_end_utc)
    for pid in workers:
        all_visits = [v for _, v in visits.get(pid, [])]
        _, average, this_week = rules.check_weekly_hours(rules.Visit(week_start_utc, week_start_utc), all_visits, week, True)
        name = next(s.booked_person.name for s in shifts if s.booked_person_id == pid)
        hours[pid] = (name, round(this_week, 2), round(average, 2))
    monday = day - timedelta(days=day.weekday())
    attention = needs_attention(team, settings) if with_attention else []
    return RotaWeek(team, monday, [monday + timedelta(days=i) for i in range(7)], views, hours, attention)


def views_with_findings(team: Team, shifts: Sequence[Shift], settings: RotaSettings,
                        week: tuple[datetime, datetime] | None = None
                        ) -> tuple[list[ShiftView], dict[int, list[tuple[int, rules.Visit]]]]:
    """Each shift as people see it, with the rota's checks (for its booked worker, or the
    shift alone): two queries whatever the number of shifts. `week` fixes the week the
    working-time checks count in; otherwise each shift's own week in the team's zone."""
    zone = team.zone
    workers = {s.booked_person_id for s in shifts if s.booked_person_id}
    visits: dict[int, list[tuple[int, rules.Visit]]] = {}
    if shifts:
        start = (week[0] if week else min(s.starts_at for s in shifts)) - timedelta(weeks=rules.REFERENCE_WEEKS + 1)
        end = (week[1] if week else max(s.ends_at for s in shifts)) + timedelta(days=2 if week else 9)
        visits = visits_of(workers, start, end)
    opted = eligibility.weekly_hours_opt_outs(workers)
    common = dict(team_minimum_minutes=team.effective_min_visit_minutes,
                  allow_short_personal_care=settings.allow_short_personal_care,
                  blocking_checks=settings.blocking_checks or [])
    views = []
    for s in shifts:
        visit = visit_of(s, team)
        if s.booked_person_id and s.status in (ShiftStatus.booked, ShiftStatus.completed):
            others = [v for sid, v in visits.get(s.booked_person_id, []) if sid != s.id]
            bounds = week or rules.week_bounds(s.starts_at.astimezone(ZoneInfo(zone)).date(), zone)
            found = rules.check_visit(visit, others, week=bounds, opted_out=opted[s.booked_person_id],
                                      speed_kmh=settings.travel_speed_kmh, **common)
        elif s.status == ShiftStatus.cancelled:
            found = []
        else:
            found = rules.check_shape(visit, **common)
        views.append(ShiftView(s, zone, found, team_name=team.display_name))
    return views, visits


# ---------------------------------------------------------------- what needs attention

AGENDA_WEEKS = 4


@dataclass
class AttentionItem:
    """A visit someone who runs the rota should look at, and why, in plain words."""

    view: ShiftView
    reasons: list[str]


def needs_attention(team: Team, settings: RotaSettings, now: datetime | None = None) -> list[AttentionItem]:
    """The team's future visits that need someone, soonest first: open ones (not booked),
    cover asked, offers nobody answered (none open any more, or none made), and visits the
    co-op's rules block. Looks as far ahead as the co-op materialises series (its horizon).
    A fixed number of queries whatever the number of shifts."""
    now = now or utcnow()
    horizon = now + timedelta(weeks=max(settings.horizon_weeks, AGENDA_WEEKS))
    shifts = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.booked_person))
        .where(Shift.team_id == team.id, Shift.starts_at > now, Shift.starts_at < horizon,
               Shift.status.in_((ShiftStatus.open, ShiftStatus.offered, ShiftStatus.booked)))
        .order_by(Shift.starts_at, Shift.id)).all()
    views, _ = views_with_findings(team, shifts, settings)
    asking = [s.id for s in shifts if s.status == ShiftStatus.offered or s.cover_requested_at is not None]
    open_offers: dict[int, int] = {}
    if asking:
        open_offers = dict(db.session.execute(
            sa.select(Offer.shift_id, sa.func.count()).where(
                Offer.shift_id.in_(asking), Offer.status == OfferStatus.open,
                sa.or_(Offer.expires_at.is_(None), Offer.expires_at > now))
            .group_by(Offer.shift_id)).all())
    items = []
    for view in views:
        s = view.shift
        reasons = []
        if s.status == ShiftStatus.open:
            reasons.append("Open: nobody is booked and it has not been offered.")
        elif s.status == ShiftStatus.offered:
            reasons.append("Open: offered, nobody is booked yet.")
        if s.status == ShiftStatus.booked and s.cover_requested_at is not None:
            reasons.append(f"Cover asked by {view.booked_person_name or 'the booked worker'}.")
        if s.id in asking and not open_offers.get(s.id):
            reasons.append("Nobody answered: no offer is open any more.")
        reasons += [f"Not allowed: {f.message}" for f in view.findings if f.blocking]
        if reasons:
            items.append(AttentionItem(view, reasons))
    return items


@dataclass
class RotaAgenda:
    team: Team
    first_day: date
    days: list[tuple[date, list[ShiftView]]]
    attention: list[AttentionItem]


def agenda(actor: Actor, team_id: int, now: datetime | None = None) -> RotaAgenda:
    """The team's next four weeks as a list by day (the rota on a small screen), with what
    needs attention: a fixed number of queries whatever the number of shifts."""
    now = now or utcnow()
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_view_rota(access))
    zone = ZoneInfo(team.zone)
    today = now.astimezone(zone).date()
    first = datetime.combine(today, time.min, tzinfo=zone).astimezone(UTC)
    last = datetime.combine(today + timedelta(weeks=AGENDA_WEEKS), time.min, tzinfo=zone).astimezone(UTC)
    shifts = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.booked_person))
        .where(Shift.team_id == team.id, Shift.starts_at < last, Shift.ends_at > first)
        .order_by(Shift.starts_at, Shift.id)).all()
    settings = settings_for(team.cooperative_id)
    views, _ = views_with_findings(team, shifts, settings)
    by_day: dict[date, list[ShiftView]] = {today + timedelta(days=i): [] for i in range(AGENDA_WEEKS * 7)}
    for view in views:
        by_day.setdefault(max(view.local_start.date(), today), []).append(view)
    return RotaAgenda(team, today, sorted(by_day.items()), needs_attention(team, settings, now))


def my_shifts(person: Person, now: datetime | None = None, limit: int = 50, *,
              cooperative_id: int | None = None) -> list[ShiftView]:
    """The person's upcoming booked shifts, in every team (or one co-op's), with their codes."""
    now = now or utcnow()
    rows = db.session.execute(in_cooperative(
        sa.select(Shift, Offer.code).options(selectinload(Shift.team))
        .outerjoin(Offer, (Offer.shift_id == Shift.id) & (Offer.person_id == person.id)
                   & (Offer.status == OfferStatus.accepted) & Offer.code_live)
        .where(Shift.booked_person_id == person.id, Shift.status == ShiftStatus.booked, Shift.ends_at > now),
        cooperative_id).order_by(Shift.starts_at).limit(limit)).all()
    return [ShiftView(s, s.team.zone, code=code, team_name=s.team.display_name) for s, code in rows]


def next_shifts(person: Person, n: int = 5, now: datetime | None = None, *,
                cooperative_id: int | None = None) -> list[ShiftView]:
    """The next `n` booked shifts (for the SMS 'list my shifts' command: the texted co-op's only)."""
    return my_shifts(person, now, limit=n, cooperative_id=cooperative_id)


def my_offers(person: Person, now: datetime | None = None, *,
              cooperative_id: int | None = None) -> list[tuple[Offer, ShiftView]]:
    """The person's open offers that can still be accepted (in every co-op, or one)."""
    now = now or utcnow()
    offers = db.session.scalars(in_cooperative(
        sa.select(Offer).join(Shift, Shift.id == Offer.shift_id)
        .where(Offer.person_id == person.id, Offer.status == OfferStatus.open, Offer.code_live,
               Shift.starts_at > now, sa.or_(Offer.expires_at.is_(None), Offer.expires_at > now)),
        cooperative_id).order_by(Shift.starts_at)).all()
    if not offers:
        return []
    # Constant statements whatever the number of offers: the teams, their co-ops' settings,
    # the worker's visits over one window covering every offer, and the 48-hour opt-out.
    teams = {t.id: t for t in db.session.scalars(sa.select(Team).where(Team.id.in_({o.shift.team_id for o in offers})))}
    settings = settings_for_many(t.cooperative_id for t in teams.values())
    start, end = window_of(o.shift for o in offers)
    visits = visits_of([person.id], start, end).get(person.id, [])
    opted_out = eligibility.weekly_hours_opt_outs([person.id])[person.id]
    out = []
    for o in offers:
        team = teams[o.shift.team_id]
        found = findings_for(o.shift, team, person.id, settings[team.cooperative_id],
                             others=others_for(o.shift, visits), opted_out=opted_out)
        out.append((o, ShiftView(o.shift, team.zone, found, code=o.code, team_name=team.display_name)))
    return out


def get_own_offer(person: Person, offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.person_id != person.id:
        raise NotFound("No such offer.")
    return offer
