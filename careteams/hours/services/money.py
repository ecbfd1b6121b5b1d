"""Money for the person it concerns: a team's invoices per visit and per funder (for the
supported member, her arrangers and a `see_money` hat), a worker's statements or
payslip lines per run, and what a visit will pay (for the worker booked on it).

Every figure comes from the lines a pay run stored (`RunLine`, `RunInvoiceLine`), so
these pages always agree with the run's payroll, statements and invoices; what a
visit *will* pay is priced with the same rules the run uses (`rates.terms_for`,
`rules.pay_lines`).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours import rules
from careteams.hours.enums import EntryKind, TimesheetStatus
from careteams.hours.models import PayRun, RunEntry, RunInvoiceLine, RunLine, TimesheetEntry
from careteams.hours.services.common import KIND_OF_SHIFT, worker_profile
from careteams.hours.services.fair_pay import fair_pay_rows
from careteams.hours.services.rates import Unpriced, facts_of, settings_for, terms_for
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota.models import Shift
from careteams.teams.models import Team
from careteams.teams.services.access import get_visible_team

ENHANCEMENTS = ("night_enhancement", "bank_holiday_enhancement")
TIME_ELEMENTS = ("hours", "travel", "night_enhancement", "bank_holiday_enhancement", "cancellation")


def gbp(pence: int) -> str:
    """Pounds for a CSV: 1234 -> 12.34, -5 -> -0.05 (no sign, no thousands separator)."""
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def _when(entry: TimesheetEntry) -> tuple[date, str, str]:
    zone = ZoneInfo(entry.team.zone)
    start, end = entry.started_at.astimezone(zone), entry.ended_at.astimezone(zone)
    return start.date(), f"{start:%H:%M}", f"{end:%H:%M}"


def month_label(day: date) -> str:
    return f"{day:%b %Y}"


# ------------------------------------------------------------------ the team's invoices


@dataclass
class VisitCharge:
    entry_id: int
    day: date
    start: str
    end: str
    worker: str
    minutes: Decimal  # hours charged, in minutes (net of anything a correction takes back)
    rate_pence: int | None  # the hourly rate before the co-op's contribution
    enhancements_pence: int  # night and bank-holiday enhancements, as charged
    travel_mileage_pence: int  # travel time and mileage, as charged
    shares: dict[str, int]  # funder name -> that funder's share of this visit
    total_pence: int
    corrects: bool = False  # the figures are the difference a correction makes

    @property
    def hours(self) -> Decimal:
        return rules.hours_2dp(self.minutes)


@dataclass
class MoneyPeriod:
    run_id: int
    period_start: date
    period_end: date  # exclusive
    visits: list[VisitCharge] = field(default_factory=list)
    funder_totals: dict[str, int] = field(default_factory=dict)
    total_pence: int = 0

    @property
    def minutes(self) -> Decimal:
        return sum((v.minutes for v in self.visits), Decimal(0))

    @property
    def hours(self) -> Decimal:
        return rules.hours_2dp(self.minutes)


@dataclass
class Funding:
    name: str
    kind: str  # self_funded, council, isf, direct_payment, none
    label: str  # "Ann (self-funded)"
    is_self: bool


@dataclass
class TeamMoney:
    team: Team
    funders: list[Funding]
    periods: list[MoneyPeriod]  # newest first

    def monthly(self) -> list[tuple[date, Decimal, int]]:
        """(first of month, hours (2 dp), cost in pence) per month, oldest first."""
        minutes: dict[date, Decimal] = defaultdict(Decimal)
        cost: dict[date, int] = defaultdict(int)
        for period in self.periods:
            month = period.period_start.replace(day=1)
            minutes[month] += period.minutes
            cost[month] += period.total_pence
        return [(m, rules.hours_2dp(minutes[m]), cost[m]) for m in sorted(minutes)]


KIND_LABELS = {"self_funded": "self-funded", "council": "council", "isf": "individual service fund",
               "direct_payment": "direct payment", "none": "no funder set"}


def team_money(actor: Actor, team_id: int) -> TeamMoney:
    """Every invoice for the team's support, per run and per visit, with each funder's share."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_team_money(access))
    rows = db.session.execute(
        sa.select(RunInvoiceLine, RunEntry, PayRun).join(RunEntry, RunEntry.id == RunInvoiceLine.run_entry_id)
        .join(PayRun, PayRun.id == RunEntry.run_id).where(RunEntry.team_id == team.id)
        .order_by(PayRun.period_start.desc(), PayRun.id, RunEntry.entry_id, RunInvoiceLine.id)).all()
    periods: dict[int, MoneyPeriod] = {}
    visits: dict[int, VisitCharge] = {}
    funders: dict[str, Funding] = {}
    for inv, run_entry, run in rows:
        period = periods.get(run.id)
        if period is None:
            period = periods[run.id] = MoneyPeriod(run.id, run.period_start, run.period_end)
        if inv.funder_name not in funders:
            funders[inv.funder_name] = Funding(inv.funder_name, inv.funder_kind,
                                               f"{inv.funder_name} ({KIND_LABELS.get(inv.funder_kind, inv.funder_kind)})",
                                               inv.funder_kind == "self_funded")
        visit = visits.get(run_entry.id)
        if visit is None:
            visit = visits[run_entry.id] = _visit_charge(run_entry)
            period.visits.append(visit)
        visit.shares[inv.funder_name] = visit.shares.get(inv.funder_name, 0) + inv.amount_pence
        visit.total_pence += inv.amount_pence
        period.funder_totals[inv.funder_name] = period.funder_totals.get(inv.funder_name, 0) + inv.amount_pence
        period.total_pence += inv.amount_pence
    for period in periods.values():
        period.visits.sort(key=lambda v: (v.day, v.start, v.entry_id))
    # Her own share first, then the others by name.
    ordered = sorted(funders.values(), key=lambda f: (not f.is_self, f.name))
    return TeamMoney(team, ordered, list(periods.values()))


def _visit_charge(run_entry: RunEntry) -> VisitCharge:
    entry = db.session.get(TimesheetEntry, run_entry.entry_id)
    day, start, end = _when(entry)
    lines = db.session.scalars(sa.select(RunLine).where(RunLine.run_entry_id == run_entry.id)
                               .order_by(RunLine.id)).all()
    rate = next((line.rate_pence for line in lines if line.reverses_line_id is None
                 and line.element in ("hours", "cancellation", "sleep_in")), None)
    return VisitCharge(
        entry_id=entry.id, day=day, start=start, end=end, worker=entry.person.name,
        minutes=sum((line.quantity for line in lines if line.element in ("hours", "cancellation")), Decimal(0)),
        rate_pence=rate,
        enhancements_pence=sum(line.charge_pence for line in lines if line.element in ENHANCEMENTS),
        travel_mileage_pence=sum(line.charge_pence for line in lines if line.element in ("travel", "mileage")),
        shares={}, total_pence=0, corrects=any(line.reverses_line_id is not None for line in lines))


def team_money_csv(money: TeamMoney) -> str:
    """One row per visit per run: the same figures as the page, in pounds."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = [f.name for f in money.funders]
    writer.writerow(["period_start", "period_end", "entry_id", "date", "start", "end", "worker", "hours",
                     "hourly_rate_gbp", "enhancements_gbp", "travel_and_mileage_gbp",
                     *[f"share_{f.label}_gbp" for f in money.funders], "total_gbp"])
    for period in money.periods:
        for v in period.visits:
            writer.writerow([period.period_start, period.period_end, v.entry_id, v.day, v.start, v.end, v.worker,
                             v.hours, "" if v.rate_pence is None else gbp(v.rate_pence), gbp(v.enhancements_pence),
                             gbp(v.travel_mileage_pence), *[gbp(v.shares.get(n, 0)) for n in names],
                             gbp(v.total_pence)])
        writer.writerow([period.period_start, period.period_end, "total", "", "", "", "",
                         rules.hours_2dp(period.minutes), "", "", "",
                         *[gbp(period.funder_totals.get(n, 0)) for n in names], gbp(period.total_pence)])
    return out.getvalue()


# ------------------------------------------------------------------ a worker's pay


@dataclass
class VisitPay:
    entry_id: int
    team: str
    day: date
    start: str
    end: str
    minutes: Decimal  # visit time paid (net)
    travel_minutes: Decimal
    miles: Decimal
    hours_pence: int  # visit time (and cancellation, sleep-in) paid
    travel_pence: int
    enhancements_pence: int
    mileage_pence: int
    gross_pence: int  # before the co-op's contribution (independent workers)
    pay_pence: int  # what she is paid for it
    corrects: bool = False

    @property
    def deduction_pence(self) -> int:
        return self.gross_pence - self.pay_pence

    @property
    def hours(self) -> Decimal:
        return rules.hours_2dp(self.minutes)

    @property
    def travel_hours(self) -> Decimal:
        return rules.hours_2dp(self.travel_minutes)


@dataclass
class Statement:
    run: PayRun
    person_id: int
    name: str
    employed: bool
    deduction_percent: Decimal
    visits: list[VisitPay]
    fair_pay: rules.FairPay | None
    band: str | None

    def total(self, name: str):
        return sum((getattr(v, name) for v in self.visits), Decimal(0) if name in (
            "minutes", "travel_minutes", "miles") else 0)


def _gross(line: RunLine, keep: Fraction) -> int:
    """A line's amount before the co-op's contribution is deducted: exact from its stored
    quantity and rate for time, sleep-in and mileage (an expense, never deducted)."""
    if line.element == "mileage":
        return line.pay_pence
    if line.element in ("hours", "travel", "night_enhancement", "bank_holiday_enhancement"):
        return rules.round_half_up(Fraction(line.quantity) / 60 * line.rate_pence)
    if line.element == "sleep_in":
        return rules.round_half_up(Fraction(line.quantity) * line.rate_pence)
    # A cancellation's percentage is not stored with the line: take it back from the pay.
    return rules.round_half_up(Fraction(line.pay_pence) / keep) if keep else line.pay_pence


def statement(actor: Actor, run_id: int, person_id: int) -> Statement:
    """A worker's statement (independent) or payslip lines (employed) in one run: each visit,
    hours, travel, enhancements, mileage, the co-op's contribution deducted, totals and
    her effective hourly pay against the legal minimum for the period."""
    run = db.session.get(PayRun, run_id)
    person = db.session.get(Person, person_id)
    if run is None or person is None:
        raise NotFound("No such statement.")
    ensure(perm.can_see_statement(actor, run.cooperative_id, person_id),
           not_found=not actor.is_staff(run.cooperative_id) and run.cooperative_id not in actor.member_of)
    run_entries = db.session.scalars(sa.select(RunEntry).where(RunEntry.run_id == run.id,
                                                               RunEntry.person_id == person_id)
                                     .order_by(RunEntry.entry_id)).all()
    if not run_entries:
        raise NotFound("No such statement.")
    employed = run_entries[0].employed
    deduction = Decimal(0) if employed else Decimal(settings_for(run.cooperative_id).deduction_percent)
    keep = 1 - rules.percent(deduction)
    visits = []
    for run_entry in run_entries:
        lines = db.session.scalars(sa.select(RunLine).where(RunLine.run_entry_id == run_entry.id)).all()
        if not lines:
            continue  # corrected before it was ever paid: its correction carries the figures
        entry = db.session.get(TimesheetEntry, run_entry.entry_id)
        day, start, end = _when(entry)

        def total(elements, attr="pay_pence", _lines=lines):
            return sum(getattr(line, attr) for line in _lines if line.element in elements)

        visits.append(VisitPay(
            entry_id=entry.id, team=entry.team.display_name, day=day, start=start, end=end,
            minutes=total(("hours", "cancellation"), "quantity") or Decimal(0),
            travel_minutes=total(("travel",), "quantity") or Decimal(0),
            miles=total(("mileage",), "quantity") or Decimal(0),
            hours_pence=total(("hours", "cancellation", "sleep_in")), travel_pence=total(("travel",)),
            enhancements_pence=total(ENHANCEMENTS), mileage_pence=total(("mileage",)),
            gross_pence=sum(_gross(line, keep) for line in lines),
            pay_pence=sum(line.pay_pence for line in lines),
            corrects=any(line.reverses_line_id is not None for line in lines)))
    visits.sort(key=lambda v: (v.day, v.start, v.entry_id))
    row = next((r for r in fair_pay_rows(run) if r.person_id == person_id), None)
    return Statement(run, person_id, person.name, employed, deduction, visits,
                     row.result if row else None, row.band if row else None)


def statement_csv(st: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period_start", "period_end", "entry_id", "team", "date", "start", "end", "hours",
                     "travel_hours", "miles", "hours_gbp", "travel_gbp", "enhancements_gbp", "mileage_gbp",
                     "gross_gbp", "coop_contribution_gbp", "pay_gbp"])
    for v in st.visits:
        writer.writerow([st.run.period_start, st.run.period_end, v.entry_id, v.team, v.day, v.start, v.end, v.hours,
                         v.travel_hours, v.miles, gbp(v.hours_pence), gbp(v.travel_pence),
                         gbp(v.enhancements_pence), gbp(v.mileage_pence), gbp(v.gross_pence),
                         gbp(v.deduction_pence), gbp(v.pay_pence)])
    writer.writerow([st.run.period_start, st.run.period_end, "total", "", "", "", "",
                     rules.hours_2dp(st.total("minutes")), rules.hours_2dp(st.total("travel_minutes")),
                     st.total("miles"), gbp(st.total("hours_pence")), gbp(st.total("travel_pence")),
                     gbp(st.total("enhancements_pence")), gbp(st.total("mileage_pence")),
                     gbp(st.total("gross_pence")), gbp(st.total("deduction_pence")), gbp(st.total("pay_pence"))])
    return out.getvalue()


@dataclass
class PayRunSummary:
    run_id: int
    cooperative_id: int
    period_start: date
    period_end: date
    minutes: Decimal  # visit and travel time paid
    pay_pence: int
    url: str


def my_pay(actor: Actor) -> list[PayRunSummary]:
    """The runs that paid the worker, newest first, with her hours and pay in each."""
    rows = db.session.execute(
        sa.select(PayRun, RunLine).join(RunEntry, RunEntry.run_id == PayRun.id)
        .join(RunLine, RunLine.run_entry_id == RunEntry.id).where(RunEntry.person_id == actor.person_id)
        .order_by(PayRun.period_start.desc(), PayRun.id)).all()
    runs: dict[int, PayRunSummary] = {}
    for run, line in rows:
        summary = runs.get(run.id)
        if summary is None:
            summary = runs[run.id] = PayRunSummary(
                run.id, run.cooperative_id, run.period_start, run.period_end, Decimal(0), 0,
                f"/hours/runs/{run.id}/statements/{actor.person_id}")
        if line.element in ("hours", "travel", "cancellation"):
            summary.minutes += line.quantity
        summary.pay_pence += line.pay_pence
    return list(runs.values())


def monthly_pay(summaries: list[PayRunSummary]) -> list[tuple[date, Decimal, int]]:
    """(first of month, hours (2 dp), pay in pence) per month, oldest first."""
    minutes: dict[date, Decimal] = defaultdict(Decimal)
    pay: dict[date, int] = defaultdict(int)
    for s in summaries:
        month = s.period_start.replace(day=1)
        minutes[month] += s.minutes
        pay[month] += s.pay_pence
    return [(m, rules.hours_2dp(minutes[m]), pay[m]) for m in sorted(minutes)]


# ------------------------------------------------------------------ what a visit will pay


@dataclass
class ExpectedPay:
    employed: bool
    rate_pence: int  # hourly rate (before the co-op's contribution, for independent workers)
    pay_pence: int  # what she will be paid for it (after the deduction, for independent workers)
    deduction_percent: Decimal
    lines: list[rules.PayLine]


@dataclass
class _Planned:
    """What terms_for needs of an entry, for a visit not yet worked."""

    team: Team
    person_id: int
    started_at: datetime


def _expected(entry_like, facts: rules.EntryFacts, cooperative_id: int) -> ExpectedPay | None:
    settings = settings_for(cooperative_id)
    try:
        terms = terms_for(entry_like, worker_profile(cooperative_id, entry_like.person_id), settings)
    except Unpriced:
        return None
    lines = rules.pay_lines(facts, terms)
    return ExpectedPay(terms.employed, terms.hourly_pence, sum(line.pay_pence for line in lines),
                       Decimal(0) if terms.employed else Decimal(terms.deduction_percent), lines)


def expected_pay_for_entry(entry: TimesheetEntry) -> ExpectedPay | None:
    """What an entry pays its worker, priced as the run will price it (None: no rate yet).
    The caller has already shown the entry to its worker."""
    if entry.status == TimesheetStatus.void:
        return None
    return _expected(entry, facts_of(entry), entry.team.cooperative_id)


def expected_pay_for_entries(actor: Actor, entries: list[TimesheetEntry]) -> dict[int, ExpectedPay]:
    """Expected pay for the actor's own entries (other people's are left out)."""
    out = {}
    for entry in entries:
        if entry.person_id == actor.person_id:
            pay = expected_pay_for_entry(entry)
            if pay is not None:
                out[entry.id] = pay
    return out


def expected_pay_for_shift(actor: Actor, shift: Shift) -> ExpectedPay | None:
    """What a visit on the rota will pay the actor if she works it as planned (visit time
    only: travel and mileage are added when she logs them). Only for a paid worker's
    own visit or offer; the caller has checked she may see the visit."""
    team = db.session.get(Team, shift.team_id)
    kind = KIND_OF_SHIFT.get(shift.kind, EntryKind.visit)
    minutes = int((shift.ends_at - shift.starts_at).total_seconds() // 60)
    facts = rules.EntryFacts(kind=kind, worked_minutes=minutes)
    return _expected(_Planned(team, actor.person_id, shift.starts_at), facts, team.cooperative_id)
