"""Pay and invoice runs on a hand-worked example, to the penny; reproducibility; late
confirmations; the fair-pay check on workers just above and just below the minimum."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from careteams.errors import Forbidden, NotFound, ValidationError
from careteams.extensions import db
from careteams.hours.models import (
    AreaBand,
    CoopPayRate,
    Funder,
    FunderKind,
    HoursSettings,
    WorkerRate,
)
from careteams.hours.rules import EntryKind
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import fair_pay, runs, timesheets
from tests.hours.conftest import act, make_entry, profile

LONDON = ZoneInfo("Europe/London")
AFTER_OCTOBER = datetime(2026, 11, 2, 9, tzinfo=UTC)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def confirmed(world, person, start, end, **kw):
    minutes = int((end - start).total_seconds()) // 60
    return make_entry(world, person=person, status=S.confirmed, start=start, minutes=minutes,
                      confirmed_at=kw.pop("confirmed_at", datetime(2026, 10, 31, 12, tzinfo=UTC)), **kw)


@pytest.fixture
def october(world):
    """The hand-worked example (monthly run, October 2026, London; contribution 17.5%
    added to the charge, 7.5% deducted from independent workers; funders 60% council, 40% self-funded).

    Emma (employed, urban). Co-op rates: £12.50 from 1 Jan 2026, £13.00 from 15 Oct 2026;
    night enhancement £1.00/h on both.
      A  Thu 8 Oct 10:00-13:10 BST, 190 min, travel 20 min, 3.5 miles at 45p; rate £12.50
         hours   190/60 x 1250 = 3958.33  -> 3958   charge x1.175 = 4651.04 -> 4651
         travel   20/60 x 1250 =  416.67  ->  417   charge         =  489.58 ->  490
         mileage 3.5 x 45      =  157.5   ->  158   (expense, at cost)       ->  158
      B  Sat 24 Oct 20:00 BST to Sun 25 Oct 08:00 GMT: the clocks go back, so 13 h (780 min),
         not the 12 the wall clock shows; rate £13.00 (the change on 15 Oct is inside the period)
         hours   13 x 1300     = 16900            charge x1.175 = 19857.5 -> 19858 (half up)
         night   13 x  100     =  1300            charge         =  1527.5 ->  1528
      Emma's payroll: hours 3958 + 16900 = 20858, travel 417, mileage 158, night 1300; total 22733.
      Charges: A 4651 + 490 + 158 = 5299 -> council 3179.4, self 2119.6 -> 3179 / 2120 (largest remainder)
               B 19858 + 1528   = 21386 -> council 12831.6, self 8554.4 -> 12832 / 8554

    Ian (independent): usual rate £15.00 from 1 Jan 2026; £16.00 agreed with this team from 20 Oct.
      C  Mon 12 Oct 09:00-11:00, 120 min at £15.00: gross 3000; pay x0.925 = 2775; charge x1.175 = 3525
      D  Wed 21 Oct 14:00-15:25,  85 min at £16.00: gross 2266.67; pay 2096.67 -> 2097; charge 2663.33 -> 2663
      Ian's statement: 2775 + 2097 = 4872.
      Charges: C 3525 -> 2115 / 1410;  D 2663 -> council 1597.8, self 1065.2 -> 1598 / 1065

    Invoices: council 3179 + 12832 + 2115 + 1598 = 19724; self-funded 2120 + 8554 + 1410 + 1065 = 13149;
    together 32873 = 26685 (Emma) + 6188 (Ian).
    Fair pay, Emma: wage pay 3958 + 417 + 16900 + 1300 = 22575 over 190 + 20 + 780 = 990 min = £13.68/h.
    """
    w = world
    emma, ian = w.worker, w.worker2
    profile(w, emma, employed=True)
    profile(w, ian, employed=False, rate=1400)  # the profile's usual rate is overridden by WorkerRate rows
    db.session.add_all([
        HoursSettings(cooperative_id=w.coop.id),
        CoopPayRate(cooperative_id=w.coop.id, area_band=AreaBand.urban, effective_from=date(2026, 1, 1),
                    hourly_rate_pence=1250, night_enhancement_pence=100),
        CoopPayRate(cooperative_id=w.coop.id, area_band=AreaBand.urban, effective_from=date(2026, 10, 15),
                    hourly_rate_pence=1300, night_enhancement_pence=100),
        CoopPayRate(cooperative_id=w.coop.id, area_band=AreaBand.rural, effective_from=date(2026, 1, 1),
                    hourly_rate_pence=9999),
        WorkerRate(cooperative_id=w.coop.id, person_id=ian.id, team_id=None, effective_from=date(2026, 1, 1),
                   hourly_rate_pence=1500),
        WorkerRate(cooperative_id=w.coop.id, person_id=ian.id, team_id=w.team.id, effective_from=date(2026, 10, 20),
                   hourly_rate_pence=1600),
        Funder(team_id=w.team.id, kind=FunderKind.council, name="Kirklees Council", share_percent=60),
        Funder(team_id=w.team.id, kind=FunderKind.self_funded, name="Ann", share_percent=40),
    ])
    db.session.flush()
    entries = {
        "A": confirmed(w, emma, local(2026, 10, 8, 10, 0), local(2026, 10, 8, 13, 10), travel_minutes=20,
                       mileage=Decimal("3.5")),
        "B": confirmed(w, emma, local(2026, 10, 24, 20, 0), local(2026, 10, 25, 8, 0), kind=EntryKind.overnight),
        "C": confirmed(w, ian, local(2026, 10, 12, 9, 0), local(2026, 10, 12, 11, 0)),
        "D": confirmed(w, ian, local(2026, 10, 21, 14, 0), local(2026, 10, 21, 15, 25)),
    }
    assert (entries["B"].ended_at - entries["B"].started_at) == timedelta(hours=13)
    return entries


def _run(world, now=AFTER_OCTOBER):
    outcome = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), now)
    return outcome, runs.run_report(act(world.facilitator), outcome.run.id)


def test_hand_worked_run_to_the_penny(world, october):
    outcome, report = _run(world)
    assert outcome.created and outcome.held_back == []
    payroll = {(r["name"], r["element"]): r["amount_pence"] for r in report.payroll}
    emma = world.worker.name
    assert payroll == {(emma, "hours"): 20858, (emma, "travel"): 417, (emma, "mileage"): 158,
                       (emma, "night_enhancement"): 1300}
    assert report.totals["payroll_pence"] == 22733
    [ian] = report.statements
    assert [line["amount_pence"] for line in ian["lines"]] == [2775, 2097] and ian["total_pence"] == 4872
    invoices = {i["funder"]: i["total_pence"] for i in report.invoices}
    assert invoices == {"Kirklees Council": 19724, "Ann": 13149}
    assert report.totals["invoiced_pence"] == 32873
    fair = {r.person_id: r.result for r in report.fair_pay}
    assert fair[world.worker.id].pay_pence == 22575 and fair[world.worker.id].working_minutes == 990
    assert not fair[world.worker.id].below
    rows = list(csv.reader(io.StringIO(runs.payroll_csv(report))))
    # Minutes are labelled minutes and hours are hours (to 2 dp): "hours,970.0" meant 970 minutes.
    assert rows[0][4:] == ["pay_element", "minutes", "hours", "miles", "nights", "amount_gbp"]
    assert [emma, "hours", "970", "16.17", "", "", "208.58"] == rows[[r[4] for r in rows].index("hours")][3:]
    assert [emma, "mileage", "", "", "3.5", "", "1.58"] == rows[[r[4] for r in rows].index("mileage")][3:]


def test_run_is_reproducible_and_late_confirmations_go_to_the_next_run(world, october):
    _, first = _run(world)
    # After the run: a rate changes, and an October entry is confirmed late.
    db.session.add(CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                               effective_from=date(2026, 10, 29), hourly_rate_pence=2000))
    late = confirmed(world, world.worker, local(2026, 10, 30, 10, 0), local(2026, 10, 30, 11, 0),
                     confirmed_at=datetime(2026, 11, 3, 9, tzinfo=UTC))
    outcome, again = _run(world, datetime(2026, 11, 5, tzinfo=UTC))
    assert not outcome.created
    assert again.totals == first.totals and again.payroll == first.payroll and again.invoices == first.invoices
    november = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 11, 1), datetime(2026, 12, 1, 1, tzinfo=UTC))
    report = runs.run_report(act(world.facilitator), november.run.id)
    assert [(r["element"], r["amount_pence"]) for r in report.payroll] == [("hours", 2000)]
    assert late.id in [line["entry_id"] for i in report.invoices for line in i["lines"]]


def test_a_correction_of_paid_hours_pays_the_difference_next_run(world, october):
    _run(world)
    c = october["C"]
    correction = timesheets.correct_entry(act(world.worker2), c.id, {"ended_at": c.ended_at + timedelta(minutes=60)},
                                   datetime(2026, 11, 3, tzinfo=UTC))
    timesheets.submit_entry(act(world.worker2), correction.id, datetime(2026, 11, 3, tzinfo=UTC))
    timesheets.confirm_entry(act(world.leader), correction.id, datetime(2026, 11, 3, 1, tzinfo=UTC))
    november = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 11, 1), datetime(2026, 12, 1, 1, tzinfo=UTC))
    [statement] = runs.run_report(act(world.facilitator), november.run.id).statements
    # 3 h at £15.00 less 7.5% = 4162.5 -> 4163, less the 2775 already paid = 1388.
    assert statement["total_pence"] == 4163 - 2775


def test_run_refuses_an_open_period_and_outsiders(world, october):
    with pytest.raises(ValidationError):
        runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), datetime(2026, 10, 31, 22, tzinfo=UTC))
    with pytest.raises(ValidationError):
        runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 2), AFTER_OCTOBER)
    for person in (world.leader, world.checker, world.worker, world.other_facilitator, world.stranger):
        with pytest.raises((NotFound, Forbidden)):
            runs.close_run(act(person), world.coop.id, date(2026, 10, 1), AFTER_OCTOBER)
    assert runs.list_runs(act(world.facilitator), world.coop.id) == []


def test_entry_without_a_rate_is_held_back_not_lost(world):
    db.session.add(HoursSettings(cooperative_id=world.coop.id))
    profile(world, world.worker, employed=True)
    entry = confirmed(world, world.worker, local(2026, 10, 8, 10, 0), local(2026, 10, 8, 11, 0))
    outcome, report = _run(world)
    assert outcome.held_back == [(entry.id, "no urban pay rate for 2026-10-08")]
    assert report.totals["payroll_pence"] == 0


@pytest.mark.parametrize("waiting, below", [(1, False), (3, True)])
def test_fair_pay_check_just_above_and_just_below(world, mail_outbox, waiting, below):
    """60 min paid at £13.00 with 1 min waiting is £12.79/h (above £12.71); with 3 min
    waiting it is £12.38/h: below, and facilitators are told with the arithmetic."""
    db.session.add_all([HoursSettings(cooperative_id=world.coop.id),
                        CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                    effective_from=date(2026, 4, 1), hourly_rate_pence=1300)])
    profile(world, world.worker, employed=True)
    confirmed(world, world.worker, local(2026, 10, 8, 10, 0), local(2026, 10, 8, 11, 0), waiting_minutes=waiting)
    _, report = _run(world)
    [row] = report.fair_pay
    assert row.result.below is below
    db.session.commit()
    flagged = [m for m in mail_outbox if m.to == [world.facilitator.email]]
    if below:
        assert len(flagged) == 1 and "£13.00 pay ÷ 1 h 03 min working time = £12.38 an hour" in flagged[0].body
    else:
        assert flagged == [] and row.result.effective_pence_per_hour == Decimal("1278.69")


def test_younger_worker_checked_against_their_band(world):
    db.session.add_all([HoursSettings(cooperative_id=world.coop.id),
                        CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                    effective_from=date(2026, 4, 1), hourly_rate_pence=1100)])
    profile(world, world.worker, employed=True, dob=date(2007, 1, 1))  # 19 in October 2026
    confirmed(world, world.worker, local(2026, 10, 8, 10, 0), local(2026, 10, 8, 11, 0))
    _, report = _run(world)
    [row] = report.fair_pay
    assert row.band == "18_to_20" and row.result.minimum_pence == 1085 and not row.result.below


def test_independent_worker_sees_their_figure_after_the_deduction(world, october):
    [row] = fair_pay.my_fair_pay(act(world.worker2), date(2026, 10, 1))
    # 2775 + 2097 = 4872 over 205 min = £14.26/h after the co-op's 7.5%.
    assert row["result"].pay_pence == 4872 and row["result"].working_minutes == 205
    assert row["result"].effective_pence_per_hour == Decimal("1425.95")
