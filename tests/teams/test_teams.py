"""Starting teams, co-op hat types, the team list, the demo and the API description."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import MemberClass, StaffRoleName
from careteams.teams.models import HatType, Team
from careteams.teams.services import circle
from tests.factories import CooperativeFactory, MembershipFactory, PersonFactory, StaffRoleFactory


@pytest.fixture
def coop(app):
    coop = CooperativeFactory()
    db.session.commit()
    return coop


def _member(coop, member_class):
    person = PersonFactory()
    MembershipFactory(cooperative=coop, person=person, member_class=member_class)
    db.session.commit()
    return person


def test_a_supported_member_starts_their_own_team(coop, as_person):
    ann = _member(coop, MemberClass.supported)
    r = as_person(ann).post("/api/v1/teams", json={
        "cooperative": coop.slug, "display_name": " Ann ", "latitude": 53.61, "longitude": -1.91, "postcode_district": "hd7"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["leader_id"] == ann.id and body["display_name"] == "Ann" and body["postcode_district"] == "HD7"
    assert body["min_visit_minutes"] == coop.min_visit_minutes and body["timezone"] == coop.timezone
    listed = as_person(ann).get("/api/v1/teams").get_json()
    assert [(t["team"]["id"], t["access"]["is_leader"]) for t in listed] == [(body["id"], True)]
    assert as_person(ann).post("/api/v1/teams", json={"cooperative": coop.slug, "display_name": "Ann"}).status_code == 409


def test_a_facilitator_starts_a_team_on_someones_behalf(coop, as_person):
    bill = _member(coop, MemberClass.supported)
    fran = PersonFactory()
    StaffRoleFactory(cooperative=coop, person=fran, role=StaffRoleName.facilitator)
    db.session.commit()
    r = as_person(fran).post("/api/v1/teams", json={"cooperative": coop.slug, "display_name": "Bill", "leader_id": bill.id})
    assert r.status_code == 201 and r.get_json()["leader_id"] == bill.id
    team = db.session.get(Team, r.get_json()["id"])
    assert team.created_by_id == fran.id
    assert as_person(bill).get(f"/api/v1/teams/{team.id}").get_json()["access"]["is_leader"] is True


@pytest.mark.parametrize("who", ["worker", "advocate", "stranger", "other_facilitator"])
def test_others_cannot_start_a_team(coop, as_person, who):
    cath = _member(coop, MemberClass.supported)
    if who == "worker":
        actor, expected = _member(coop, MemberClass.worker), 403
    elif who == "advocate":
        actor, expected = _member(coop, MemberClass.advocate), 403
    elif who == "stranger":
        actor, expected = PersonFactory(), 404
    else:
        actor = PersonFactory()
        StaffRoleFactory(cooperative=CooperativeFactory(), person=actor, role=StaffRoleName.facilitator)
        expected = 404
    db.session.commit()
    for body in ({"display_name": "Me"}, {"display_name": "Cath", "leader_id": cath.id}):
        r = as_person(actor).post("/api/v1/teams", json={"cooperative": coop.slug, **body})
        assert r.status_code == expected, (body, r.get_json())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 0


def test_a_facilitator_cannot_make_a_worker_a_team_leader(coop, as_person):
    worker = _member(coop, MemberClass.worker)
    fran = PersonFactory()
    StaffRoleFactory(cooperative=coop, person=fran, role=StaffRoleName.facilitator)
    db.session.commit()
    r = as_person(fran).post("/api/v1/teams", json={"cooperative": coop.slug, "display_name": "W", "leader_id": worker.id})
    assert r.status_code == 403


@pytest.mark.parametrize("body", [
    {"display_name": ""}, {"display_name": "x" * 61}, {"display_name": "A", "latitude": 91},
    {"display_name": "A", "timezone": "Mars/Olympus"}, {"display_name": "A", "postcode_district": "HD7 4AB"},
    {"display_name": "A", "min_visit_minutes": 0},
])
def test_bad_team_input_is_422(coop, as_person, body):
    ann = _member(coop, MemberClass.supported)
    r = as_person(ann).post("/api/v1/teams", json={"cooperative": coop.slug, **body})
    assert r.status_code == 422 and r.get_json()["error"]["details"]["fields"]


def test_default_hat_types_are_seeded_once(coop):
    first = circle.ensure_default_hat_types(coop)
    second = circle.ensure_default_hat_types(coop)
    assert [h.id for h in first] == [h.id for h in second]
    names = db.session.scalars(sa.select(HatType.name).where(HatType.cooperative_id == coop.id)).all()
    assert sorted(names) == ["Hours checker", "Plan keeper", "Rota wrangler", "Team builder"]
    builder = next(h for h in first if h.name == "Team builder")
    assert builder.permissions == ["answer_matches", "end_membership", "invite_people"]


def test_a_coop_admin_defines_another_hat(coop, as_person):
    admin, facilitator = PersonFactory(), PersonFactory()
    StaffRoleFactory(cooperative=coop, person=admin, role=StaffRoleName.admin)
    StaffRoleFactory(cooperative=coop, person=facilitator, role=StaffRoleName.facilitator)
    db.session.commit()
    url = f"/api/v1/cooperatives/{coop.slug}/hat-types"
    body = {"name": "Profile holder", "permissions": ["answer_matches"]}
    assert as_person(facilitator).post(url, json=body).status_code == 403
    assert as_person(PersonFactory()).post(url, json=body).status_code == 404
    assert as_person(admin).post(url, json={"name": "Bad", "permissions": ["fly"]}).status_code == 422
    r = as_person(admin).post(url, json=body)
    assert r.status_code == 201 and r.get_json()["permissions"] == ["answer_matches"]
    assert as_person(admin).post(url, json=body).status_code == 409
    assert "Profile holder" in [h["name"] for h in as_person(facilitator).get(url).get_json()]


def test_private_details_are_for_the_leader_circle_and_active_members(world, as_person):
    url = f"/api/v1/teams/{world.team.id}/private-details"
    assert as_person(world.people["active"]).get(url).get_json()["address"] == "1 Secret Lane"
    assert as_person(world.people["trial"]).get(url).status_code == 403
    assert as_person(world.people["facilitator"]).get(url).status_code == 403
    # Nor does the team itself carry them.
    team = as_person(world.people["facilitator"]).get(f"/api/v1/teams/{world.team.id}").get_json()
    assert "Secret" not in str(team)


def test_openapi_describes_the_teams_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in ("/api/v1/teams", "/api/v1/teams/{team_id}", "/api/v1/teams/{team_id}/plan",
                 "/api/v1/teams/{team_id}/plan/compare", "/api/v1/teams/{team_id}/history",
                 "/api/v1/teams/{team_id}/hats", "/api/v1/cooperatives/{slug}/hat-types"):
        assert path in paths, path
    assert "post" in paths["/api/v1/teams/{team_id}/invitations"]


def test_the_demo_has_teams_with_circles_hats_and_plans(app):
    from careteams.demo import seed
    from careteams.teams.models import (
        Hat,
        HatStatus,
        PlanSuggestion,
        SupportPlanVersion,
        TeamMember,
        TeamMemberStatus,
    )

    seed()
    counts = [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Team, TeamMember, Hat, SupportPlanVersion)]
    seed()  # idempotent
    assert [db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Team, TeamMember, Hat, SupportPlanVersion)] == counts
    teams = {t.leader.email.split("@")[0]: t for t in db.session.scalars(sa.select(Team))}
    assert set(teams) == {"ann", "bill", "cath"}
    for team in teams.values():
        hats = db.session.scalars(sa.select(Hat).where(Hat.team_id == team.id, Hat.status == HatStatus.accepted)).all()
        assert hats, f"{team.display_name} has a circle"
        assert db.session.scalar(sa.select(SupportPlanVersion.id).where(SupportPlanVersion.team_id == team.id))
    active = {(m.team.leader.email.split("@")[0], m.person.email.split("@")[0]) for m in db.session.scalars(
        sa.select(TeamMember).where(TeamMember.status == TeamMemberStatus.active))}
    assert {("ann", "wendy"), ("bill", "will"), ("bill", "xena"), ("cath", "xena")} <= active
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlanSuggestion)) == 1


def test_creating_a_coop_gives_it_the_default_hats(app):
    admin = PersonFactory()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["create-coop", "--name", "Hill Care", "--slug", "hill-care",
                                                "--admin-email", admin.email])
    assert result.exit_code == 0, result.output
    from careteams.members.models import Cooperative

    coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.slug == "hill-care"))
    names = db.session.scalars(sa.select(HatType.name).where(HatType.cooperative_id == coop.id)).all()
    assert sorted(names) == ["Hours checker", "Plan keeper", "Rota wrangler", "Team builder"]
