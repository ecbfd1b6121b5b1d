"""The co-op figures page (issue 18): hours delivered, active teams and workers, worker
turnover, the share confirmed without dispute and matching per month, as charts, tables
and one CSV (careteams/hours/pages.py figures_page; the figures from
hours.services.figures and matching's matching_figures_by_month)."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from careteams.db import utcnow
from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.enums import EntryKind
from careteams.matching.enums import MatchState
from careteams.members.models import MemberClass, StaffRoleName
from careteams.teams.models import TeamMemberStatus
from careteams.web import charts
from tests.factories import (
    CooperativeFactory,
    MatchFactory,
    MembershipFactory,
    StaffRoleFactory,
    TeamFactory,
    TeamMemberFactory,
    TimesheetEntryFactory,
    VacancyFactory,
)
from tests.helpers import QueryCounter, client_for, forget_login, get


def add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def at(day: date, hour: int = 10, days: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) + timedelta(days=days)


THIS_MONTH = date(utcnow().year, utcnow().month, 1)
M1, M2 = add_months(THIS_MONTH, -2), add_months(THIS_MONTH, -1)  # the two months before this one


@dataclass
class World:
    coop: object
    facilitator: object
    admin: object
    team: object


@pytest.fixture
def figs(app):
    coop = CooperativeFactory()
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    admin = StaffRoleFactory(cooperative=coop, role=StaffRoleName.admin).person
    return World(coop, facilitator, admin, TeamFactory(cooperative=coop))


def fill(team, first: date, second: date) -> dict:
    """Two months of one team: hours, a dispute, a correction, a leaver, two decided matches."""
    long_ago = first - timedelta(days=60)
    stayer = TeamMemberFactory(team=team, active_on=long_ago).person
    leaver = TeamMemberFactory(team=team, status=TeamMemberStatus.left, active_on=long_ago,
                               ended_on=second + timedelta(days=9)).person

    def entry(person, start, hours, **kw):
        return TimesheetEntryFactory(team=team, person=person, confirmed=True, started_at=start,
                                     ended_at=start + timedelta(minutes=int(hours * 60)), **kw)

    entry(stayer, at(first, days=9), 2)
    original = entry(stayer, at(first, days=11), 1)
    entry(stayer, at(first, days=11), 1.5, corrects_id=original.id)  # counts instead of the original
    entry(stayer, at(first, days=12), 3, kind=EntryKind.cancellation)  # not delivered
    TimesheetEntryFactory(team=team, person=stayer, submitted=True, started_at=at(first, days=13))  # not confirmed
    entry(stayer, at(second, days=11), 3)
    entry(leaver, at(second, days=4), 1, disputed_at=at(second, days=5))
    vacancy = VacancyFactory(team=team, created_at=at(second, hour=0))
    joined = at(second, hour=0, days=10)
    MatchFactory(vacancy=vacancy, state=MatchState.active, worker_said_yes=True, mutual_at=joined - timedelta(days=5),
                 joined_at=joined, active_at=joined, closed_at=joined)
    MatchFactory(vacancy=VacancyFactory(team=team), state=MatchState.withdrawn, worker_said_yes=True,
                 mutual_at=at(second), closed_at=at(second, days=2))
    MatchFactory(vacancy=VacancyFactory(team=team), state=MatchState.withdrawn, closed_at=at(second, days=2))  # never mutual
    return {"stayer": stayer, "leaver": leaver}


def tables(page: str) -> dict[str, list[list[str]]]:
    """Each figures table by its region's name: the header row and the rows, as the page writes them."""
    out = {}
    for name, body in re.findall(r'role="region" tabindex="0" aria-label="([^"]+): the figures">(.*?)</table>', page, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        out[htmllib.unescape(name)] = [[htmllib.unescape(c.strip()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
                                       for r in rows]
    return out


def url(coop, first: date | None = None, last: date | None = None, csv_: bool = False) -> str:
    base = f"/cooperatives/{coop.id}/hours/figures{'.csv' if csv_ else ''}"
    if first is None:
        return base
    return f"{base}?from_month={first:%Y-%m}&to_month={last:%Y-%m}"


def test_each_figure_per_month_as_chart_and_table(app, figs):
    fill(figs.team, M1, M2)
    other = TeamFactory(cooperative=CooperativeFactory())
    fill(other, M1, M2)  # another co-op's figures are not counted
    response = get(client_for(app, figs.facilitator), url(figs.coop, M1, M2))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = tables(page)
    m1, m2 = f"{M1:%b %Y}", f"{M2:%b %Y}"
    assert found["Hours of support delivered"] == [["Month", "Hours"], [m1, "3.5"], [m2, "4.0"]]
    assert found["Active teams and workers"] == [["Month", "Active teams", "Active workers"], [m1, "1", "1"], [m2, "1", "2"]]
    # M2: one leaver over an average of (2 + 1) / 2 workers, times 12.
    assert found["Worker turnover"] == [["Month", "Leavers", "Turnover (a year)"], [m1, "0", "0.0%"], [m2, "1", "800.0%"]]
    assert found["Hours confirmed without dispute"] == [["Month", "Confirmed without dispute"], [m1, "100.0%"],
                                                       [m2, "75.0%"]]
    assert found["Matching success and days from vacancy to start"] == [
        ["Month", "Mutual matches decided", "Matching success", "Median days to start"],
        [m1, "0", "none", "none"], [m2, "2", "50%", "10.0"]]
    # Over the range: 1 leaver over the mean of the months' averages (2 and 1.5), scaled to a year.
    assert "1 leaver, turnover 342.9% a year: higher than both (Equal Care Co-op reports 7% against 32% " \
           "across the care sector)." in htmllib.unescape(page)
    assert "50% of 2 mutual matches decided became team members" in page
    assert "a median of 10.0 days from vacancy to start (1 joined)" in page
    # Pictures: one SVG per table, role=img, named by title and desc, every bar labelled.
    assert page.count('role="img"') == 5
    assert 'aria-labelledby="figures-hours-title figures-hours-desc"' in page
    assert '<text x="' in page and 'class="chart-value">4.0</text>' in page
    assert f'class="chart-category">{M2:%b %y}</text>' in page
    assert "<script" not in page


def test_the_csv_holds_the_very_figures_of_the_tables(app, figs):
    fill(figs.team, M1, M2)
    client = client_for(app, figs.facilitator)
    page = get(client, url(figs.coop, M1, M2)).get_data(as_text=True)
    link = f'href="/cooperatives/{figs.coop.id}/hours/figures.csv?from_month={M1:%Y-%m}&amp;to_month={M2:%Y-%m}"'
    assert link in page
    response = get(client, url(figs.coop, M1, M2, csv_=True))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=figures-{figs.coop.slug}-{M1:%Y-%m}-to-{M2:%Y-%m}.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8"))))
    found = tables(page)
    assert len(found) == 5
    assert rows[0] == ["Month", *(h for t in found.values() for h in t[0][1:])]
    for i, row in enumerate(rows[1:], start=1):
        assert row == [found["Hours of support delivered"][i][0], *(c for t in found.values() for c in t[i][1:])]
    assert len(rows) == 3


def test_an_admin_sees_the_hours_figures_but_not_matching(app, figs):
    fill(figs.team, M1, M2)
    client = client_for(app, figs.admin)
    page = get(client, url(figs.coop, M1, M2)).get_data(as_text=True)
    found = tables(page)
    assert "Hours of support delivered" in found and "Matching success and days from vacancy to start" not in found
    assert "Matching figures (success and days from vacancy to start) show to the co-op's facilitators" in page
    rows = list(csv.reader(io.StringIO(get(client, url(figs.coop, M1, M2, csv_=True)).data.decode("utf-8"))))
    assert "Matching success" not in rows[0] and len(rows[0]) == 7


def test_the_last_twelve_months_by_default(app, figs):
    response = get(client_for(app, figs.facilitator), url(figs.coop))
    assert response.status_code == 200
    found = tables(response.get_data(as_text=True))
    months = [r[0] for r in found["Hours of support delivered"][1:]]
    assert len(months) == 12 and months[-1] == f"{THIS_MONTH:%b %Y}"
    assert months[0] == f"{add_months(THIS_MONTH, -11):%b %Y}"


@pytest.mark.parametrize(("first", "last", "field", "words"), [
    ("2026-13", "", "from_month", "Enter the first month like 2026-01."),
    ("", "next", "to_month", "The last month cannot be after this month"),
    ("later", "earlier", "from_month", "The first month must be the same as the last month or before it."),
    ("long", "", "from_month", "Choose at most 24 months."),
])
def test_a_refused_range_keeps_what_was_typed_and_says_why(app, figs, first, last, field, words):
    typed = {"later": f"{M2:%Y-%m}", "earlier": f"{M1:%Y-%m}", "next": f"{add_months(THIS_MONTH, 1):%Y-%m}",
             "long": f"{add_months(THIS_MONTH, -24):%Y-%m}"}
    first, last = typed.get(first, first), typed.get(last, last)
    client = client_for(app, figs.facilitator)
    response = get(client, f"/cooperatives/{figs.coop.id}/hours/figures?from_month={first}&to_month={last}")
    assert response.status_code == 422
    page = htmllib.unescape(response.get_data(as_text=True))
    assert words in page and 'class="error-summary"' in page
    assert f'id="{field}-error"' in page
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*\b{field}-error"|aria-describedby="[^"]*\b{field}-error"[^>]*id="{field}"', page)
    assert f'value="{first}"' in page if first else True
    assert f'value="{last}"' in page if last else True
    assert 'role="img"' not in page  # no figures for a range it refused
    csv_ = get(client, f"/cooperatives/{figs.coop.id}/hours/figures.csv?from_month={first}&to_month={last}")
    assert csv_.status_code == 422 and csv_.mimetype == "text/html"


def test_refused_actors(app, figs):
    other_coop = CooperativeFactory()
    other_facilitator = StaffRoleFactory(cooperative=other_coop, role=StaffRoleName.facilitator).person
    other_admin = StaffRoleFactory(cooperative=other_coop, role=StaffRoleName.admin).person
    worker = MembershipFactory(cooperative=figs.coop, member_class=MemberClass.worker).person
    secretary = StaffRoleFactory(cooperative=figs.coop, role=StaffRoleName.secretary).person
    leader = figs.team.leader
    for link in (url(figs.coop), url(figs.coop, csv_=True)):
        for person in (other_facilitator, other_admin):
            assert get(client_for(app, person), link).status_code == 404, (person.email, link)
        for person in (worker, secretary, leader):
            client = client_for(app, person)
            assert get(client, link).status_code == 403, (person.email, link)
            assert f'href="{url(figs.coop)}"' not in get(client, "/").get_data(as_text=True)
        for person in (figs.facilitator, figs.admin):
            assert get(client_for(app, person), link).status_code == 200, (person.email, link)
        db.session.commit()
        forget_login()
        assert app.test_client().get(link).status_code in (302, 401)
    assert get(client_for(app, figs.facilitator), "/cooperatives/999999/hours/figures").status_code == 404


def test_navigation_links_the_page_for_facilitators_and_admins(app, figs):
    for person in (figs.facilitator, figs.admin):
        home = get(client_for(app, person), "/").get_data(as_text=True)
        assert f'href="{url(figs.coop)}">Co-op figures</a>' in home, person.email


def test_the_query_count_does_not_grow_with_the_months_or_the_teams(app, figs):
    fill(figs.team, M1, M2)
    client = client_for(app, figs.facilitator)
    one_month = url(figs.coop, M2, M2)
    get(client, one_month)  # warm up: the login session, the viewer

    def reads(counter):
        return [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]

    with QueryCounter(db.engine) as small:
        assert get(client, one_month).status_code == 200
    with QueryCounter(db.engine) as small_csv:
        assert get(client, url(figs.coop, M2, M2, csv_=True)).status_code == 200
    for _ in range(4):
        fill(TeamFactory(cooperative=figs.coop), M1, M2)
    for link in (url(figs.coop, add_months(THIS_MONTH, -23), THIS_MONTH), url(figs.coop)):
        with QueryCounter(db.engine) as large:
            response = get(client, link)
        assert response.status_code == 200
        assert len(reads(large)) == len(reads(small)), (len(reads(small)), len(reads(large)))
    with QueryCounter(db.engine) as large_csv:
        assert get(client, url(figs.coop, csv_=True)).status_code == 200
    assert len(reads(large_csv)) == len(reads(small_csv))


# ---------------------------------------------------------------- the pieces


def test_turnover_over_months_and_in_words():
    assert rules.turnover_percent(1, [Fraction(2), Fraction(3, 2)]) == Decimal("342.9")
    assert rules.turnover_percent(0, []) == Decimal("0.0")
    # One month: the monthly rule gives the same figure.
    assert rules.annualised_turnover_percent(1, 2, 1) == rules.turnover_percent(1, [Fraction(3, 2)]) == Decimal("800.0")
    # A year's 12 months: leavers over the average headcount, not scaled further.
    assert rules.turnover_percent(3, [Fraction(50)] * 12) == Decimal("6.0")
    assert rules.turnover_comparison(Decimal("6.0")).startswith("6.0% a year: lower than both (Equal Care Co-op reports 7%")
    assert "higher than Equal Care's but lower than the sector's" in rules.turnover_comparison(Decimal("20.0"))
    assert "higher than both" in rules.turnover_comparison(Decimal("32.1"))


def test_the_csv_is_formula_safe():
    chart = charts.Chart("c", "T", "D", categories=["=HYPERLINK(\"x\")", "Oct 2026"],
                         series=[charts.Series("@name", [1, 2], ["+1", "-2"])])
    rows = list(csv.reader(io.StringIO(charts.charts_csv([chart]))))
    assert rows == [["Month", "'@name"], ["'=HYPERLINK(\"x\")", "'+1"], ["Oct 2026", "'-2"]]
