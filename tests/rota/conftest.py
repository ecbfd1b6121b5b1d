"""A small world for rota tests: one team with every kind of actor, plus outsiders."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from careteams.extensions import db
from careteams.members.models import StaffRoleName
from careteams.rota.models import Shift, ShiftKind, ShiftStatus
from careteams.teams.models import (
    Hat,
    HatStatus,
    HatType,
    Team,
    TeamMember,
    TeamMemberStatus,
    TeamRole,
)
from tests.factories import (
    PASSWORD,
    CooperativeFactory,
    PersonFactory,
    StaffRoleFactory,
    make_worker_profile,
)
from tests.helpers import pass_second_factor

# Rota tests are set in the winter of 2026-27, whatever day the suite runs on:
# the app's clock reads CLOCK (and ticks on from there), and MONDAY is a month later.
CLOCK = datetime(2026, 12, 1, 9, tzinfo=UTC)
MONDAY = datetime(2027, 1, 4, tzinfo=UTC)


@pytest.fixture(autouse=True)
def rota_clock(time_machine):
    time_machine.move_to(CLOCK, tick=True)


def make_team(coop, leader=None, *, lat=53.6458, lon=-1.7850, name="Ann") -> Team:
    leader = leader or PersonFactory()
    team = Team(cooperative_id=coop.id, leader_id=leader.id, display_name=name, latitude=lat, longitude=lon)
    db.session.add(team)
    db.session.flush()
    return team


def add_member(team, person=None, status=TeamMemberStatus.active, role=TeamRole.paid_worker):
    person = person or PersonFactory()
    db.session.add(TeamMember(team_id=team.id, person_id=person.id, role=role, status=status))
    db.session.flush()
    if role == TeamRole.paid_worker:
        make_worker_profile(person, team.cooperative_id)
    return person


def add_hat(team, person, hat_type):
    db.session.add(Hat(team_id=team.id, person_id=person.id, hat_type_id=hat_type.id, status=HatStatus.accepted,
                       offered_by_id=team.leader_id))
    db.session.flush()
    return person


def make_shift(team, start: datetime, hours: float = 1.0, *, status=ShiftStatus.open, person=None,
               kind=ShiftKind.practical_help, **kw) -> Shift:
    shift = Shift(team_id=team.id, starts_at=start, ends_at=start + timedelta(hours=hours), kind=kind,
                  status=status, booked_person_id=person.id if person else None, required_skills=[], **kw)
    db.session.add(shift)
    db.session.flush()
    return shift


def build_world():
    coop = CooperativeFactory()
    other_coop = CooperativeFactory()
    leader = PersonFactory(name="Ann Leader")
    team = make_team(coop, leader)
    wrangler_type = HatType(cooperative_id=coop.id, name="Rota wrangler", permissions=["edit_rota", "offer_shifts"])
    plan_type = HatType(cooperative_id=coop.id, name="Plan keeper", permissions=["edit_plan"])
    db.session.add_all([wrangler_type, plan_type])
    db.session.flush()
    wrangler = add_hat(team, PersonFactory(name="Rita Wrangler"), wrangler_type)
    circle = add_hat(team, PersonFactory(name="Cal Circle"), plan_type)
    worker = add_member(team, PersonFactory(name="Wendy Worker"))
    worker2 = add_member(team, PersonFactory(name="Will Worker"))
    trial = add_member(team, PersonFactory(name="Tara Trial"), TeamMemberStatus.trial)
    other_team = make_team(coop, name="Bill", lat=53.7, lon=-1.9)
    other_worker = add_member(other_team, PersonFactory(name="Otto Other"))
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    other_facilitator = StaffRoleFactory(cooperative=other_coop, role=StaffRoleName.facilitator).person
    stranger = PersonFactory(name="Stan Stranger")
    admin = StaffRoleFactory(cooperative=coop, role=StaffRoleName.admin).person
    return SimpleNamespace(coop=coop, other_coop=other_coop, team=team, leader=leader, wrangler=wrangler,
                           circle=circle, worker=worker, worker2=worker2, trial=trial, other_team=other_team,
                           other_worker=other_worker, facilitator=facilitator, other_facilitator=other_facilitator,
                           stranger=stranger, admin=admin, wrangler_type=wrangler_type)


@pytest.fixture
def world(app):
    return build_world()


@pytest.fixture
def login(client):
    """login(person) logs the test client in through the real form; returns a CSRF token."""

    def do(person) -> str:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
            re.search(r'name="csrf_token" value="([^"]+)"', page)
        response = client.post("/login", data={"email": person.email, "password": PASSWORD,
                                               "csrf_token": token.group(1)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        pass_second_factor(client, person)  # staff only
        return csrf_from(client.get("/my/offers").get_data(as_text=True))

    return do


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
