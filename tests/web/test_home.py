"""The home page as a to-do list and the navigation built once for every role
(careteams/web/home.py, careteams/web/nav.py; issue 17)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from careteams.db import utcnow
from careteams.demo import DEMO_PASSWORD, seed
from careteams.extensions import db
from careteams.hours.enums import TimesheetStatus
from careteams.members.models import MemberClass, Membership, StaffRoleName
from careteams.rota.models import ShiftStatus
from careteams.teams.models import TeamRole
from careteams.web import nav
from tests.factories import (
    PASSWORD,
    CooperativeFactory,
    ElectorateEntryFactory,
    HatFactory,
    HatTypeFactory,
    MatchFactory,
    MembershipFactory,
    OfferFactory,
    PersonFactory,
    ReviewPromptFactory,
    ShiftFactory,
    StaffRoleFactory,
    TeamFactory,
    TeamMemberFactory,
    TimesheetEntryFactory,
    VacancyFactory,
    WorkerProfileFactory,
)
from tests.helpers import QueryCounter, login

WORKER_LINKS = ("Shifts offered to me", "My shifts", "My hours")
LEADER_LINKS = ("Hours to confirm",)
STAFF_LINKS = ("Match review queue", "Disputed hours", "Member register", "New resolution")


def forget_login() -> None:
    """The test client shares the test's app context: `g` would keep the last person."""
    for name in ("actor", "_login_user", "via_token", "csrf_token"):
        g.pop(name, None)


def client_for(app, email: str, password: str = PASSWORD):
    db.session.commit()
    forget_login()
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    return client


def page(client, url: str = "/"):
    db.session.commit()
    forget_login()
    response = client.get(url)
    db.session.expire_all()
    return response


def home_of(app, person) -> str:
    response = page(client_for(app, person.email))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def nav_links(html: str) -> dict[str, str]:
    """label -> href of every link in the main navigation."""
    block = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return {label: href for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', block)}


def todo_block(html: str) -> str:
    found = re.search(r'<section aria-labelledby="todo-title">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


@dataclass
class World:
    coop: object
    team: object
    leader: object
    worker: object
    stranger: object
    facilitator: object
    other_leader: object


@pytest.fixture
def world(app):
    coop = CooperativeFactory()
    team = TeamFactory(cooperative=coop)
    worker = TeamMemberFactory(team=team).person
    WorkerProfileFactory(cooperative=coop, person=worker)
    stranger = MembershipFactory(cooperative=coop, member_class=MemberClass.worker).person
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    other_leader = TeamFactory(cooperative=coop).leader
    return World(coop, team, team.leader, worker, stranger, facilitator, other_leader)


# --- navigation: only what the person can use --------------------------------------


def test_a_leader_sees_no_worker_links(app, world):
    links = nav_links(home_of(app, world.leader))
    for label in WORKER_LINKS:
        assert label not in links, label
    assert "Hours to confirm" in links
    for label in STAFF_LINKS:
        assert label not in links


def test_a_worker_sees_no_leader_or_staff_links(app, world):
    links = nav_links(home_of(app, world.worker))
    for label in WORKER_LINKS:
        assert label in links, label
    for label in LEADER_LINKS + STAFF_LINKS:
        assert label not in links, label


def test_a_facilitator_sees_the_coops_staff_links_not_a_workers(app, world):
    links = nav_links(home_of(app, world.facilitator))
    assert {"Match review queue", "Disputed hours", "Pay and invoice runs"} <= set(links)
    for label in WORKER_LINKS + ("Member register", "My membership"):
        assert label not in links, label


def test_the_leaders_rota_page_has_no_worker_links(app, world):
    client = client_for(app, world.leader.email)
    for url in (f"/teams/{world.team.id}/rota", f"/teams/{world.team.id}/rota?view=list", "/hours/to-confirm"):
        response = page(client, url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for label in WORKER_LINKS:
            assert f">{label}</a>" not in html, (url, label)


def test_a_workers_hours_page_has_no_leader_links(app, world):
    html = page(client_for(app, world.worker.email), "/my/hours").get_data(as_text=True)
    assert ">Hours to confirm</a>" not in html
    assert ">My hours</a>" in html


def test_team_money_is_linked_for_the_leader_not_the_worker(app, world):
    money = f"/teams/{world.team.id}/money"
    assert nav_links(home_of(app, world.leader)).get("My money") == money
    assert money not in home_of(app, world.worker)
    assert money not in home_of(app, world.other_leader)
    assert "My pay" in nav_links(home_of(app, world.worker))
    assert "My pay" not in nav_links(home_of(app, world.leader))


def test_everyone_is_linked_to_their_notices(app, world):
    for person in (world.leader, world.worker, world.stranger, world.facilitator):
        assert nav_links(home_of(app, person))["My notices"] == "/my/notices"


def test_the_current_page_is_marked_in_the_navigation(app, world):
    html = page(client_for(app, world.worker.email), "/my/shifts").get_data(as_text=True)
    assert '<a href="/my/shifts" aria-current="page">My shifts</a>' in html


def test_items_for_pages_still_to_come_show_once_the_endpoint_exists(app, world, monkeypatch):
    monkeypatch.setattr(nav, "NAV", nav.NAV + [
        nav.Link("Somewhere not built", "auth.account.not_yet_built", lambda v: True),
        nav.Link("Built already", "sms_pages.my_notices", lambda v: True),
    ])
    assert nav.endpoint_exists("sms_pages.my_notices")
    assert not nav.endpoint_exists("auth.account.not_yet_built")
    links = nav_links(home_of(app, world.worker))
    assert "Built already" in links
    assert "Somewhere not built" not in links


ROLES = ["leader", "worker", "stranger", "facilitator", "nora"]


@pytest.mark.parametrize("who", ROLES)
def test_every_link_in_each_roles_navigation_opens(app, world, who):
    if who == "nora":
        person = TeamMemberFactory(team=world.team, role=TeamRole.family).person
    else:
        person = getattr(world, who)
    client = client_for(app, person.email)
    links = nav_links(page(client).get_data(as_text=True))
    assert links
    for label, href in links.items():
        assert page(client, href).status_code == 200, (who, label, href)


@pytest.mark.parametrize("who", ["ann", "dana", "wendy", "fran", "sam", "alex", "ivan"])
def test_every_link_in_the_demo_peoples_navigation_opens(app, who):
    with app.test_request_context():
        seed()
    client = client_for(app, f"{who}@demo.careteams.example", DEMO_PASSWORD)
    links = nav_links(page(client).get_data(as_text=True))
    for label, href in links.items():
        assert page(client, href).status_code == 200, (who, label, href)


# --- the to-do list: each kind for the right person, not for others ----------------


def test_an_invitation_waits_for_the_invited_person_only(app, world):
    nora = PersonFactory()
    TeamMemberFactory(team=world.team, person=nora, invited=True, role=TeamRole.family)
    todo = todo_block(home_of(app, nora))
    assert f"{world.team.display_name}&#39;s team invites you to join" in todo
    assert 'href="/teams"' in todo
    for other in (world.leader, world.worker, world.stranger):
        assert "invites you" not in todo_block(home_of(app, other))


def test_a_hat_offer_waits_with_its_answer_by_time(app, world):
    hat_type = HatTypeFactory(cooperative=world.coop, name="Rota wrangler")
    HatFactory(team=world.team, person=world.stranger, hat_type=hat_type, offered=True,
               expires_at=utcnow() + timedelta(days=2))
    todo = todo_block(home_of(app, world.stranger))
    assert "offers you the hat “Rota wrangler”" in todo
    assert "Answer by <time datetime=" in todo
    assert "Rota wrangler" not in todo_block(home_of(app, world.worker))


def test_a_match_waits_for_the_side_that_answers(app, world):
    vacancy = VacancyFactory(team=world.team)
    invited = MatchFactory(vacancy=vacancy, worker=world.stranger)  # the team invited her
    asking = PersonFactory()
    MatchFactory(vacancy=vacancy, worker=asking, asked=True)  # she asked the team
    stranger_todo = todo_block(home_of(app, world.stranger))
    assert f'href="/matches/{invited.id}"' in stranger_todo
    assert "would like you to join" in stranger_todo
    leader_todo = todo_block(home_of(app, world.leader))
    assert f"{asking.name} asks to join" in leader_todo
    assert "would like you to join" not in leader_todo
    assert "asks to join" not in todo_block(home_of(app, world.other_leader))
    assert "asks to join" not in todo_block(home_of(app, world.worker))


def test_offers_wait_for_the_worker_they_were_made_to(app, world):
    OfferFactory(shift=ShiftFactory(team=world.team, status=ShiftStatus.offered), person=world.worker)
    todo = todo_block(home_of(app, world.worker))
    assert "1 visit offered to you" in todo
    assert 'href="/my/offers"' in todo
    assert "offered to you" not in todo_block(home_of(app, world.leader))


def test_todays_visit_shows_for_the_booked_worker(app, world):
    now = utcnow().replace(microsecond=0)
    shift = ShiftFactory(team=world.team, status=ShiftStatus.booked, booked_person=world.worker,
                         starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(minutes=55))
    todo = todo_block(home_of(app, world.worker))
    assert "Visit today at" in todo
    assert f'href="/my/shifts/{shift.id}"' in todo
    assert "Visit today" not in todo_block(home_of(app, world.leader))


def test_hours_to_submit_and_to_confirm_go_to_the_worker_and_the_checker(app, world):
    TimesheetEntryFactory(team=world.team, person=world.worker)
    TimesheetEntryFactory(team=world.team, person=world.worker, submitted=True)
    worker_todo = todo_block(home_of(app, world.worker))
    assert "1 visit of hours to check and submit" in worker_todo
    assert "to confirm" not in worker_todo
    leader_todo = todo_block(home_of(app, world.leader))
    assert "1 entry of hours to confirm" in leader_todo
    assert 'href="/hours/to-confirm"' in leader_todo
    assert "to confirm" not in todo_block(home_of(app, world.other_leader))


def test_a_dispute_goes_to_the_facilitator_and_the_worker_hears_of_it(app, world):
    TimesheetEntryFactory(team=world.team, person=world.worker, status=TimesheetStatus.disputed,
                          submitted_at=utcnow(), disputed_at=utcnow())
    fac_todo = todo_block(home_of(app, world.facilitator))
    assert "1 disputed entry of hours to settle" in fac_todo
    assert f'href="/cooperatives/{world.coop.id}/hours/disputes"' in fac_todo
    assert "1 entry of your hours is disputed" in todo_block(home_of(app, world.worker))
    assert "disputed" not in todo_block(home_of(app, world.leader))
    other_fac = StaffRoleFactory(role=StaffRoleName.facilitator).person  # another co-op's
    assert "disputed" not in todo_block(home_of(app, other_fac))


def test_a_check_in_waits_for_both_sides(app, world):
    match = MatchFactory(vacancy=VacancyFactory(team=world.team), trial=True)
    ReviewPromptFactory(match=match)
    worker = match.worker
    assert "Say how it is going after 3 shifts" in todo_block(home_of(app, worker))
    assert "Say how it is going" in todo_block(home_of(app, world.leader))
    assert "Say how it is going" not in todo_block(home_of(app, world.worker))
    assert "Say how it is going" not in todo_block(home_of(app, world.other_leader))


def test_an_open_vote_shows_its_closing_time_until_she_votes(app, world):
    membership = db.session.scalar(sa.select(Membership).where(Membership.person_id == world.stranger.id))
    entry = ElectorateEntryFactory(cooperative=world.coop, membership=membership)
    todo = todo_block(home_of(app, world.stranger))
    assert "Vote on “" in todo
    assert "Voting closes <time" in todo
    assert "Vote on" not in todo_block(home_of(app, world.leader))  # not in that electorate
    entry.has_voted = True
    assert "Vote on" not in todo_block(home_of(app, world.stranger))


def test_a_stranger_sees_nothing_of_a_team(app, world):
    html = home_of(app, world.stranger)
    assert world.team.display_name not in html
    assert f"/teams/{world.team.id}" not in html


def test_nothing_waiting_says_so(app, world):
    assert "Nothing is waiting for you." in todo_block(home_of(app, world.other_leader))


# --- words ------------------------------------------------------------------------


def test_nora_in_a_team_without_a_coop_membership_is_not_told_she_is_outside(app, world):
    nora = TeamMemberFactory(team=world.team, role=TeamRole.family).person
    html = home_of(app, nora)
    assert "You are not part of a co-operative yet" not in html
    assert "not part of a co-operative or a team" not in html
    assert f'href="/teams/{world.team.id}"' in html


def test_a_person_with_nothing_yet_is_told_what_will_happen(app):
    html = home_of(app, PersonFactory())
    assert "You are not part of a co-operative or a team yet" in html


def test_an_advocate_member_reads_an(app, world):
    advocate = MembershipFactory(cooperative=world.coop, member_class=MemberClass.advocate).person
    html = home_of(app, advocate)
    assert "You are an advocate member" in html
    assert "a advocate" not in html
    assert "You are a worker member" in home_of(app, world.stranger)


# --- cost: the same for one team as for five ----------------------------------------


def _home_queries(app, teams: int) -> int:
    """She helps run `teams` teams (a hat that confirms hours and answers matches) and is
    invited to, and offered a hat in, as many others; each team has work waiting."""
    coop = CooperativeFactory()
    person = PersonFactory()
    MembershipFactory(cooperative=coop, person=person, member_class=MemberClass.advocate)
    helper = HatTypeFactory(cooperative=coop, permissions=["confirm_hours", "answer_matches", "edit_rota"])
    for _ in range(teams):
        team = TeamFactory(cooperative=coop)
        HatFactory(team=team, person=person, hat_type=helper)
        TimesheetEntryFactory(team=team, submitted=True)
        MatchFactory(vacancy=VacancyFactory(team=team), asked=True)
        other = TeamFactory(cooperative=coop)
        TeamMemberFactory(team=other, person=person, invited=True, role=TeamRole.family)
        HatFactory(team=other, person=person, offered=True)
    client = client_for(app, person.email)
    page(client)  # warm up
    db.session.commit()
    forget_login()
    with QueryCounter(db.engine) as counter:
        response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("invites you to join") == teams
    assert html.count("asks to join") == teams
    return counter.count


def test_home_costs_the_same_for_one_team_as_for_five(app):
    assert _home_queries(app, 1) == _home_queries(app, 5)


# --- several co-ops, and nobody logged in ------------------------------------------


def test_with_two_coops_each_coops_links_are_named_by_their_coop(app, world):
    other = CooperativeFactory(name="Hill Care")
    MembershipFactory(cooperative=other, person=world.stranger, member_class=MemberClass.advocate)
    html = home_of(app, world.stranger)
    block = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    assert f"{world.coop.name}:" in block and "Hill Care:" in block
    assert f'href="/cooperatives/{world.coop.slug}/resolutions"' in block
    assert f'href="/cooperatives/{other.slug}/resolutions"' in block
    assert "You are a worker member" in html and "You are an advocate member" in html


def test_nobody_logged_in_sees_no_navigation_links(app, world):
    forget_login()
    html = app.test_client().get("/login").get_data(as_text=True)
    assert nav_links(html) == {}  # only the brand link, which carries a class first
    assert "Log out" not in html and "My notices" not in html
