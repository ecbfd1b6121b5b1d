"""The pay run at federation scale (issue 20): it reads prices, profiles and funders once
and records its entries in batches (one INSERT per table per batch), so its statements do
not grow with its entries; one entry the database refuses still waits alone."""

from __future__ import annotations

import dataclasses
from datetime import date

import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours.models import RunEntry, RunLine
from careteams.hours.services import runs
from tests.helpers import QueryCounter
from tests.hours.conftest import act
from tests.hours.test_runs import AFTER_OCTOBER, confirmed, local, october  # noqa: F401  (the fixture)


def _close_counting(world, period_start: date):
    with QueryCounter(db.session.get_bind()) as counter:
        outcome = runs.close_run(act(world.facilitator), world.coop.id, period_start, AFTER_OCTOBER)
    return outcome, counter.count


def _lines_of(run_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RunLine).join(
        RunEntry, RunEntry.id == RunLine.run_entry_id).where(RunEntry.run_id == run_id))


def test_the_runs_statements_do_not_grow_with_its_entries(world, october):  # noqa: F811
    w = world
    # September: 2 entries; October: the hand-worked 4 and 40 more, both workers.
    for day in (7, 8):
        confirmed(w, w.worker, local(2026, 9, day, 10, 0), local(2026, 9, day, 11, 0))
    for i in range(40):
        person = w.worker if i % 2 else w.worker2
        start = local(2026, 10, 1 + i % 28, 6 + 2 * (i // 28))
        confirmed(w, person, start, local(2026, 10, 1 + i % 28, 7 + 2 * (i // 28)))
    september, few = _close_counting(w, date(2026, 9, 1))
    october_run, many = _close_counting(w, date(2026, 10, 1))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RunEntry).where(
        RunEntry.run_id == september.run.id)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RunEntry).where(
        RunEntry.run_id == october_run.run.id)) == 44
    assert _lines_of(october_run.run.id) > 44  # hours for each, and travel, mileage, night for A and B
    # (September also emails the fair-pay warning: its one-hour visits at £12.50 fall below the minimum.)
    assert few > 0 and many <= few, (few, many)


def test_an_entry_the_database_refuses_waits_alone_and_the_rest_of_its_batch_is_paid(world, october,  # noqa: F811
                                                                                   monkeypatch):
    real = runs.rules.pay_lines

    def refused_for_c(facts, terms):
        lines = real(facts, terms)
        if facts.worked_minutes == 120:  # C, and only C, is two hours: its line breaks a CHECK constraint
            lines = [dataclasses.replace(lines[0], element="reversal:hours")] + lines[1:]
        return lines

    monkeypatch.setattr(runs.rules, "pay_lines", refused_for_c)
    outcome = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), AFTER_OCTOBER)
    c = october["C"]
    assert [entry_id for entry_id, _ in outcome.held_back] == [c.id]
    assert "could not be recorded" in outcome.held_back[0][1]
    paid = set(db.session.scalars(sa.select(RunEntry.entry_id).where(RunEntry.run_id == outcome.run.id)))
    assert paid == {october[k].id for k in "ABD"}
    assert runs.held_back_of(outcome.run) == outcome.held_back
