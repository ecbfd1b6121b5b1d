"""Corrections of any depth: across all runs a correction chain pays, charges and counts
(fair-pay minutes) exactly its latest confirmed figures, element by element; element
names never compound; a run never answers 500 and lists what it held back.

The property test runs CARETEAMS_HYPOTHESIS_PROFILE=ci -> 200 examples (CI's
PostgreSQL pass sets it), 25 otherwise."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.models import (
    AreaBand,
    CoopPayRate,
    Funder,
    FunderKind,
    HoursSettings,
    RunEntry,
    RunInvoiceLine,
    RunLine,
    TimesheetEntry,
    WorkerRate,
)
from careteams.hours.rules import EntryKind
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import rates, runs, timesheets
from careteams.hours.services.common import worker_profile
from tests.helpers import login
from tests.hours.conftest import act, make_entry, profile

LONDON = ZoneInfo("Europe/London")
EXAMPLES = 200 if os.environ.get("CARETEAMS_HYPOTHESIS_PROFILE") == "ci" else 25


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def month_start(index: int) -> date:
    """The first of the month `index` months after May 2026."""
    return date(2026 + (4 + index) // 12, (4 + index) % 12 + 1, 1)


def run_month(world, index: int):
    """Close the run for month `index` (just after it ends)."""
    first = month_start(index)
    return runs.close_run(act(world.facilitator), world.coop.id, first,
                          rules.local_midnight_utc(month_start(index + 1), "Europe/London") + timedelta(hours=1))


def correct(world, entry: TimesheetEntry, changes: dict, when: datetime) -> TimesheetEntry:
    """A correction through the real services: the worker corrects and submits, the leader confirms."""
    worker = act(db.session.get(type(world.worker), entry.person_id))
    new = timesheets.correct_entry(worker, entry.id, changes, when)
    timesheets.submit_entry(worker, new.id, when)
    timesheets.confirm_entry(act(world.leader), new.id, when + timedelta(minutes=5))
    return new


def chain_totals(entry_ids: list[int]) -> tuple[dict, dict, int, int]:
    """Across all runs: pay per element, invoiced per funder, fair-pay minutes and wage pay."""
    pay: dict[str, int] = defaultdict(int)
    wage = 0
    for line in db.session.scalars(sa.select(RunLine).join(RunEntry).where(RunEntry.entry_id.in_(entry_ids))):
        pay[line.element] += line.pay_pence
        wage += line.pay_pence if line.wage_pay else 0
    invoiced: dict[int | None, int] = defaultdict(int)
    for line in db.session.scalars(sa.select(RunInvoiceLine).join(RunEntry).where(RunEntry.entry_id.in_(entry_ids))):
        invoiced[line.funder_id] += line.amount_pence
    minutes = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(RunEntry.working_minutes), 0))
                                .where(RunEntry.entry_id.in_(entry_ids)))
    return ({k: v for k, v in pay.items() if v}, {k: v for k, v in invoiced.items() if v}, minutes, wage)


def priced_alone(world, entry: TimesheetEntry) -> tuple[dict, dict, int, int]:
    """What the entry would be paid, charged (per current funder) and counted on its own."""
    terms = rates.terms_for(entry, worker_profile(world.coop.id, entry.person_id), rates.settings_for(world.coop.id))
    lines = rules.pay_lines(rates.facts_of(entry), terms)
    pay: dict[str, int] = defaultdict(int)
    for line in lines:
        pay[line.element] += line.pay_pence
    charge = sum(line.charge_pence for line in lines)
    funders = rates.active_funders(entry.team_id)
    parts = rules.split_by_shares(charge, [f.share_percent for f in funders])
    invoiced = {f.id: p for f, p in zip(funders, parts, strict=True) if p}
    wage = sum(line.pay_pence for line in lines if line.element in rates.WAGE_ELEMENTS)
    return {k: v for k, v in pay.items() if v}, invoiced, rates.working_minutes_of(entry), wage


def _bank_holiday_world(world):
    """Employed Emma; £12.50 an hour, +£1.00 nights, +£6.50 bank holidays; funders 60/40."""
    db.session.add_all([
        HoursSettings(cooperative_id=world.coop.id),
        CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban, effective_from=date(2026, 1, 1),
                    hourly_rate_pence=1250, night_enhancement_pence=100, bank_holiday_enhancement_pence=650),
        Funder(team_id=world.team.id, kind=FunderKind.council, name="Kirklees Council", share_percent=60),
        Funder(team_id=world.team.id, kind=FunderKind.self_funded, name="Ann", share_percent=40),
    ])
    profile(world, world.worker, employed=True)
    # Monday 31 August 2026 is a bank holiday: 10:00-12:00, 20 min travel, 4 miles.
    return make_entry(world, status=S.confirmed, start=local(2026, 8, 31, 10, 0), minutes=120, travel_minutes=20,
                      mileage=Decimal("4.0"), confirmed_at=local(2026, 8, 31, 18, 0))


def test_correcting_a_paid_correction_pays_the_latest_figures_once(world):
    """Found (a): the correction of a paid correction copied its reversal lines too, so
    the next run paid and invoiced the original again."""
    original = _bank_holiday_world(world)
    runs.close_run(act(world.facilitator), world.coop.id, date(2026, 8, 1), local(2026, 9, 1, 1))
    first = correct(world, original, {"ended_at": original.ended_at + timedelta(minutes=60)}, local(2026, 9, 2, 9))
    runs.close_run(act(world.facilitator), world.coop.id, date(2026, 9, 1), local(2026, 10, 1, 1))
    second = correct(world, first, {"ended_at": original.ended_at + timedelta(minutes=30)}, local(2026, 10, 2, 9))
    runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), local(2026, 11, 1, 1))
    chain = [original.id, first.id, second.id]
    pay, invoiced, minutes, wage = chain_totals(chain)
    # 150 min at £12.50 = 3125, +£6.50 bank holiday = 1625, travel 20 min = 417, 4 miles at 45p = 180.
    assert pay == {"hours": 3125, "bank_holiday_enhancement": 1625, "travel": 417, "mileage": 180}
    assert (pay, invoiced, minutes, wage) == priced_alone(world, second)
    assert minutes == 170
    elements = db.session.scalars(sa.select(RunLine.element)).all()
    assert all(not e.startswith("reversal") and len(e) <= 40 for e in elements)


def test_a_correction_chain_never_makes_a_pay_run_answer_500(world, client, auth_headers):
    """Found (b): `reversal:reversal:bank_holiday_enhancement` is longer than run_line.element
    (varchar 40): on PostgreSQL every later pay run answered 500."""
    original = _bank_holiday_world(world)
    headers = auth_headers(world.facilitator)
    url = f"/api/v1/cooperatives/{world.coop.id}/pay-runs"
    db.session.commit()
    assert client.post(url, json={"period_start": "2026-08-01"}, headers=headers).status_code == 201
    first = correct(world, original, {"ended_at": original.ended_at + timedelta(minutes=60)}, local(2026, 9, 2, 9))
    db.session.commit()
    assert client.post(url, json={"period_start": "2026-09-01"}, headers=headers).status_code == 201
    second = correct(world, first, {"break_minutes": 15}, local(2026, 10, 2, 9))
    db.session.commit()
    response = client.post(url, json={"period_start": "2026-10-01"}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert {row["element"] for row in body["payroll"]} <= {"hours", "bank_holiday_enhancement", "travel", "mileage"}
    # October's run pays the difference: 15 min less than September's figures.
    # hours 165 min x £12.50 = 3437.5 -> 3438 less 3750; bank holiday 165 min x £6.50 = 1787.5 -> 1788 less 1950.
    assert sum(row["amount_pence"] for row in body["payroll"]) == (3438 - 3750) + (1788 - 1950)
    assert chain_totals([original.id, first.id, second.id])[0] == priced_alone(world, second)[0]


def test_corrected_twice_before_any_run_pays_only_the_last(world):
    """Same class: a correction of an unpaid correction of a paid entry took nothing back."""
    original = _bank_holiday_world(world)
    runs.close_run(act(world.facilitator), world.coop.id, date(2026, 8, 1), local(2026, 9, 1, 1))
    first = correct(world, original, {"travel_minutes": 40}, local(2026, 9, 2, 9))
    second = correct(world, first, {"travel_minutes": 10}, local(2026, 9, 3, 9))
    runs.close_run(act(world.facilitator), world.coop.id, date(2026, 9, 1), local(2026, 10, 1, 1))
    assert chain_totals([original.id, first.id, second.id]) == priced_alone(world, second)


def test_held_back_entries_are_listed_on_the_run_page(world, client):
    db.session.add(HoursSettings(cooperative_id=world.coop.id))
    profile(world, world.worker, employed=True)
    entry = make_entry(world, status=S.confirmed, start=local(2026, 10, 8, 10, 0), minutes=60,
                       confirmed_at=local(2026, 10, 8, 18, 0))
    outcome = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), local(2026, 11, 2))
    assert outcome.held_back == [(entry.id, "no urban pay rate for 2026-10-08")]
    again = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), local(2026, 11, 3))
    assert again.held_back == outcome.held_back  # stored with the run
    db.session.commit()
    assert login(client, world.facilitator.email, "correct horse battery").status_code == 302
    page = client.get(f"/hours/runs/{outcome.run.id}").get_data(as_text=True)
    assert "Held back" in page and f"Entry {entry.id}" in page and "no urban pay rate for 2026-10-08" in page


# ---------------------------------------------------------------- the property

DAYS = [date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 12), date(2026, 5, 25), date(2026, 5, 30)]  # 4, 25: bank holidays

step = st.fixed_dictionaries({
    "day": st.sampled_from(DAYS),
    "hour": st.integers(6, 21),
    "minutes": st.integers(30, 600),
    "break": st.integers(0, 25),
    "travel": st.integers(0, 60),
    "mileage": st.integers(0, 60).map(lambda n: Decimal(n) / 2),
    "run_after": st.booleans(),  # a run closes before the next correction
    "new_rate": st.none() | st.tuples(st.integers(1100, 2500), st.integers(0, 300), st.integers(0, 900)),
    "new_funders": st.none() | st.lists(st.integers(1, 10), min_size=1, max_size=3),
})


def _set_funders(world, weights: list[int]) -> None:
    shares = [w * 100 // sum(weights) for w in weights]
    shares[0] += 100 - sum(shares)
    for old in rates.active_funders(world.team.id):
        old.active = False
    db.session.add_all([Funder(team_id=world.team.id, kind=FunderKind.council, name=f"Funder {i}", share_percent=s)
                        for i, s in enumerate(shares) if s > 0])
    db.session.flush()


def _correct_quickly(world, worker, entry: TimesheetEntry, changes: dict, when: datetime) -> TimesheetEntry:
    """correct_entry, then confirmed as both sides would (without the texts submit sends:
    each example stays fast; the tests above go through submit and confirm)."""
    new = timesheets.correct_entry(worker, entry.id, changes, when)
    new.status, new.submitted_at = S.confirmed, when
    new.confirmed_at, new.confirmed_by_id = when + timedelta(minutes=5), world.leader.id
    db.session.flush()
    return new


@settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(employed=st.booleans(), kind=st.sampled_from([EntryKind.visit, EntryKind.overnight, EntryKind.sleep_in]),
       steps=st.lists(step, min_size=2, max_size=6), charge=st.sampled_from(["17.5", "0", "12.25"]),
       deduction=st.sampled_from(["7.5", "0", "10"]))
def test_any_correction_chain_pays_exactly_its_latest_figures(world, employed, kind, steps, charge, deduction):
    """Chains of depth 1-5 (2-6 entries) with rate changes, night and bank-holiday
    enhancements, travel, mileage, independent workers' deductions and funder splits:
    the sum of everything paid, invoiced and counted over all runs is the last entry priced alone."""
    savepoint = db.session.begin_nested()
    try:
        db.session.add(HoursSettings(cooperative_id=world.coop.id, charge_percent=Decimal(charge),
                                     deduction_percent=Decimal(deduction), sleep_in_allowance_pence=9000))
        profile(world, world.worker, employed=employed, rate=1400)
        db.session.add(CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                   effective_from=date(2026, 1, 1), hourly_rate_pence=1250,
                                   night_enhancement_pence=100, bank_holiday_enhancement_pence=650))
        _set_funders(world, [3, 2])
        entry, chain, month, worker = None, [], 0, act(world.worker)
        for i, s in enumerate(steps):
            when = rules.local_midnight_utc(month_start(month + 1), "Europe/London") - timedelta(hours=12)
            if s["new_rate"]:
                hourly, night, holiday = s["new_rate"]
                db.session.add(CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                           effective_from=date(2026, 4, 1 + i), hourly_rate_pence=hourly,
                                           night_enhancement_pence=night, bank_holiday_enhancement_pence=holiday))
                db.session.add(WorkerRate(cooperative_id=world.coop.id, person_id=world.worker.id,
                                          team_id=world.team.id if i % 2 else None,
                                          effective_from=date(2026, 4, 1 + i), hourly_rate_pence=hourly + 200))
            if s["new_funders"]:
                _set_funders(world, s["new_funders"])
            start = local(s["day"].year, s["day"].month, s["day"].day, s["hour"], 0)
            figures = {"started_at": start, "ended_at": start + timedelta(minutes=s["minutes"]),
                       "break_minutes": s["break"], "travel_minutes": s["travel"], "mileage": s["mileage"]}
            if entry is None:
                entry = make_entry(world, status=S.confirmed, start=start, minutes=s["minutes"], kind=kind,
                                   break_minutes=s["break"], travel_minutes=s["travel"], mileage=s["mileage"],
                                   confirmed_at=when)
            else:
                entry = _correct_quickly(world, worker, entry, figures, when)
            chain.append(entry.id)
            if s["run_after"] or i == len(steps) - 1:
                outcome = run_month(world, month)
                assert outcome.held_back == []
            month += 1
        assert chain_totals(chain) == priced_alone(world, entry)
        elements = db.session.scalars(sa.select(RunLine.element).join(RunEntry).where(RunEntry.entry_id.in_(chain)))
        assert all(e in rules.ELEMENTS for e in elements)
    finally:
        savepoint.rollback()


def test_an_entry_the_database_refuses_is_held_back_and_the_run_goes_on(world, monkeypatch):
    """A pay run never answers 500: an entry whose lines the database refuses (here a
    compounded element name, which the check constraint now refuses on both databases)
    is rolled back alone, held back with a reason, and everyone else is paid."""
    poison = _bank_holiday_world(world)
    fine = make_entry(world, status=S.confirmed, start=local(2026, 8, 20, 10, 0), minutes=60,
                      confirmed_at=local(2026, 8, 20, 18, 0))
    real = rules.pay_lines

    def pay_lines(facts, terms):
        lines = real(facts, terms)
        if facts.travel_minutes == 20:  # the poison entry
            return [rules.PayLine("reversal:" + line.element, *list(vars(line).values())[1:]) for line in lines]
        return lines

    monkeypatch.setattr(rules, "pay_lines", pay_lines)
    outcome = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 8, 1), local(2026, 9, 1, 1))
    assert [entry_id for entry_id, _ in outcome.held_back] == [poison.id]
    assert "could not be recorded" in outcome.held_back[0][1]
    assert chain_totals([fine.id])[0] == {"hours": 1250}
    assert chain_totals([poison.id])[0] == {}
