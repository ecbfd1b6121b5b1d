"""Pay settings, rates, team terms and funders, and what one entry is paid and charged at."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.errors import Conflict, ValidationError, ensure
from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours import rules
from careteams.hours.enums import AreaBand, EntryKind, Frequency
from careteams.hours.models import (
    CoopPayRate,
    Funder,
    HoursSettings,
    TeamHoursTerms,
    TimesheetEntry,
    WorkerRate,
)
from careteams.hours.services.common import worker_profile
from careteams.matching.models import EmploymentType, WorkerProfile
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.teams.enums import TeamMemberStatus, TeamRole
from careteams.teams.models import Team, TeamMember
from careteams.teams.services.access import get_visible_team


def settings_for(cooperative_id: int) -> HoursSettings:
    """The co-op's pay settings, or the defaults (not saved) when it has none."""
    row = db.session.scalar(sa.select(HoursSettings).where(HoursSettings.cooperative_id == cooperative_id))
    if row is not None:
        return row
    return HoursSettings(cooperative_id=cooperative_id, auto_confirm_hours=72, charge_percent=Decimal("17.5"),
                         deduction_percent=Decimal("7.5"), sleep_in_allowance_pence=0, cancellation_notice_hours=24,
                         cancellation_pay_percent=Decimal("100"), mileage_pence_per_mile=45,
                         pay_frequency=Frequency.monthly)


def update_settings(actor: Actor, cooperative_id: int, changes: dict) -> HoursSettings:
    """Change a co-op's pay settings (its admins)."""
    ensure(perm.can_set_pay_settings(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    row = db.session.scalar(sa.select(HoursSettings).where(HoursSettings.cooperative_id == cooperative_id))
    if row is None:
        row = settings_for(cooperative_id)
        db.session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.flush()
    return row


def set_coop_pay_rate(actor: Actor, cooperative_id: int, data: dict) -> CoopPayRate:
    """Add the co-op's hourly pay for employed workers in an area band from a date (admins)."""
    ensure(perm.can_set_pay_settings(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    if db.session.scalar(sa.select(CoopPayRate.id).where(
            CoopPayRate.cooperative_id == cooperative_id, CoopPayRate.area_band == data["area_band"],
            CoopPayRate.effective_from == data["effective_from"])):
        raise Conflict("That area band already has a rate from that date.",
                       details={"fields": {"effective_from": ["This band already has a rate from this date."]}})
    row = CoopPayRate(cooperative_id=cooperative_id, **data)
    db.session.add(row)
    db.session.flush()
    return row


def coop_pay_rates(actor: Actor, cooperative_id: int) -> list[CoopPayRate]:
    """The co-op's pay rates for employed workers, every band and date (admins)."""
    ensure(perm.can_set_pay_settings(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    return list(db.session.scalars(sa.select(CoopPayRate).where(CoopPayRate.cooperative_id == cooperative_id)
                                   .order_by(CoopPayRate.area_band, CoopPayRate.effective_from.desc())))


def team_area_band(actor: Actor, team_id: int) -> AreaBand:
    """A team's area band (urban when never set): facilitators and the team's checkers."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_team_terms(access))
    return db.session.scalar(sa.select(TeamHoursTerms.area_band).where(TeamHoursTerms.team_id == team.id)) \
        or AreaBand.urban


def set_team_terms(actor: Actor, team_id: int, area_band: AreaBand) -> TeamHoursTerms:
    """Set a team's area band (facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_set_team_terms(access))
    row = db.session.scalar(sa.select(TeamHoursTerms).where(TeamHoursTerms.team_id == team.id))
    if row is None:
        row = TeamHoursTerms(team_id=team.id)
        db.session.add(row)
    row.area_band = area_band
    db.session.flush()
    return row


def set_funders(actor: Actor, team_id: int, funders: list[dict]) -> list[Funder]:
    """Replace who pays for a team; shares must sum to 100 (facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_set_team_terms(access))
    if sum(f["share_percent"] for f in funders) != 100:
        raise ValidationError("The funders' shares must add up to 100%.",
                              details={"fields": {"funders": ["Shares must add up to 100."]}})
    for old in db.session.scalars(sa.select(Funder).where(Funder.team_id == team.id, Funder.active)):
        old.active = False
    rows = [Funder(team_id=team.id, **f) for f in funders]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def team_funders(actor: Actor, team_id: int) -> list[Funder]:
    """A team's current funders (facilitators and the team's checkers)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_team_terms(access))
    return active_funders(team.id)


def active_funders(team_id: int) -> list[Funder]:
    return list(db.session.scalars(sa.select(Funder).where(Funder.team_id == team_id, Funder.active)
                                   .order_by(Funder.id)))


def team_agreed_rates(actor: Actor, team_id: int) -> tuple[list[tuple[WorkerRate, str]], list[tuple[int, str]]]:
    """A team's agreed rates with its independent workers, newest first, and the team's
    current paid workers as (person id, name) to agree one with (facilitators and the
    team's checkers). Two queries whatever the team's size."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_team_terms(access))
    agreed = [(row.WorkerRate, row.name) for row in db.session.execute(
        sa.select(WorkerRate, Person.name).join(Person, Person.id == WorkerRate.person_id)
        .where(WorkerRate.team_id == team.id)
        .order_by(WorkerRate.effective_from.desc(), WorkerRate.id.desc()))]
    workers = db.session.execute(
        sa.select(Person.id, Person.name).join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.team_id == team.id, TeamMember.role == TeamRole.paid_worker,
               TeamMember.status.in_((TeamMemberStatus.trial, TeamMemberStatus.active)))
        .order_by(Person.name, Person.id)).all()
    return agreed, [(row.id, row.name) for row in workers]


def set_worker_rate(actor: Actor, data: dict) -> WorkerRate:
    """An independent worker's rate from a date: their usual one (the worker), or one
    agreed with a team (a facilitator records it)."""
    team_id = data.get("team_id")
    if team_id is None:
        cooperative_id = data["cooperative_id"]
        ensure(data["person_id"] == actor.person_id and (cooperative_id in actor.member_of
                                                          or worker_profile(cooperative_id, actor.person_id) is not None))
    else:
        team, access = get_visible_team(actor, team_id)
        ensure(perm.can_set_team_terms(access))
        cooperative_id = team.cooperative_id
        in_team = db.session.scalar(sa.select(TeamMember.id).where(
            TeamMember.team_id == team.id, TeamMember.person_id == data["person_id"],
            TeamMember.role == TeamRole.paid_worker,
            TeamMember.status.in_((TeamMemberStatus.trial, TeamMemberStatus.active))).limit(1))
        if in_team is None:
            raise ValidationError("Choose one of the team's paid workers.", details={"fields": {
                "person_id": ["Choose one of the team's paid workers."]}})
        profile = worker_profile(cooperative_id, data["person_id"])
        if profile is not None and profile.employment_type == EmploymentType.employed:
            raise ValidationError("This worker is employed by the co-op and paid its rate for the team's area band.",
                                  details={"fields": {"person_id": [
                                      "This worker is employed by the co-op and paid its rate for the team's area "
                                      "band: agree rates only with independent workers."]}})
    taken = db.session.scalar(sa.select(WorkerRate.id).where(
        WorkerRate.person_id == data["person_id"], WorkerRate.effective_from == data["effective_from"],
        WorkerRate.team_id.is_(None) if team_id is None else WorkerRate.team_id == team_id).limit(1))
    if taken is not None:
        raise Conflict("There is already a rate from that day: choose another day.", code="rate_exists",
                       details={"fields": {"effective_from": ["There is already a rate from that day."]}})
    row = WorkerRate(cooperative_id=cooperative_id, person_id=data["person_id"], team_id=team_id,
                     effective_from=data["effective_from"], hourly_rate_pence=data["hourly_rate_pence"])
    db.session.add(row)
    db.session.flush()
    return row


class Unpriced(Exception):
    pass


class PriceBook:
    """What `terms_for` reads for one co-op, loaded once (four queries) for a pay run of
    many entries instead of three queries per entry: its teams' area bands and funders,
    its pay rates, its independent workers' agreed rates. Same answers as the queries."""

    def __init__(self, cooperative_id: int):
        in_coop = sa.select(Team.id).where(Team.cooperative_id == cooperative_id)
        self.bands: dict[int, AreaBand] = dict(db.session.execute(sa.select(
            TeamHoursTerms.team_id, TeamHoursTerms.area_band).where(TeamHoursTerms.team_id.in_(in_coop))).all())
        self.coop_rates: dict[AreaBand, list[CoopPayRate]] = defaultdict(list)
        for rate in db.session.scalars(sa.select(CoopPayRate).where(CoopPayRate.cooperative_id == cooperative_id)
                                       .order_by(CoopPayRate.effective_from.desc())):
            self.coop_rates[rate.area_band].append(rate)
        self.worker_rates: dict[int, list[WorkerRate]] = defaultdict(list)
        for rate in db.session.scalars(sa.select(WorkerRate).where(WorkerRate.cooperative_id == cooperative_id)):
            self.worker_rates[rate.person_id].append(rate)
        self.funders: dict[int, list[Funder]] = defaultdict(list)
        for funder in db.session.scalars(sa.select(Funder).where(Funder.team_id.in_(in_coop), Funder.active)
                                         .order_by(Funder.id)):
            self.funders[funder.team_id].append(funder)

    def band(self, team_id: int) -> AreaBand:
        return self.bands.get(team_id) or AreaBand.urban

    def coop_rate(self, band: AreaBand, day) -> CoopPayRate | None:
        return next((r for r in self.coop_rates.get(band, ()) if r.effective_from <= day), None)

    def agreed_rate(self, person_id: int, team_id: int, day) -> WorkerRate | None:
        # As the query: the team's own rate before the usual one, then the latest in force.
        rows = [r for r in self.worker_rates.get(person_id, ()) if r.team_id in (team_id, None)
                and r.effective_from <= day]
        return min(rows, key=lambda r: (r.team_id is None, -r.effective_from.toordinal()), default=None)


def terms_for(entry: TimesheetEntry, profile: WorkerProfile | None, settings: HoursSettings,
              book: PriceBook | None = None) -> rules.PayTerms:
    """What an entry is paid at: the rate in force on the local day the work started
    (read from `book` when given: its co-op's PriceBook, else queried)."""
    team = entry.team
    day = entry.started_at.astimezone(ZoneInfo(team.zone)).date()
    bank_holiday = day in rules.load_wage_table()["bank_holidays"]
    common = dict(sleep_in_pence=settings.sleep_in_allowance_pence,
                  cancellation_percent=settings.cancellation_pay_percent,
                  mileage_pence_per_mile=settings.mileage_pence_per_mile, charge_percent=settings.charge_percent,
                  deduction_percent=settings.deduction_percent, bank_holiday=bank_holiday)
    if profile is not None and profile.employment_type == EmploymentType.employed:
        if book is not None:
            band = book.band(team.id)
            rates = book.coop_rate(band, day)
        else:
            band = db.session.scalar(sa.select(TeamHoursTerms.area_band).where(TeamHoursTerms.team_id == team.id)) \
                or AreaBand.urban
            rates = db.session.scalars(sa.select(CoopPayRate).where(
                CoopPayRate.cooperative_id == team.cooperative_id, CoopPayRate.area_band == band,
                CoopPayRate.effective_from <= day).order_by(CoopPayRate.effective_from.desc()).limit(1)).first()
        if rates is None:
            raise Unpriced(f"no {band.value} pay rate for {day.isoformat()}")
        return rules.PayTerms(employed=True, hourly_pence=rates.hourly_rate_pence,
                              night_pence=rates.night_enhancement_pence,
                              bank_holiday_pence=rates.bank_holiday_enhancement_pence, **common)
    if book is not None:
        agreed = book.agreed_rate(entry.person_id, team.id, day)
    else:
        agreed = db.session.scalars(sa.select(WorkerRate).where(
            WorkerRate.person_id == entry.person_id, WorkerRate.cooperative_id == team.cooperative_id,
            sa.or_(WorkerRate.team_id == team.id, WorkerRate.team_id.is_(None)), WorkerRate.effective_from <= day)
            .order_by(WorkerRate.team_id.is_(None), WorkerRate.effective_from.desc()).limit(1)).first()
    pence = agreed.hourly_rate_pence if agreed else (profile.hourly_rate_pence if profile else None)
    if not pence:
        raise Unpriced("no hourly rate for this worker")
    return rules.PayTerms(employed=False, hourly_pence=pence, **common)


def facts_of(entry: TimesheetEntry) -> rules.EntryFacts:
    return rules.EntryFacts(kind=entry.kind, worked_minutes=rules.worked_minutes(
        entry.started_at, entry.ended_at, entry.break_minutes), travel_minutes=entry.travel_minutes,
        mileage=entry.mileage)


def working_minutes_of(entry: TimesheetEntry) -> int:
    """Minimum-wage working time: visit time, travel between visits, waiting. A sleep-in's
    sleeping hours and a cancelled visit are not working time (nor is their pay counted)."""
    if entry.kind in (EntryKind.sleep_in, EntryKind.cancellation):
        return 0
    return rules.worked_minutes(entry.started_at, entry.ended_at, entry.break_minutes) \
        + entry.travel_minutes + entry.waiting_minutes


WAGE_ELEMENTS = frozenset({"hours", "travel", "night_enhancement", "bank_holiday_enhancement"})
