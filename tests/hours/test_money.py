"""Money for the person it concerns: Ann's invoices per visit and per funder, a worker's
statement, what a visit will pay; and everyone who must be refused.

The figures are the hand-worked October example of test_runs.py (funders: Kirklees
Council 60%, Ann herself 40%): Ann's share of the four visits is 2120 + 8554 + 1410 +
1065 = 13149 pence, the council's 3179 + 12832 + 2115 + 1598 = 19724, together 32873.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from careteams.errors import Forbidden, NotFound
from careteams.extensions import db
from careteams.hours.models import AreaBand, CoopPayRate, HoursSettings
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import money, runs
from careteams.rota.models import Shift, ShiftKind, ShiftStatus
from careteams.teams.models import Arranger, HatType
from tests.factories import PASSWORD, PersonFactory
from tests.helpers import login
from tests.hours.conftest import act, make_entry, profile
from tests.hours.test_runs import AFTER_OCTOBER, october  # noqa: F401  (the hand-worked fixture)
from tests.rota.conftest import add_hat


@pytest.fixture
def paid(world, october):  # noqa: F811
    """October's run is made and closed."""
    outcome = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), AFTER_OCTOBER)
    db.session.flush()
    return outcome.run


def sign_in(client, person):
    response = login(client, person.email, PASSWORD)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]


def _money_reader(world):
    hat_type = HatType(cooperative_id=world.coop.id, name="Money reader", permissions=["see_money"])
    db.session.add(hat_type)
    db.session.flush()
    return add_hat(world.team, PersonFactory(name="Mo Money"), hat_type)


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


# ---------------------------------------------------------------- the team's invoices


def test_ann_sees_each_visit_and_every_share_to_the_penny(world, october, paid):  # noqa: F811
    data = money.team_money(act(world.leader), world.team.id)
    [period] = data.periods
    assert [f.label for f in data.funders] == ["Ann (self-funded)", "Kirklees Council (council)"]
    assert data.funders[0].is_self
    by_entry = {v.entry_id: v for v in period.visits}
    expected = {"A": (2120, 3179), "B": (8554, 12832), "C": (1410, 2115), "D": (1065, 1598)}
    for key, (ann, council) in expected.items():
        visit = by_entry[october[key].id]
        assert visit.shares == {"Ann": ann, "Kirklees Council": council}
        assert visit.total_pence == ann + council
    # Each visit's time, worker, hours, rate and enhancements, as the run priced them.
    b = by_entry[october["B"].id]
    assert (b.start, b.end, b.worker, b.hours, b.rate_pence) == ("20:00", "08:00", world.worker.name, Decimal("13.00"), 1300)
    assert b.enhancements_pence == 1528  # 13 h at £1.00 night enhancement, plus the 17.5% contribution
    a = by_entry[october["A"].id]
    assert a.travel_mileage_pence == 490 + 158 and a.rate_pence == 1250 and a.hours == Decimal("3.17")
    assert period.funder_totals == {"Ann": 13149, "Kirklees Council": 19724} and period.total_pence == 32873
    assert data.monthly() == [(date(2026, 10, 1), Decimal("19.58"), 32873)]  # 190 + 780 + 120 + 85 min


def test_the_page_and_the_csv_show_the_same_figures(world, october, paid, client):  # noqa: F811
    db.session.commit()
    sign_in(client, world.leader)
    page = client.get(f"/teams/{world.team.id}/money")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "£131.49" in html and "£197.24" in html and "£328.73" in html
    assert 'role="img"' in html and "<caption>Hours and cost per month: the figures</caption>" in html
    cells = _cells(html)
    response = client.get(f"/teams/{world.team.id}/money.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    visits = [r for r in rows if r["entry_id"] != "total"]
    assert len(visits) == 4
    for row in visits:
        ann, council, total = (row["share_Ann (self-funded)_gbp"], row["share_Kirklees Council (council)_gbp"],
                               row["total_gbp"])
        assert f"£{ann}" in cells and f"£{council}" in cells and f"£{total}" in cells
        assert Decimal(ann) + Decimal(council) == Decimal(total)
        assert row["hours"] in cells
    [total] = [r for r in rows if r["entry_id"] == "total"]
    assert (total["share_Ann (self-funded)_gbp"], total["total_gbp"]) == ("131.49", "328.73")


def test_arranger_and_a_money_reader_see_it(world, october, paid):  # noqa: F811
    arranger = PersonFactory(name="Arran Arranger")
    db.session.add(Arranger(team_id=world.team.id, person_id=arranger.id, reason="Ann asked for help.",
                            appointed_by_id=world.facilitator.id, agreed_by_id=world.leader.id,
                            agreed_at=datetime(2026, 9, 1, tzinfo=UTC)))
    db.session.flush()
    reader = _money_reader(world)
    for person in (arranger, reader):
        assert money.team_money(act(person), world.team.id).periods[0].total_pence == 32873


def test_circle_without_the_right_and_outsiders_are_refused(world, october, paid, client):  # noqa: F811
    # Cal wears a Plan keeper hat: in the circle, but no see_money. The Hours checker is not enough either.
    for person in (world.circle, world.checker, world.worker):
        with pytest.raises(Forbidden):
            money.team_money(act(person), world.team.id)
    for person in (world.other_team.leader, world.stranger, world.other_facilitator):
        with pytest.raises(NotFound):
            money.team_money(act(person), world.team.id)
    db.session.commit()
    sign_in(client, world.circle)
    assert client.get(f"/teams/{world.team.id}/money").status_code == 403
    assert client.get(f"/teams/{world.team.id}/money.csv").status_code == 403
    client.post("/logout")
    sign_in(client, world.other_team.leader)
    assert client.get(f"/teams/{world.team.id}/money").status_code == 404
    assert client.get(f"/teams/{world.team.id}/money.csv").status_code == 404


def test_a_money_reader_hat_lets_a_circle_member_in(world, october, paid, client):  # noqa: F811
    reader = _money_reader(world)
    db.session.commit()
    sign_in(client, reader)
    assert "£328.73" in client.get(f"/teams/{world.team.id}/money").get_data(as_text=True)


# ---------------------------------------------------------------- a worker's statement


def test_independent_worker_reads_her_statement(world, october, paid, client):  # noqa: F811
    """Ian (world.worker2, independent): C 120 min at £15.00 = 3000 gross, 2775 paid (225 kept);
    D 85 min at £16.00 = 2266.67 -> 2267 gross, 2097 paid (170 kept). Total 4872 paid."""
    st = money.statement(act(world.worker2), paid.id, world.worker2.id)
    assert not st.employed and st.deduction_percent == Decimal("7.5")
    assert [(v.hours, v.gross_pence, v.deduction_pence, v.pay_pence) for v in st.visits] == [
        (Decimal("2.00"), 3000, 225, 2775), (Decimal("1.42"), 2267, 170, 2097)]
    assert st.total("pay_pence") == 4872 and st.total("deduction_pence") == 395
    # 4872 pence for 205 minutes of working time = £14.26 an hour, above £12.71.
    assert st.fair_pay.pay_pence == 4872 and st.fair_pay.working_minutes == 205 and not st.fair_pay.below
    assert st.fair_pay.minimum_pence == 1271
    db.session.commit()
    sign_in(client, world.worker2)
    html = client.get("/my/pay").get_data(as_text=True)
    link = f"/hours/runs/{paid.id}/statements/{world.worker2.id}"
    assert link in html and "£48.72" in html and 'role="img"' in html
    page = client.get(link).get_data(as_text=True)
    assert "£48.72" in page and "£3.95" in page and "£14.26 an hour" in page and "£12.71" in page
    rows = list(csv.DictReader(io.StringIO(client.get(link + ".csv").get_data(as_text=True))))
    assert [r["pay_gbp"] for r in rows] == ["27.75", "20.97", "48.72"]
    cells = _cells(page)
    assert all(f"£{r['pay_gbp']}" in cells for r in rows)


def test_employed_worker_reads_her_payslip_lines(world, october, paid):  # noqa: F811
    """Wendy (world.worker, employed): hours 3958 + 16900, travel 417, night 1300, mileage 158;
    her effective hourly pay 22575 / 990 min = £13.68, above the minimum."""
    st = money.statement(act(world.worker), paid.id, world.worker.id)
    assert st.employed and st.total("deduction_pence") == 0
    assert (st.total("hours_pence"), st.total("travel_pence"), st.total("enhancements_pence"),
            st.total("mileage_pence"), st.total("pay_pence")) == (20858, 417, 1300, 158, 22733)
    assert st.total("miles") == Decimal("3.5")
    assert st.fair_pay.effective_pence_per_hour == Decimal("1368.18") and not st.fair_pay.below


def test_another_worker_and_outsiders_are_refused_a_statement(world, october, paid, client):  # noqa: F811
    # 403 for a member of the co-op, 404 for anyone who may not know the run exists.
    for person in (world.worker, world.leader, world.checker, world.stranger, world.other_facilitator):
        with pytest.raises((NotFound, Forbidden)):
            money.statement(act(person), paid.id, world.worker2.id)
    # The co-op's pay staff may read it.
    assert money.statement(act(world.facilitator), paid.id, world.worker2.id).total("pay_pence") == 4872
    db.session.commit()
    sign_in(client, world.worker)
    assert client.get(f"/hours/runs/{paid.id}/statements/{world.worker2.id}").status_code in (403, 404)
    assert client.get(f"/hours/runs/{paid.id}/statements/{world.worker2.id}.csv").status_code in (403, 404)
    assert client.get(f"/hours/runs/{paid.id}/statements/{world.worker.id}").status_code == 200


# ---------------------------------------------------------------- what a visit will pay


def test_visit_pages_show_expected_pay(world, client):
    db.session.add_all([HoursSettings(cooperative_id=world.coop.id),
                        CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                    effective_from=date(2026, 1, 1), hourly_rate_pence=1300)])
    profile(world, world.worker, employed=False, rate=1500)
    # A 2 h visit booked for Wendy (independent at £15.00): 3000 less 7.5% = 2775.
    start = datetime(2026, 12, 20, 10, tzinfo=UTC)
    shift = Shift(team_id=world.team.id, starts_at=start, ends_at=start + timedelta(hours=2),
                  kind=ShiftKind.practical_help, status=ShiftStatus.booked, booked_person_id=world.worker.id,
                  required_skills=[])
    db.session.add(shift)
    entry = make_entry(world, status=S.submitted, minutes=90, travel_minutes=30)
    db.session.flush()
    assert money.expected_pay_for_shift(act(world.worker), shift).pay_pence == 2775
    # 90 min + 30 min travel at £15.00 = 3000, less 7.5% = 2775 (two lines: 2081.25 -> 2081, 693.75 -> 694).
    assert money.expected_pay_for_entries(act(world.worker), [entry])[entry.id].pay_pence == 2081 + 694
    # Another worker's entry is never priced for her.
    assert money.expected_pay_for_entries(act(world.worker2), [entry]) == {}
    db.session.commit()
    sign_in(client, world.worker)
    visit = client.get(f"/my/shifts/{shift.id}").get_data(as_text=True)
    assert "What you will be paid for it" in visit and "£27.75" in visit and "£15.00 an hour" in visit
    hours = client.get("/my/hours").get_data(as_text=True)
    assert "£27.75" in hours and "£15.00 an hour" in hours


def test_demo_shows_ann_and_wendy_real_figures(app):
    from careteams.demo import seed
    from careteams.members.models import Person
    from careteams.members.services import actor_for
    from careteams.teams.models import Team

    with app.test_request_context():
        seed()
    ann = db.session.scalar(sa.select(Person).where(Person.email == "ann@demo.careteams.example"))
    wendy = db.session.scalar(sa.select(Person).where(Person.email == "wendy@demo.careteams.example"))
    team = db.session.scalar(sa.select(Team).where(Team.leader_id == ann.id))
    data = money.team_money(actor_for(ann), team.id)
    assert data.periods and data.periods[0].total_pence > 0
    assert {f.name for f in data.funders} == {"Ann", "Kirklees Council"}
    [latest, *_] = money.my_pay(actor_for(wendy))
    st = money.statement(actor_for(wendy), latest.run_id, wendy.id)
    assert not st.employed and st.total("pay_pence") > 0 and st.total("deduction_pence") > 0
    assert st.fair_pay is not None


def test_demo_pay_run_step_is_idempotent(world):
    from careteams.hours.demo import seed_hours
    from careteams.hours.models import PayRun, TimesheetEntry

    people = {"ann": world.leader, "fran": world.facilitator, "wendy": world.worker}
    seed_hours(world.coop, people)
    counts = (db.session.scalar(sa.select(sa.func.count()).select_from(TimesheetEntry)),
              db.session.scalar(sa.select(sa.func.count()).select_from(PayRun)))
    assert counts[0] == 3 + 4 and counts[1] == 1
    seed_hours(world.coop, people)
    assert (db.session.scalar(sa.select(sa.func.count()).select_from(TimesheetEntry)),
            db.session.scalar(sa.select(sa.func.count()).select_from(PayRun))) == counts


def test_the_api_gives_the_same_figures_and_refuses_the_same_people(world, october, paid, client, auth_headers):  # noqa: F811
    reader = _money_reader(world)
    db.session.commit()
    body = client.get(f"/api/v1/teams/{world.team.id}/money", headers=auth_headers(world.leader)).get_json()
    [period] = body["periods"]
    assert period["funder_totals"] == {"Ann": 13149, "Kirklees Council": 19724} and period["total_pence"] == 32873
    assert body["funders"][0] == {"name": "Ann", "kind": "self_funded", "label": "Ann (self-funded)", "is_self": True}
    assert client.get(f"/api/v1/teams/{world.team.id}/money", headers=auth_headers(reader)).status_code == 200
    assert client.get(f"/api/v1/teams/{world.team.id}/money", headers=auth_headers(world.circle)).status_code == 403
    assert client.get(f"/api/v1/teams/{world.team.id}/money", headers=auth_headers(world.stranger)).status_code == 404
    mine = client.get("/api/v1/me/pay", headers=auth_headers(world.worker2)).get_json()
    assert [(r["run_id"], r["pay_pence"]) for r in mine] == [(paid.id, 4872)]
    st = client.get(mine[0]["url"].replace("/hours/runs/", "/api/v1/pay-runs/"), headers=auth_headers(world.worker2))
    assert st.status_code == 200 and st.get_json()["pay_pence"] == 4872
    assert st.get_json()["deduction_total_pence"] == 395 and st.get_json()["fair_pay"]["below"] is False
    other = client.get(f"/api/v1/pay-runs/{paid.id}/statements/{world.worker2.id}", headers=auth_headers(world.worker))
    assert other.status_code in (403, 404) and other.get_json()["error"]["code"]


def test_the_run_page_links_each_independent_workers_statement(world, october, paid, client):  # noqa: F811
    db.session.commit()
    sign_in(client, world.facilitator)
    html = client.get(f"/hours/runs/{paid.id}").get_data(as_text=True)
    assert f'href="/hours/runs/{paid.id}/statements/{world.worker2.id}"' in html
    assert "£48.72" in client.get(f"/hours/runs/{paid.id}/statements/{world.worker2.id}").get_data(as_text=True)


def test_statement_says_when_pay_is_below_the_minimum(world, client):
    """60 min paid at £13.00 with 3 min waiting: £12.38 an hour, below £12.71 (test_runs.py)."""
    from tests.hours.test_runs import confirmed, local

    db.session.add_all([HoursSettings(cooperative_id=world.coop.id),
                        CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                    effective_from=date(2026, 4, 1), hourly_rate_pence=1300)])
    profile(world, world.worker, employed=True)
    confirmed(world, world.worker, local(2026, 10, 8, 10, 0), local(2026, 10, 8, 11, 0), waiting_minutes=3)
    run = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 10, 1), AFTER_OCTOBER).run
    st = money.statement(act(world.worker), run.id, world.worker.id)
    assert st.fair_pay.below and st.fair_pay.effective_pence_per_hour == Decimal("1238.10")
    db.session.commit()
    sign_in(client, world.worker)
    page = client.get(f"/hours/runs/{run.id}/statements/{world.worker.id}").get_data(as_text=True)
    assert "Below the legal minimum." in page and "£12.38 an hour" in page and "£12.71 an hour" in page
