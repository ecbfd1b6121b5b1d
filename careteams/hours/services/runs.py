"""Pay and invoice runs: close a period's run, its report (payroll, statements, invoices) and CSV exports."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours import rules
from careteams.hours.enums import TimesheetStatus
from careteams.hours.models import (
    PayRun,
    RunEntry,
    RunHeldBack,
    RunInvoiceLine,
    RunLine,
    TimesheetEntry,
)
from careteams.hours.services.common import check_business_day, superseded
from careteams.hours.services.fair_pay import FairPayRow, fair_pay_rows, flag_fair_pay
from careteams.hours.services.rates import (
    WAGE_ELEMENTS,
    PriceBook,
    Unpriced,
    active_funders,
    facts_of,
    settings_for,
    terms_for,
    working_minutes_of,
)
from careteams.matching.models import EmploymentType, WorkerProfile
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor
from careteams.teams.models import Team

log = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    run: PayRun
    created: bool
    held_back: list[tuple[int, str]] = field(default_factory=list)  # (entry id, why)


def close_run(actor: Actor, cooperative_id: int, period_start: date, now: datetime | None = None) -> RunOutcome:
    """Make (and close) the co-op's run for the period starting on `period_start`.

    Takes every confirmed entry not yet in any run that started before the period's
    end, so an entry confirmed after an earlier run closed goes into this one. Asking
    again for a closed period returns the same run with the same stored figures.
    """
    now = now or utcnow()
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    coop = db.session.get(Cooperative, cooperative_id)
    settings = settings_for(cooperative_id)
    try:
        start, end = rules.period_bounds(settings.pay_frequency, period_start)
    except ValueError as exc:
        raise ValidationError(details={"fields": {"period_start": [str(exc)]}}) from None
    check_business_day(coop, start, "period_start", now)
    if rules.local_midnight_utc(end, coop.timezone) > now:
        raise ValidationError(details={"fields": {"period_start": ["The period has not ended yet."]}})
    existing = db.session.scalar(sa.select(PayRun).where(
        PayRun.cooperative_id == cooperative_id, PayRun.frequency == settings.pay_frequency,
        PayRun.period_start == start))
    if existing is not None:
        return RunOutcome(existing, False, held_back_of(existing))
    run = PayRun(cooperative_id=cooperative_id, frequency=settings.pay_frequency, period_start=start,
                 period_end=end, closed_at=now, created_by_id=actor.person_id)
    db.session.add(run)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("That run is being made by someone else; try again.", code="run_in_progress") from None
    cutoff = rules.local_midnight_utc(end, coop.timezone)
    in_a_run = sa.select(RunEntry.id).where(RunEntry.entry_id == TimesheetEntry.id).exists()
    due = sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
        Team.cooperative_id == cooperative_id, TimesheetEntry.status == TimesheetStatus.confirmed,
        TimesheetEntry.confirmed_at <= now, TimesheetEntry.started_at < cutoff, ~in_a_run)
    entries = db.session.scalars(due.order_by(TimesheetEntry.started_at, TimesheetEntry.id)).all()
    # Read once for the run, not per entry: profiles, prices and funders, and which
    # entries a confirmed correction replaces.
    book = PriceBook(cooperative_id)
    profiles: dict[int, WorkerProfile | None] = {p.person_id: p for p in db.session.scalars(
        sa.select(WorkerProfile).options(sa.orm.lazyload("*")).where(WorkerProfile.cooperative_id == cooperative_id))}
    replaced = set(db.session.scalars(sa.select(TimesheetEntry.corrects_id).where(
        TimesheetEntry.corrects_id.in_(due.with_only_columns(TimesheetEntry.id)),
        TimesheetEntry.status == TimesheetStatus.confirmed, TimesheetEntry.confirmed_at <= now)))
    held_back: list[tuple[int, str]] = []
    for i in range(0, len(entries), RUN_BATCH):
        held_back += _settle_batch(run, entries[i:i + RUN_BATCH], profiles, replaced, book, settings, start, now)
    db.session.flush()
    flag_fair_pay(run)
    return RunOutcome(run, True, held_back)


RUN_BATCH = 500  # entries recorded per savepoint and per batched INSERT


def _settle_batch(run: PayRun, entries: list[TimesheetEntry], profiles: dict, replaced: set[int], book: PriceBook,
                  settings, start: date, now: datetime) -> list[tuple[int, str]]:
    """Record a batch of entries in one savepoint with one INSERT per table; returns those
    held back (no price). Entries that correct others go one by one (`_settle`: they take
    back earlier lines). If the database refuses anything in the batch, the batch is
    rolled back and done again one entry per savepoint, so only the refused entry waits."""
    held: list[tuple[int, str]] = []
    alone = [e for e in entries if e.corrects_id is not None]
    try:
        with db.session.begin_nested():
            recorded = []
            for entry in entries:
                if entry.corrects_id is not None:
                    continue
                profile = profiles.get(entry.person_id)
                if entry.id in replaced:
                    lines, working = [], 0  # corrected before it was paid: settled with no lines
                else:
                    try:
                        lines = rules.pay_lines(facts_of(entry), terms_for(entry, profile, settings, book))
                    except Unpriced as exc:
                        held.append((entry.id, str(exc)))
                        continue
                    working = working_minutes_of(entry)
                recorded.append((entry, _run_entry_values(run, entry, profile, working, start), lines))
            # Bulk INSERTs (one statement per table and batch), not a unit of work per row.
            # (The ids are read back, not RETURNed: SQLite would insert one row per statement
            # to keep RETURNING in order.)
            ids: dict[int, int] = {}
            if recorded:
                db.session.execute(sa.insert(RunEntry), [values for _, values, _ in recorded])
                ids = dict(db.session.execute(sa.select(RunEntry.entry_id, RunEntry.id).where(
                    RunEntry.run_id == run.id, RunEntry.entry_id.in_([e.id for e, _, _ in recorded]))).all())
            line_rows: list[dict] = []
            invoice_rows: list[dict] = []
            for entry, _, lines in recorded:
                pay, invoice = _line_values(ids[entry.id], lines, book.funders.get(entry.team_id, []))
                line_rows += pay
                invoice_rows += invoice
            for model, rows in ((RunLine, line_rows), (RunInvoiceLine, invoice_rows)):
                if rows:
                    db.session.execute(sa.insert(model), rows)
            if held:
                db.session.execute(sa.insert(RunHeldBack), [
                    {"run_id": run.id, "entry_id": entry_id, "reason": why[:200]} for entry_id, why in held])
    except SQLAlchemyError:
        log.warning("pay run %s: a batch of %d entries was refused; recording them one by one", run.id, len(entries))
        held = []
        alone = entries
    for entry in alone:
        why = _settle(run, entry, profiles.get(entry.person_id), settings, start, now)
        if why is not None:
            held.append((entry.id, why))
            db.session.add(RunHeldBack(run_id=run.id, entry_id=entry.id, reason=why[:200]))
    return held


def _settle(run: PayRun, entry: TimesheetEntry, profile: WorkerProfile | None, settings, start: date,
            now: datetime) -> str | None:
    """Record one entry in the run, in a savepoint of its own; or say why it is held back.

    An entry corrected before it was ever paid is recorded with no lines (the
    correction's figures replace it), so it is settled and never picked up again.
    The end of a correction chain is priced alone, and every line still standing for
    the entries it corrects (paid in earlier runs, not yet taken back) is taken back
    line by line: so across all runs the chain pays exactly its latest figures."""
    try:
        with db.session.begin_nested():
            if superseded(entry, now):
                _record(run, entry, profile, [], working=0, start=start, chain_end=False)
            else:
                terms = terms_for(entry, profile, settings)
                _record(run, entry, profile, rules.pay_lines(facts_of(entry), terms),
                        working=working_minutes_of(entry), start=start, chain_end=True)
            db.session.flush()
    except Unpriced as exc:
        return str(exc)
    except SQLAlchemyError:
        # One entry the database refuses must not stop everyone's pay: it waits for a
        # later run, the run page says so, and the error is logged for the developers.
        log.exception("pay run %s: entry %s could not be recorded", run.id, entry.id)
        return "it could not be recorded (the error is logged); it waits for a later run"
    return None


def held_back_of(run: PayRun) -> list[tuple[int, str]]:
    """The entries a run held back, and why."""
    return [(row.entry_id, row.reason) for row in db.session.scalars(
        sa.select(RunHeldBack).where(RunHeldBack.run_id == run.id).order_by(RunHeldBack.entry_id))]


def corrected_ids(entry: TimesheetEntry) -> list[int]:
    """Every entry this one corrects, directly or through earlier corrections."""
    ids: list[int] = []
    current = entry.corrects_id
    while current is not None and current not in ids:
        ids.append(current)
        current = db.session.scalar(sa.select(TimesheetEntry.corrects_id).where(TimesheetEntry.id == current))
    return ids


def _standing_lines(earlier: list[int]) -> list[RunLine]:
    """Lines paid for the corrected entries that nothing has taken back yet (a
    taking-back line is itself never taken back)."""
    if not earlier:
        return []
    taken = sa.select(RunLine.reverses_line_id).where(RunLine.reverses_line_id.is_not(None))
    return list(db.session.scalars(sa.select(RunLine).join(RunEntry, RunEntry.id == RunLine.run_entry_id).where(
        RunEntry.entry_id.in_(earlier), RunLine.reverses_line_id.is_(None), RunLine.id.not_in(taken))
        .order_by(RunLine.id)))


def _standing_invoice_lines(earlier: list[int]) -> list[RunInvoiceLine]:
    if not earlier:
        return []
    taken = sa.select(RunInvoiceLine.reverses_line_id).where(RunInvoiceLine.reverses_line_id.is_not(None))
    return list(db.session.scalars(sa.select(RunInvoiceLine).join(
        RunEntry, RunEntry.id == RunInvoiceLine.run_entry_id).where(
        RunEntry.entry_id.in_(earlier), RunInvoiceLine.reverses_line_id.is_(None),
        RunInvoiceLine.id.not_in(taken)).order_by(RunInvoiceLine.id)))


def _run_entry_values(run: PayRun, entry: TimesheetEntry, profile: WorkerProfile | None, working: int,
                      start: date) -> dict:
    employed = profile is not None and profile.employment_type == EmploymentType.employed
    band = rules.age_band(profile.date_of_birth if profile else None, start)
    return {"run_id": run.id, "entry_id": entry.id, "person_id": entry.person_id, "team_id": entry.team_id,
            "employed": employed, "working_minutes": working, "age_band": band}


def _line_values(run_entry_id: int, lines: list[rules.PayLine], funders: list) -> tuple[list[dict], list[dict]]:
    """An entry's pay lines, and its charge split between the team's funders (as rows)."""
    pay = [{"run_entry_id": run_entry_id, "element": line.element, "quantity": line.quantity,
            "rate_pence": line.rate_pence, "pay_pence": line.pay_pence, "charge_pence": line.charge_pence,
            "wage_pay": line.element in WAGE_ELEMENTS} for line in lines]
    charge = sum(line.charge_pence for line in lines)
    invoice = []
    if charge and funders:
        parts = rules.split_by_shares(charge, [f.share_percent for f in funders])
        invoice = [{"run_entry_id": run_entry_id, "funder_id": funder.id, "funder_name": funder.name,
                    "funder_kind": funder.kind.value, "share_percent": funder.share_percent, "amount_pence": part}
                   for funder, part in zip(funders, parts, strict=True)]
    elif charge:
        invoice = [{"run_entry_id": run_entry_id, "funder_id": None, "funder_name": "No funder set",
                    "funder_kind": "none", "share_percent": 100, "amount_pence": charge}]
    return pay, invoice


def _record(run: PayRun, entry: TimesheetEntry, profile: WorkerProfile | None, lines: list[rules.PayLine], *,
            working: int, start: date, chain_end: bool) -> None:
    earlier = corrected_ids(entry) if chain_end else []
    # Fair-pay minutes likewise: this run counts what the chain has not counted yet.
    counted = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(RunEntry.working_minutes), 0)).where(
        RunEntry.entry_id.in_(earlier))) if earlier else 0
    run_entry = RunEntry(**_run_entry_values(run, entry, profile, working - counted, start))
    db.session.add(run_entry)
    db.session.flush()
    for old in _standing_lines(earlier):
        db.session.add(RunLine(run_entry_id=run_entry.id, element=old.element, reverses_line_id=old.id,
                               quantity=-old.quantity, rate_pence=old.rate_pence, pay_pence=-old.pay_pence,
                               charge_pence=-old.charge_pence, wage_pay=old.wage_pay))
    for old in _standing_invoice_lines(earlier):
        db.session.add(RunInvoiceLine(run_entry_id=run_entry.id, reverses_line_id=old.id, funder_id=old.funder_id,
                                      funder_name=old.funder_name, funder_kind=old.funder_kind,
                                      share_percent=old.share_percent, amount_pence=-old.amount_pence))
    pay, invoice = _line_values(run_entry.id, lines, active_funders(entry.team_id))
    db.session.add_all([RunLine(**row) for row in pay] + [RunInvoiceLine(**row) for row in invoice])


def _run_for(actor: Actor, run_id: int) -> PayRun:
    run = db.session.get(PayRun, run_id)
    if run is None:
        raise NotFound("No such run.")
    ensure(perm.can_run_pay(actor, run.cooperative_id),
           not_found=not actor.is_staff(run.cooperative_id) and run.cooperative_id not in actor.member_of)
    return run


def list_runs(actor: Actor, cooperative_id: int) -> list[PayRun]:
    """The co-op's runs, newest first (facilitators)."""
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    return list(db.session.scalars(sa.select(PayRun).where(PayRun.cooperative_id == cooperative_id)
                                   .order_by(PayRun.period_start.desc())))


@dataclass
class RunReport:
    run: PayRun
    payroll: list[dict]  # employed: one row per worker per pay element
    statements: list[dict]  # independent: one per worker, with lines
    invoices: list[dict]  # one per funder per team
    fair_pay: list[FairPayRow]
    totals: dict[str, int]
    held_back: list[dict] = field(default_factory=list)  # entry id, worker, date, why


def _when(entry: TimesheetEntry) -> dict:
    """The entry's date and start-end on its team's clock, and its hours (2 dp)."""
    zone = ZoneInfo(entry.team.zone)
    start, end = entry.started_at.astimezone(zone), entry.ended_at.astimezone(zone)
    minutes = rules.worked_minutes(entry.started_at, entry.ended_at, entry.break_minutes)
    return {"date": start.date().isoformat(), "start": f"{start:%H:%M}", "end": f"{end:%H:%M}",
            "worked_minutes": minutes}


def _measure(element: str, quantity: Decimal) -> dict:
    """A line's quantity under its own name: minutes and hours (2 dp), miles or nights."""
    unit = rules.ELEMENT_UNITS.get(element, "minutes")
    if unit == "minutes":
        return {"minutes": int(quantity), "hours": rules.hours_2dp(quantity), "miles": None, "nights": None}
    return {"minutes": None, "hours": None, "miles": quantity if unit == "miles" else None,
            "nights": int(quantity) if unit == "nights" else None}


def run_report(actor: Actor, run_id: int) -> RunReport:
    """A run's payroll rows, statements, invoices, fair-pay check and held-back entries,
    from its stored lines."""
    run = _run_for(actor, run_id)
    lines = db.session.execute(
        sa.select(RunLine, RunEntry, Person.name, Team.display_name).join(RunEntry, RunEntry.id == RunLine.run_entry_id)
        .join(Person, Person.id == RunEntry.person_id).join(Team, Team.id == RunEntry.team_id)
        .where(RunEntry.run_id == run.id).order_by(Person.name, RunEntry.person_id, RunLine.element, RunLine.id)).all()
    payroll: dict[tuple[int, str], dict] = {}
    statements: dict[int, dict] = {}
    for line, run_entry, name, team_name in lines:
        if run_entry.employed:
            row = payroll.setdefault((run_entry.person_id, line.element), {
                "person_id": run_entry.person_id, "name": name, "element": line.element,
                "quantity": Decimal(0), "amount_pence": 0})
            row["quantity"] += line.quantity
            row["amount_pence"] += line.pay_pence
        else:
            statement = statements.setdefault(run_entry.person_id, {
                "person_id": run_entry.person_id, "name": name, "lines": [], "total_pence": 0})
            for_entry, takes_back = _line_entry(line, run_entry)
            statement["lines"].append({"entry_id": run_entry.entry_id, "team": team_name, "element": line.element,
                                       "quantity": line.quantity, "rate_pence": line.rate_pence,
                                       "amount_pence": line.pay_pence, "takes_back_entry_id": takes_back,
                                       **_when(for_entry), **_measure(line.element, line.quantity)})
            statement["total_pence"] += line.pay_pence
    for row in payroll.values():
        row.update(_measure(row["element"], row["quantity"]))
    invoices: dict[tuple[int, str], dict] = {}
    for inv, run_entry, team_name in db.session.execute(
            sa.select(RunInvoiceLine, RunEntry, Team.display_name).join(RunEntry, RunEntry.id == RunInvoiceLine.run_entry_id)
            .join(Team, Team.id == RunEntry.team_id).where(RunEntry.run_id == run.id)
            .order_by(Team.display_name, RunInvoiceLine.funder_name, RunEntry.entry_id, RunInvoiceLine.id)).all():
        key = (run_entry.team_id, inv.funder_name)
        invoice = invoices.setdefault(key, {"team_id": run_entry.team_id, "team": team_name,
                                            "funder_id": inv.funder_id, "funder": inv.funder_name,
                                            "funder_kind": inv.funder_kind, "lines": [], "total_pence": 0})
        invoice["lines"].append(_invoice_line(inv, run_entry))
        invoice["total_pence"] += inv.amount_pence
    totals = {"payroll_pence": sum(r["amount_pence"] for r in payroll.values()),
              "statements_pence": sum(s["total_pence"] for s in statements.values()),
              "invoiced_pence": sum(i["total_pence"] for i in invoices.values())}
    held = []
    for entry_id, why in held_back_of(run):
        entry = db.session.get(TimesheetEntry, entry_id)
        paid_in = db.session.scalar(sa.select(PayRun.period_start).join(RunEntry, RunEntry.run_id == PayRun.id)
                                    .where(RunEntry.entry_id == entry_id))
        held.append({"entry_id": entry_id, "name": entry.person.name, "team": entry.team.display_name,
                     "reason": why, "paid_in_period": paid_in.isoformat() if paid_in else None, **_when(entry)})
    return RunReport(run, list(payroll.values()), list(statements.values()), list(invoices.values()),
                     fair_pay_rows(run), totals, held)


def _line_entry(line: RunLine, run_entry: RunEntry) -> tuple[TimesheetEntry, int | None]:
    """The entry a line is about: its own, or for a taking-back line the corrected one."""
    if line.reverses_line_id is None:
        return db.session.get(TimesheetEntry, run_entry.entry_id), None
    old = db.session.get(RunLine, line.reverses_line_id)
    return db.session.get(TimesheetEntry, old.run_entry.entry_id), old.run_entry.entry_id


def _invoice_line(inv: RunInvoiceLine, run_entry: RunEntry) -> dict:
    """Date, start-end, hours (2 dp), hourly rate and amount of one funder's share."""
    sign, about, takes_back = 1, run_entry, None
    if inv.reverses_line_id is not None:
        about = db.session.get(RunInvoiceLine, inv.reverses_line_id).run_entry
        sign, takes_back = -1, about.entry_id
    entry = db.session.get(TimesheetEntry, about.entry_id)
    when = _when(entry)
    rate = db.session.scalar(sa.select(RunLine.rate_pence).where(
        RunLine.run_entry_id == about.id, RunLine.reverses_line_id.is_(None),
        RunLine.element.in_(("hours", "cancellation", "sleep_in"))).order_by(RunLine.id).limit(1))
    return {"entry_id": run_entry.entry_id, "share_percent": inv.share_percent, "amount_pence": inv.amount_pence,
            "takes_back_entry_id": takes_back, "rate_pence": rate, **when,
            "hours": rules.hours_2dp(sign * when["worked_minutes"])}


def _gbp(pence: int) -> str:
    return rules.pounds(pence).lstrip("£").replace(",", "").replace("-£", "-")


def payroll_csv(report: RunReport) -> str:
    """One row per worker per pay element: minutes as minutes, hours to 2 dp, miles, nights."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period_start", "period_end", "person_id", "name", "pay_element", "minutes", "hours", "miles",
                     "nights", "amount_gbp"])
    for row in report.payroll:
        writer.writerow([report.run.period_start, report.run.period_end, row["person_id"], row["name"], row["element"],
                         *("" if row[k] is None else row[k] for k in ("minutes", "hours", "miles", "nights")),
                         _gbp(row["amount_pence"])])
    return out.getvalue()


def invoice_for(report: RunReport, team_id: int, funder_id: int | None) -> dict:
    for invoice in report.invoices:
        if invoice["team_id"] == team_id and invoice["funder_id"] == funder_id:
            return invoice
    raise NotFound("No such invoice in this run.")


def invoice_csv(report: RunReport, invoice: dict) -> str:
    """One row per entry: date, start-end, hours (2 dp), hourly rate, share and amount."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period_start", "period_end", "team", "funder", "entry_id", "date", "start", "end", "hours",
                     "hourly_rate_gbp", "share_percent", "amount_gbp", "takes_back_entry_id"])
    for line in invoice["lines"]:
        writer.writerow([report.run.period_start, report.run.period_end, invoice["team"], invoice["funder"],
                         line["entry_id"], line["date"], line["start"], line["end"], line["hours"],
                         "" if line["rate_pence"] is None else _gbp(line["rate_pence"]), line["share_percent"],
                         _gbp(line["amount_pence"]), line["takes_back_entry_id"] or ""])
    writer.writerow(["", "", "", "", "total", "", "", "", "", "", "", _gbp(invoice["total_pence"]), ""])
    return out.getvalue()
