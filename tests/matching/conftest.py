"""Builders for matching tests: a co-op, a team with its leader, hats, workers with
profiles and checks. Teams have no factories of their own yet on this branch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from careteams.auth.services import create_api_token
from careteams.extensions import db
from careteams.matching.models import (
    AvailabilityWindow,
    CheckKind,
    EmploymentType,
    Skill,
    VacancyStatus,
    WorkerCheck,
    WorkerProfile,
)
from careteams.matching.services import vacancies
from careteams.members.models import MemberClass, StaffRoleName
from careteams.members.services import actor_for
from careteams.teams.models import Hat, HatStatus, HatType, Team
from tests.factories import CooperativeFactory, MembershipFactory, PersonFactory, StaffRoleFactory

# Matching tests are set on NOW, whatever day the suite runs on: the app's clock
# reads NOW (and ticks on from there), so checks and dates below stay in its future.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def matching_clock(time_machine):
    time_machine.move_to(NOW, tick=True)
# Hebden Bridge, roughly.
HOME = (53.742, -2.014)


@dataclass
class World:
    coop: object
    team: object
    leader: object
    builder: object  # wears a Team builder hat (invite_people)
    answerer: object  # wears a hat with answer_matches
    facilitator: object
    outsider: object
    other_facilitator: object  # a facilitator of another co-op
    skills: dict


def make_worker(coop, name="Wendy Ali", *, lat=HOME[0] + 0.01, lon=HOME[1], travel_km=10, skills=(),
                windows=((0, 540, 720), (2, 540, 720)), languages=("English",), interests=(),
                dbs_expires=date(2027, 6, 1), rtw_expires=None, member=True):
    person = PersonFactory(name=name)
    if member:
        MembershipFactory(cooperative=coop, person=person, member_class=MemberClass.worker)
    profile = WorkerProfile(cooperative_id=coop.id, person_id=person.id, employment_type=EmploymentType.independent,
                            hourly_rate_pence=1500, latitude=lat, longitude=lon, travel_km=travel_km,
                            languages=list(languages), interests=list(interests), district="HX7")
    profile.skills = list(skills)
    profile.windows = [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in windows]
    profile.checks = [
        WorkerCheck(kind=CheckKind.enhanced_dbs, checked_on=date(2024, 6, 1), expires_on=dbs_expires),
        WorkerCheck(kind=CheckKind.right_to_work, checked_on=date(2024, 6, 1), expires_on=rtw_expires),
    ]
    db.session.add(profile)
    db.session.flush()
    return person


def wear_hat(team, person, permissions, name=None):
    hat_type = HatType(cooperative_id=team.cooperative_id, name=name or f"Hat {person.id}",
                       permissions=sorted(permissions))
    db.session.add(hat_type)
    db.session.flush()
    db.session.add(Hat(team_id=team.id, person_id=person.id, hat_type_id=hat_type.id, status=HatStatus.accepted,
                       offered_by_id=team.leader_id))
    db.session.flush()


@pytest.fixture
def world(app):
    coop = CooperativeFactory()
    leader = PersonFactory(name="Ann Baker")
    MembershipFactory(cooperative=coop, person=leader, member_class=MemberClass.supported)
    team = Team(cooperative_id=coop.id, leader_id=leader.id, display_name="Ann", latitude=HOME[0], longitude=HOME[1],
                postcode_district="HX7")
    db.session.add(team)
    db.session.flush()
    builder = PersonFactory(name="Dana Baker")
    wear_hat(team, builder, ["invite_people"], "Team builder")
    answerer = PersonFactory(name="Eric Carter")
    wear_hat(team, answerer, ["answer_matches"], "Match answerer")
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    outsider = PersonFactory(name="Olive Outsider")
    MembershipFactory(cooperative=coop, person=outsider, member_class=MemberClass.supported)
    other = StaffRoleFactory(role=StaffRoleName.facilitator).person
    skills = {}
    for name in ("Personal care", "Driving", "Cooking", "Dementia"):
        skill = Skill(cooperative_id=coop.id, name=name)
        db.session.add(skill)
        skills[name] = skill
    db.session.commit()
    return World(coop, team, leader, builder, answerer, facilitator, outsider, other, skills)


def actor(person):
    return actor_for(person)


def vacancy_data(world, **overrides):
    data = {"needs": "Help getting up and breakfast", "what_matters": "Gardening and the radio",
            "required_skill_ids": [world.skills["Personal care"].id], "nice_skill_ids": [world.skills["Cooking"].id],
            "languages": ["English"], "interests": ["gardening"], "windows": [(0, 480, 660), (2, 480, 660)]}
    data.update(overrides)
    return data


def post_vacancy(world, **overrides):
    vacancy = vacancies.post_vacancy(actor(world.leader), world.team.id, vacancy_data(world, **overrides))
    assert vacancy.status == VacancyStatus.open
    return vacancy


@pytest.fixture
def auth_headers(app):
    """Bearer headers whose token survives a refused request (committed to the savepoint)."""
    def make(person) -> dict:
        _, secret = create_api_token(person, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make
