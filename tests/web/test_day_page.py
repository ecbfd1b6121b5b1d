"""The facilitators' day: one page across the co-op's teams of what needs them today
(careteams/web/day.py, /coops/<slug>/day; issue 18)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from careteams.db import utcnow
from careteams.extensions import db
from careteams.hours.enums import TimesheetStatus
from careteams.matching.enums import MatchState
from careteams.members.models import MemberClass, StaffRoleName
from careteams.rota.models import ShiftStatus
from tests.factories import (
    CooperativeFactory,
    MatchFactory,
    MembershipFactory,
    ReviewPromptFactory,
    ShiftFactory,
    StaffRoleFactory,
    TeamFactory,
    TeamMemberFactory,
    TimesheetEntryFactory,
    VacancyFactory,
    WorkerCheckFactory,
    WorkerProfileFactory,
)
from tests.helpers import QueryCounter, client_for, forget_login, get


def section(html: str, key: str) -> str:
    found = re.search(rf'<section aria-labelledby="{key}">(.*?)</section>', html, re.S)
    assert found, key
    return found.group(1)


@dataclass
class World:
    coop: object
    facilitator: object
    admin: object


@pytest.fixture
def world(app):
    coop = CooperativeFactory()
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    admin = StaffRoleFactory(cooperative=coop, role=StaffRoleName.admin).person
    return World(coop, facilitator, admin)


def fill_team(coop, now):
    """One team with one of everything the day lists."""
    team = TeamFactory(cooperative=coop)
    lines = {}
    open_shift = ShiftFactory(team=team, starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=1))
    lines["unbooked"] = f"/teams/{team.id}/rota/visits/{open_shift.id}"
    escalated = ShiftFactory(team=team, status=ShiftStatus.offered, escalation_level=2, escalated_at=now,
                             starts_at=now + timedelta(days=10), ends_at=now + timedelta(days=10, hours=1))
    lines["escalated"] = f"/teams/{team.id}/rota/visits/{escalated.id}"
    cover = ShiftFactory(team=team, booked=True, cover_requested_at=now, starts_at=now + timedelta(days=3),
                         ends_at=now + timedelta(days=3, hours=1))
    lines["cover"] = f"/teams/{team.id}/rota/visits/{cover.id}"
    missed = ShiftFactory(team=team, booked=True, missed_alert_at=now - timedelta(hours=1),
                          starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
    lines["missed"] = f"/teams/{team.id}/rota/visits/{missed.id}"
    vacancy = VacancyFactory(team=team, created_at=now - timedelta(weeks=8))
    lines["vacancies"] = f"/vacancies/{vacancy.id}"
    review = MatchFactory(vacancy=vacancy, review=True)
    lines["review"] = f"/matches/{review.id}"
    stalled = MatchFactory(vacancy=VacancyFactory(team=team), state=MatchState.introduction, worker_said_yes=True,
                           mutual_at=now - timedelta(days=40), approved_at=now - timedelta(days=30))
    lines["stalled"] = f"/matches/{stalled.id}"
    troubled = MatchFactory(vacancy=VacancyFactory(team=team), trial=True)
    ReviewPromptFactory(match=troubled, team_answer="not_working")
    lines["not-working"] = f"/matches/{troubled.id}"
    entry = TimesheetEntryFactory(team=team, status=TimesheetStatus.disputed, submitted_at=now - timedelta(days=1),
                                  disputed_at=now)
    lines["disputes"] = f"/hours/entries/{entry.id}"
    profile = WorkerProfileFactory(cooperative=coop, checks=[])
    WorkerCheckFactory(worker_profile=profile, checked_on=now.date() - timedelta(days=1000),
                       expires_on=now.date() + timedelta(days=10))
    lines["checks"] = f"/coops/{coop.slug}/workers/{profile.person_id}/checks"
    return team, lines


def test_each_kind_of_line_appears_with_the_link_that_resolves_it(app, world):
    now = utcnow()
    team, lines = fill_team(world.coop, now)
    response = get(client_for(app, world.facilitator), f"/coops/{world.coop.slug}/day")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for key, url in lines.items():
        block = section(html, key)
        assert f'href="{url}"' in block, (key, url)
        assert f"{team.display_name}" in block or key == "checks", key
    assert "expires on" in section(html, "checks")


def test_an_empty_day_says_so_in_plain_words(app, world):
    html = get(client_for(app, world.facilitator), f"/coops/{world.coop.slug}/day").get_data(as_text=True)
    assert "Nothing across the co-op's teams needs a facilitator today." in html
    assert "Every visit is booked." in section(html, "unbooked")
    assert "No hours are in dispute." in section(html, "disputes")


def test_what_is_settled_or_far_off_is_not_listed(app, world):
    now = utcnow()
    team = TeamFactory(cooperative=world.coop)
    far = ShiftFactory(team=team, starts_at=now + timedelta(days=20), ends_at=now + timedelta(days=20, hours=1))
    booked = ShiftFactory(team=team, booked=True, starts_at=now + timedelta(days=1),
                          ends_at=now + timedelta(days=1, hours=1))
    young = VacancyFactory(team=team, created_at=now - timedelta(weeks=2))
    html = get(client_for(app, world.facilitator), f"/coops/{world.coop.slug}/day").get_data(as_text=True)
    for shift in (far, booked):
        assert f"/rota/visits/{shift.id}" not in html
    assert f"/vacancies/{young.id}" not in html


def test_an_admin_sees_the_day_and_the_nav_links_it(app, world):
    _, lines = fill_team(world.coop, utcnow())
    client = client_for(app, world.admin)
    response = get(client, f"/coops/{world.coop.slug}/day")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The pages behind the lines open for facilitators only (but worker checks, the admins' too):
    # an admin gets the words, and links only where the page opens for her.
    for key, url in lines.items():
        block = section(html, key)
        opens = get(client, url.split("#")[0]).status_code
        if key == "checks":
            assert f'href="{url}"' in block and opens == 200, key
        else:
            assert f'href="{url}"' not in block, key
            assert opens in (403, 404), url
    assert "nobody is booked yet" in section(html, "unbooked")
    assert "A line with a link opens the page where you can deal with it; the pages behind the others open " \
           "for facilitators only." in html
    assert f'href="/coops/{world.coop.slug}/day">Today&#39;s work</a>' in get(client, "/").get_data(as_text=True)


def test_another_coops_teams_are_not_listed(app, world):
    other = CooperativeFactory()
    _, lines = fill_team(other, utcnow())
    html = get(client_for(app, world.facilitator), f"/coops/{world.coop.slug}/day").get_data(as_text=True)
    for url in lines.values():
        assert f'href="{url}"' not in html


def test_refused_actors(app, world):
    other_coop = CooperativeFactory()
    other_facilitator = StaffRoleFactory(cooperative=other_coop, role=StaffRoleName.facilitator).person
    member = MembershipFactory(cooperative=world.coop, member_class=MemberClass.worker).person
    leader = TeamFactory(cooperative=world.coop).leader
    secretary = StaffRoleFactory(cooperative=world.coop, role=StaffRoleName.secretary).person
    url = f"/coops/{world.coop.slug}/day"
    assert get(client_for(app, other_facilitator), url).status_code == 404
    for person in (member, leader, secretary):
        client = client_for(app, person)
        assert get(client, url).status_code == 403, person.email
        assert f'href="{url}"' not in get(client, "/").get_data(as_text=True)
    db.session.commit()
    forget_login()
    anonymous = app.test_client().get(url)
    assert anonymous.status_code in (302, 401)
    assert get(client_for(app, world.facilitator), "/coops/no-such-coop/day").status_code == 404


def test_the_query_count_does_not_grow_with_the_teams(app, world):
    now = utcnow()
    fill_team(world.coop, now)
    client = client_for(app, world.facilitator)
    url = f"/coops/{world.coop.slug}/day"
    get(client, url)  # warm up: the login session, the viewer
    with QueryCounter(db.engine) as one_team:
        assert get(client, url).status_code == 200
    for _ in range(4):
        fill_team(world.coop, now)
    with QueryCounter(db.engine) as five_teams:
        response = get(client, url)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("/rota/visits/") >= 5 * 4
    # Reads only: the test's own savepoints come and go around each request.
    def reads(counter):
        return [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]

    assert len(reads(five_teams)) == len(reads(one_team)), (len(reads(one_team)), len(reads(five_teams)))


def test_the_team_page_links_its_vacancies_for_the_team_side_and_facilitators(app, world):
    team = TeamFactory(cooperative=world.coop)
    worker = TeamMemberFactory(team=team).person
    link = f'href="/teams/{team.id}/vacancies"'
    for person in (team.leader, world.facilitator):
        html = get(client_for(app, person), f"/teams/{team.id}").get_data(as_text=True)
        assert link in html, person.email
        assert get(client_for(app, person), f"/teams/{team.id}/vacancies").status_code == 200
    response = get(client_for(app, worker), f"/teams/{team.id}")
    assert response.status_code == 200
    assert link not in response.get_data(as_text=True)


def test_the_home_page_tells_a_facilitator_how_many_visits_need_someone(app, world):
    now = utcnow()
    team = TeamFactory(cooperative=world.coop)
    html = get(client_for(app, world.facilitator), "/").get_data(as_text=True)
    assert "need someone" not in html and "needs someone" not in html
    for days in (1, 2):
        ShiftFactory(team=team, starts_at=now + timedelta(days=days), ends_at=now + timedelta(days=days, hours=1))
    html = get(client_for(app, world.facilitator), "/").get_data(as_text=True)
    assert (f'<a href="/coops/{world.coop.slug}/day">2 visits across {world.coop.name}&#39;s teams need someone: '
            "see today&#39;s work.</a>") in html
    # The team's leader is not told: the day is the co-op's facilitators' work.
    assert "need someone" not in get(client_for(app, team.leader), "/").get_data(as_text=True)


@pytest.mark.parametrize("page", ["day", "matching/queue"])
def test_the_coops_teams_are_read_without_joining_their_leaders(app, world, page):
    """At federation scale, joining each listed team's leader made PostgreSQL hash every
    person of the federation (README, "Federation scale"): neither the day page's visits
    nor the nav's list of the facilitator's teams joins the leader (nothing they show needs it)."""
    now = utcnow()
    for _ in range(3):
        fill_team(world.coop, now)
    client = client_for(app, world.facilitator)
    url = f"/coops/{world.coop.slug}/{page}"
    get(client, url)
    with QueryCounter(db.engine) as counter:
        response = get(client, url)
    assert response.status_code == 200
    assert any(re.search(r"\bFROM team\b", s) for s in counter.statements)  # teams were read (nav, page)
    if page == "day":
        assert response.get_data(as_text=True).count("/rota/visits/") >= 3 * 4
        assert any("FROM shift JOIN team" in s for s in counter.statements)
    joined = [s for s in counter.statements if re.search(r"=\s*team\.leader_id", s)]
    assert joined == [], joined


def test_the_visits_that_need_someone_are_the_same_rows_in_parts_as_at_once(app, world):
    """The day page asks for its upcoming visits as a UNION ALL of three parts (each served
    by a partial index, migration 0026); home.py asks the same as one OR. Same rows."""
    import sqlalchemy as sa

    from careteams.rota.models import Shift
    from careteams.web.day import _shifts, upcoming_need, upcoming_need_parts

    now = utcnow()
    for _ in range(2):
        fill_team(world.coop, now)
    ShiftFactory(team=TeamFactory(cooperative=world.coop), status=ShiftStatus.offered,
                 starts_at=now + timedelta(days=20), ends_at=now + timedelta(days=20, hours=1))  # far off: neither
    db.session.flush()
    parts = upcoming_need_parts(now)
    assert len(parts) == 3
    by_parts = [s.id for s in _shifts(world.coop, *parts)]
    at_once = list(db.session.scalars(sa.select(Shift.id).where(upcoming_need(now)).order_by(Shift.starts_at, Shift.id)))
    assert len(by_parts) == 2 * 3  # each team: unbooked, escalated, cover
    assert by_parts == at_once
