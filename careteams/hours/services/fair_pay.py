"""The fair-pay check: effective hourly pay against the legal minimum, per run and for a worker's own month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams import notify
from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.enums import Frequency, TimesheetStatus
from careteams.hours.models import PayRun, RunEntry, RunLine, TimesheetEntry
from careteams.hours.services.common import facilitators_of, superseded, worker_profile
from careteams.hours.services.rates import (
    WAGE_ELEMENTS,
    Unpriced,
    facts_of,
    settings_for,
    terms_for,
    working_minutes_of,
)
from careteams.members.models import Person
from careteams.members.permissions import Actor


@dataclass
class FairPayRow:
    person_id: int
    name: str
    employed: bool
    band: str
    result: rules.FairPay


BAND_LABELS = {"21_and_over": "21 and over", "18_to_20": "18 to 20", "under_18": "under 18"}


def fair_pay_rows(run: PayRun) -> list[FairPayRow]:
    entries = db.session.scalars(sa.select(RunEntry).where(RunEntry.run_id == run.id)).all()
    pay: dict[int, int] = defaultdict(int)
    minutes: dict[int, int] = defaultdict(int)
    info: dict[int, tuple[bool, str]] = {}
    for run_entry in entries:
        minutes[run_entry.person_id] += run_entry.working_minutes
        info[run_entry.person_id] = (run_entry.employed, run_entry.age_band)
    for line in db.session.scalars(sa.select(RunLine).join(RunEntry).where(RunEntry.run_id == run.id, RunLine.wage_pay)):
        pay[line.run_entry.person_id] += line.pay_pence
    rows = []
    for person_id in sorted(info):
        employed, band = info[person_id]
        if minutes[person_id] <= 0:
            continue
        minimum = rules.minimum_hourly_pence(band, run.period_start)
        if minimum is None:
            continue
        person = db.session.get(Person, person_id)
        rows.append(FairPayRow(person_id, person.name, employed, band,
                               rules.fair_pay(pay[person_id], minutes[person_id], minimum[0],
                                              BAND_LABELS.get(band, band))))
    return rows


def flag_fair_pay(run: PayRun) -> None:
    below = [row for row in fair_pay_rows(run) if row.employed and row.result.below]
    if not below:
        return
    body = "Effective hourly pay below the legal minimum in the run for " \
           f"{run.period_start.isoformat()}:\n" + "\n".join(f"- {row.name}: {row.result.arithmetic}" for row in below)
    for person in facilitators_of(run.cooperative_id):
        if person.email:
            notify.queue(notify.Email(to=person.email, subject="Fair-pay check: pay below the minimum", body=body))


def my_fair_pay(actor: Actor, month: date) -> list[dict]:
    """The worker's own effective hourly pay for a month from their confirmed entries, after
    the co-op's deduction for independent workers, against the legal minimum for their age."""
    first, end = rules.period_bounds(Frequency.monthly, month.replace(day=1))
    entries = db.session.scalars(sa.select(TimesheetEntry).where(
        TimesheetEntry.person_id == actor.person_id, TimesheetEntry.status == TimesheetStatus.confirmed,
        TimesheetEntry.started_at >= datetime.combine(first, time(), UTC) - timedelta(days=1),
        TimesheetEntry.started_at < datetime.combine(end, time(), UTC) + timedelta(days=1))).all()
    by_coop: dict[int, list[TimesheetEntry]] = defaultdict(list)
    for entry in entries:
        if first <= entry.started_at.astimezone(ZoneInfo(entry.team.zone)).date() < end \
                and not superseded(entry):
            by_coop[entry.team.cooperative_id].append(entry)
    out = []
    for coop_id, rows in by_coop.items():
        profile = worker_profile(coop_id, actor.person_id)
        settings = settings_for(coop_id)
        pay, minutes = 0, 0
        for entry in rows:
            try:
                lines = rules.pay_lines(facts_of(entry), terms_for(entry, profile, settings))
            except Unpriced:
                continue
            pay += sum(line.pay_pence for line in lines if line.element in WAGE_ELEMENTS)
            minutes += working_minutes_of(entry)
        band = rules.age_band(profile.date_of_birth if profile else None, first)
        minimum = rules.minimum_hourly_pence(band, first)
        if minimum and minutes:
            out.append({"cooperative_id": coop_id, "month": first, "result": rules.fair_pay(
                pay, minutes, minimum[0], BAND_LABELS.get(band, band))})
    return out
