"""A team with every kind of person the permission matrix needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import MemberClass, Person, StaffRoleName
from careteams.members.services import actor_for
from careteams.teams.models import (
    Arranger,
    AuditEntry,
    Hat,
    HatStatus,
    PlanSuggestion,
    SupportPlanVersion,
    Team,
    TeamMember,
    TeamMemberStatus,
    TeamPrivateDetails,
    TeamRole,
)
from careteams.teams.services import circle, plans, teams
from tests.factories import (
    ArrangerFactory,
    CooperativeFactory,
    HatFactory,
    MatchFactory,
    MatchShiftFactory,
    MembershipFactory,
    PersonFactory,
    StaffRoleFactory,
    TeamFactory,
    TeamMemberFactory,
    VacancyFactory,
)

# Everyone the "done when" names, by key.
ACTORS = [
    "leader", "builder", "rota", "plankeeper", "arranger",
    "expired", "declined", "withdrawn", "offered",
    "active", "trial", "other_team_worker",
    "facilitator", "other_facilitator", "stranger",
]


@dataclass
class World:
    coop: object
    other_coop: object
    team: Team
    other_team: Team
    people: dict[str, Person] = field(default_factory=dict)
    hat_types: dict[str, object] = field(default_factory=dict)
    # Things actions act on.
    family_member: TeamMember | None = None
    trial_member: TeamMember | None = None
    trial_match: object = None
    helper_hat: Hat | None = None
    arranger: Arranger | None = None
    suggestion: PlanSuggestion | None = None

    def actor(self, key: str):
        return actor_for(self.people[key])


@pytest.fixture
def world(app) -> World:
    coop = CooperativeFactory()
    other_coop = CooperativeFactory()
    hat_types = {h.name: h for h in circle.ensure_default_hat_types(coop)}
    circle.ensure_default_hat_types(other_coop)
    leader = PersonFactory(name="Ann Leader")
    team = TeamFactory(cooperative=coop, leader=leader, display_name="Ann")
    other_team = TeamFactory(cooperative=coop, display_name="Bill")
    w = World(coop=coop, other_coop=other_coop, team=team, other_team=other_team, hat_types=hat_types)
    w.people["leader"] = leader
    for key in ACTORS[1:]:
        w.people[key] = PersonFactory(name=f"{key.replace('_', ' ').title()} Person")
    past = utcnow() - timedelta(days=3)
    HatFactory(team=team, person=w.people["builder"], hat_type=hat_types["Team builder"])
    HatFactory(team=team, person=w.people["rota"], hat_type=hat_types["Rota wrangler"])
    HatFactory(team=team, person=w.people["plankeeper"], hat_type=hat_types["Plan keeper"])
    HatFactory(team=team, person=w.people["expired"], hat_type=hat_types["Team builder"], expired=True)
    HatFactory(team=team, person=w.people["declined"], hat_type=hat_types["Team builder"], declined=True)
    HatFactory(team=team, person=w.people["withdrawn"], hat_type=hat_types["Team builder"], withdrawn=True)
    HatFactory(team=team, person=w.people["offered"], hat_type=hat_types["Team builder"], offered=True)
    w.arranger = ArrangerFactory(team=team, person=w.people["arranger"], appointed_at=past)
    TeamMemberFactory(team=team, person=w.people["active"])
    # A trial place comes only through matching: the trial worker's match, with one trial shift.
    w.trial_match = MatchFactory(vacancy=VacancyFactory(team=team), worker=w.people["trial"], trial=True,
                                 worker_profile=False)
    MatchShiftFactory(match=w.trial_match)
    w.trial_member = db.session.get(TeamMember, w.trial_match.team_member_id)
    TeamMemberFactory(team=other_team, person=w.people["other_team_worker"])
    for key in ("active", "trial", "other_team_worker"):
        MembershipFactory(cooperative=coop, person=w.people[key], member_class=MemberClass.worker)
    StaffRoleFactory(cooperative=coop, person=w.people["facilitator"], role=StaffRoleName.facilitator)
    StaffRoleFactory(cooperative=other_coop, person=w.people["other_facilitator"], role=StaffRoleName.facilitator)
    # Targets for actions, worn or held by people outside the matrix.
    w.people["family"] = PersonFactory(name="Fay Family")
    w.family_member = TeamMemberFactory(team=team, person=w.people["family"], family=True)
    w.people["helper"] = PersonFactory(name="Hal Helper")
    w.helper_hat = HatFactory(team=team, person=w.people["helper"], hat_type=hat_types["Hours checker"])
    w.people["invitee"] = PersonFactory(name="Ivy Invitee")
    plans.save_plan(w.actor("leader"), team.id, {
        "what_matters": {"text": "My garden.", "shared_with_trial": True},
        "personal_care": {"text": "Shower on Mondays."},
    })
    plans.save_plan(w.actor("leader"), team.id, {"routines": {"text": "Up at eight."}})
    w.suggestion = plans.suggest_plan_change(w.actor("facilitator"), team.id, {
        "sections": {"risks": {"text": "Stairs at night.", "shared_with_trial": False}}, "note": ""})
    teams.update_private_details(w.actor("leader"), team.id, {"address": "1 Secret Lane", "access_notes": "Key safe 4321"})
    # Commit (into the test's outer transaction) as a real request would find it:
    # a refused request rolls its own session back.
    db.session.commit()
    return w


def snapshot(team_id: int) -> dict:
    """Everything about a team that an action could change."""
    def rows(stmt):
        return sorted(tuple(r) for r in db.session.execute(stmt).all())

    db.session.expire_all()
    return {
        "team": rows(sa.select(Team.display_name, Team.postcode_district, Team.latitude, Team.min_visit_minutes)
                     .where(Team.id == team_id)),
        "members": rows(sa.select(TeamMember.id, TeamMember.person_id, TeamMember.status, TeamMember.team_confirmed_at,
                                  TeamMember.member_confirmed_at).where(TeamMember.team_id == team_id)),
        "hats": rows(sa.select(Hat.id, Hat.person_id, Hat.status, Hat.ended_at).where(Hat.team_id == team_id)),
        "arrangers": rows(sa.select(Arranger.id, Arranger.person_id, Arranger.ended_at).where(Arranger.team_id == team_id)),
        "plan": rows(sa.select(SupportPlanVersion.number).where(SupportPlanVersion.team_id == team_id)),
        "suggestions": rows(sa.select(PlanSuggestion.id, PlanSuggestion.status).where(PlanSuggestion.team_id == team_id)),
        "private": rows(sa.select(TeamPrivateDetails.address, TeamPrivateDetails.access_notes)
                        .where(TeamPrivateDetails.team_id == team_id)),
        "audit": rows(sa.select(AuditEntry.id).where(AuditEntry.team_id == team_id)),
        "people": rows(sa.select(Person.id)),
    }


__all__ = ["ACTORS", "World", "snapshot", "HatStatus", "TeamMemberStatus", "TeamRole"]


def forget_login() -> None:
    """The test client reuses the test's app context, so `g` would keep the
    previous request's person; clear it so each request authenticates afresh."""
    from flask import g

    for name in ("actor", "_login_user", "via_token", "csrf_token"):
        g.pop(name, None)


@pytest.fixture
def as_person(client, auth_headers):
    """as_person(person).get(url) etc.: API calls with that person's bearer token."""

    class Caller:
        def __init__(self, person):
            self.headers = auth_headers(person)
            db.session.commit()

        def open(self, method, url, json=None):
            forget_login()
            return client.open(url, method=method, json=json, headers=self.headers)

        def get(self, url):
            return self.open("GET", url)

        def post(self, url, json=None):
            return self.open("POST", url, json)

        def put(self, url, json=None):
            return self.open("PUT", url, json)

        def patch(self, url, json=None):
            return self.open("PATCH", url, json)

    return Caller


@pytest.fixture
def undo(app):
    """`with undo():` runs a block and then rolls the database back to before it."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        connection = db.engines[None] if None in db.engines else db.engine
        savepoint = connection.begin_nested()
        try:
            yield
        finally:
            db.session.rollback()
            savepoint.rollback()
            db.session.expire_all()

    return block
