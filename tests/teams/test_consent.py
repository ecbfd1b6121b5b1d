"""Nobody joins a team, or wears a hat, without both sides saying yes; either side
can end it; history is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, ValidationError
from careteams.extensions import db
from careteams.members.models import Person
from careteams.teams.models import (
    AuditEntry,
    Hat,
    HatStatus,
    TeamMember,
    TeamMemberStatus,
    TeamRole,
)
from careteams.teams.services import circle, team_members
from careteams.teams.signals import team_member_ended
from tests.teams.conftest import snapshot


def _members(team_id, person_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(TeamMember).where(TeamMember.team_id == team_id,
                                                          TeamMember.person_id == person_id)).all()


# --- direct invitations ---------------------------------------------------------


def test_invitation_needs_the_invitees_yes_before_they_are_in(world, as_person):
    team_url = f"/api/v1/teams/{world.team.id}"
    invitee = as_person(world.people["invitee"])
    r = as_person(world.people["leader"]).post(f"{team_url}/invitations",
                                               json={"person_id": world.people["invitee"].id, "role": "family"})
    assert r.status_code == 201 and r.get_json()["status"] == "invited"
    # Invited is not in: the team is still private from them.
    assert invitee.get(team_url).status_code == 404
    assert invitee.get(f"{team_url}/plan").status_code == 404
    pending = invitee.get("/api/v1/teams/pending").get_json()
    assert [i["team_name"] for i in pending["invitations"]] == ["Ann"]
    r = invitee.post(f"/api/v1/teams/invitations/{pending['invitations'][0]['id']}/accept")
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert invitee.get(team_url).status_code == 200


def test_declined_invitation_leaves_them_out_and_cannot_be_accepted_later(world, as_person):
    member = team_members.invite_to_team(world.actor("leader"), world.team.id,
                                {"person_id": world.people["invitee"].id, "role": TeamRole.neighbour})
    db.session.commit()
    invitee = as_person(world.people["invitee"])
    assert invitee.post(f"/api/v1/teams/invitations/{member.id}/decline").get_json()["status"] == "declined"
    assert invitee.get(f"/api/v1/teams/{world.team.id}").status_code == 404
    assert invitee.post(f"/api/v1/teams/invitations/{member.id}/accept").status_code == 409
    assert [m.status for m in _members(world.team.id, world.people["invitee"].id)] == [TeamMemberStatus.declined]


@pytest.mark.parametrize("who", ["leader", "builder", "facilitator", "stranger", "active"])
def test_nobody_else_can_accept_an_invitation_for_the_invitee(world, as_person, who):
    member = team_members.invite_to_team(world.actor("leader"), world.team.id,
                                {"person_id": world.people["invitee"].id, "role": TeamRole.family})
    db.session.commit()
    before = snapshot(world.team.id)
    r = as_person(world.people[who]).post(f"/api/v1/teams/invitations/{member.id}/accept")
    assert r.status_code == 404
    assert snapshot(world.team.id) == before


def test_paid_workers_are_not_invited_directly(world, as_person):
    before = snapshot(world.team.id)
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/invitations",
                                               json={"person_id": world.people["invitee"].id, "role": "paid_worker"})
    assert r.status_code == 422 and "role" in r.get_json()["error"]["details"]["fields"]
    assert snapshot(world.team.id) == before


def test_inviting_someone_new_creates_an_account_but_not_a_place(world, as_person, mail_outbox):
    r = as_person(world.people["builder"]).post(f"/api/v1/teams/{world.team.id}/invitations",
                                                json={"name": "Nina Neighbour", "email": "Nina@Example.org", "role": "neighbour"})
    assert r.status_code == 201 and r.get_json()["status"] == "invited"
    nina = db.session.scalar(sa.select(Person).where(Person.email == "nina@example.org"))
    assert nina is not None
    assert [m.status for m in _members(world.team.id, nina.id)] == [TeamMemberStatus.invited]
    # One link to set a password, one note that an invitation is waiting: neither names the team.
    assert len(mail_outbox) == 2
    assert all("Ann" not in m.body and "garden" not in m.body for m in mail_outbox)


def test_an_invitation_needs_someone_to_invite(world, as_person):
    # A name is not required: asking for one only when no account has the address
    # would tell the inviter whether it has one (tests/teams/test_privacy.py).
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/invitations",
                                               json={"email": "new@example.org", "role": "neighbour"})
    assert r.status_code == 201
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/invitations", json={"role": "neighbour"})
    assert r.status_code == 422


def test_someone_already_in_the_team_cannot_be_invited_again(world, as_person):
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/invitations",
                                               json={"person_id": world.people["active"].id, "role": "volunteer"})
    assert r.status_code == 409


# --- workers through matching ---------------------------------------------------


@pytest.mark.parametrize("first", ["member", "team"])
def test_trial_becomes_active_only_when_both_sides_confirm(world, as_person, first):
    url = f"/api/v1/teams/{world.team.id}/members/{world.trial_member.id}/confirm"
    sides = {"member": as_person(world.people["trial"]), "team": as_person(world.people["leader"])}
    second = "team" if first == "member" else "member"
    assert sides[first].post(url).get_json()["status"] == "trial"
    assert sides[first].post(url).status_code == 409  # saying it twice is still one side (the match's rule)
    assert sides[second].post(url).get_json()["status"] == "active"
    assert sides[second].post(url).status_code == 409


# --- hats -------------------------------------------------------------------------


def test_a_hat_takes_effect_only_when_accepted(world, as_person):
    offered = as_person(world.people["invitee"])
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/hats", json={
        "person_id": world.people["invitee"].id, "hat_type_id": world.hat_types["Plan keeper"].id})
    hat_id = r.get_json()["id"]
    assert r.get_json()["status"] == "offered"
    assert offered.post(f"/api/v1/teams/{world.team.id}/plan", json={"sections": {"risks": {"text": "x"}}}).status_code == 404
    # Only the person offered can answer.
    assert as_person(world.people["leader"]).post(f"/api/v1/teams/hats/{hat_id}/accept").status_code == 404
    assert offered.post(f"/api/v1/teams/hats/{hat_id}/accept").get_json()["status"] == "accepted"
    r = offered.post(f"/api/v1/teams/{world.team.id}/plan", json={"sections": {"risks": {"text": "Stairs."}}})
    assert r.status_code == 201 and r.get_json()["on_behalf"] == "hat:Plan keeper"


def test_a_declined_or_withdrawn_offer_cannot_be_accepted(world, as_person):
    leader = as_person(world.people["leader"])
    invitee = as_person(world.people["invitee"])
    body = {"person_id": world.people["invitee"].id, "hat_type_id": world.hat_types["Team builder"].id}
    first = leader.post(f"/api/v1/teams/{world.team.id}/hats", json=body).get_json()["id"]
    assert invitee.post(f"/api/v1/teams/hats/{first}/decline").get_json()["status"] == "declined"
    assert invitee.post(f"/api/v1/teams/hats/{first}/accept").status_code == 409
    second = leader.post(f"/api/v1/teams/{world.team.id}/hats", json=body).get_json()["id"]
    assert leader.post(f"/api/v1/teams/{world.team.id}/hats/{second}/withdraw").get_json()["status"] == "withdrawn"
    assert invitee.post(f"/api/v1/teams/hats/{second}/accept").status_code == 409
    assert invitee.get(f"/api/v1/teams/{world.team.id}").status_code == 404


def test_an_offer_past_its_end_date_cannot_be_accepted(world):
    hat = circle.offer_hat(world.actor("leader"), world.team.id, {
        "person_id": world.people["invitee"].id, "hat_type_id": world.hat_types["Team builder"].id,
        "expires_at": utcnow() + timedelta(hours=1)})
    with pytest.raises(Conflict):
        circle.answer_hat(world.actor("invitee"), hat.id, True, now=utcnow() + timedelta(hours=2))


def test_an_end_date_in_the_past_is_refused(world, as_person):
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/hats", json={
        "person_id": world.people["invitee"].id, "hat_type_id": world.hat_types["Team builder"].id,
        "expires_at": (utcnow() - timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and "expires_at" in r.get_json()["error"]["details"]["fields"]


def test_the_wearer_can_hand_a_hat_back(world, as_person):
    hat = db.session.scalar(sa.select(Hat).where(Hat.person_id == world.people["rota"].id))
    rota = as_person(world.people["rota"])
    assert rota.post(f"/api/v1/teams/{world.team.id}/hats/{hat.id}/withdraw").get_json()["status"] == "withdrawn"
    assert rota.get(f"/api/v1/teams/{world.team.id}").status_code == 404
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "hat.handed_back" and entry.on_behalf == "self"


def test_hat_from_another_coop_is_refused(world, as_person):
    from careteams.teams.models import HatType

    foreign = db.session.scalar(sa.select(HatType).where(HatType.cooperative_id == world.other_coop.id))
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/hats", json={
        "person_id": world.people["invitee"].id, "hat_type_id": foreign.id})
    assert r.status_code == 422


def test_expiry_job_closes_each_hat_once(world):
    from careteams.teams.jobs import expire_hats

    now = utcnow()
    assert expire_hats(now) == 1  # the "expired" person's Team builder hat
    assert expire_hats(now) == 0
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "hat.expired")).all()
    assert len(entries) == 1 and entries[0].actor_id is None and entries[0].on_behalf == "system"


# --- arrangers --------------------------------------------------------------------


def test_an_arranger_needs_a_recorded_reason_visible_to_the_leader(world, as_person):
    facilitator = as_person(world.people["facilitator"])
    url = f"/api/v1/teams/{world.team.id}/arrangers"
    before = snapshot(world.team.id)
    r = facilitator.post(url, json={"person_id": world.people["invitee"].id, "reason": "   "})
    assert r.status_code == 422
    assert snapshot(world.team.id) == before
    r = facilitator.post(url, json={"person_id": world.people["invitee"].id, "reason": "In hospital after a fall."})
    assert r.status_code == 201
    seen = as_person(world.people["leader"]).get(url).get_json()
    assert "In hospital after a fall." in [a["reason"] for a in seen]
    # A proposal grants nothing until a second person (here the leader) agrees (issue 14).
    assert as_person(world.people["invitee"]).get(f"/api/v1/teams/{world.team.id}").status_code == 404
    proposal = r.get_json()["id"]
    assert as_person(world.people["leader"]).post(f"{url}/{proposal}/agree").status_code == 200
    # An arranger holds every permission.
    r = as_person(world.people["invitee"]).post(f"/api/v1/teams/{world.team.id}/invitations",
                                                json={"person_id": world.people["stranger"].id, "role": "volunteer"})
    assert r.status_code == 201
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.on_behalf == "arranger"


# --- ending consent ---------------------------------------------------------------


def test_either_side_can_end_and_history_is_kept(world, as_person):
    received = []

    def receiver(member, **extra):
        # Inside the same transaction: the change is visible, not yet committed.
        received.append((member.id, member.status, db.session().in_transaction()))

    team_member_ended.connect(receiver)
    try:
        leader = as_person(world.people["leader"])
        r = leader.post(f"/api/v1/teams/{world.team.id}/members/{world.family_member.id}/end", json={"note": "Moved away."})
        assert r.status_code == 200 and r.get_json()["status"] == "left"
        assert "note" not in r.get_json() and "end_note" not in r.get_json()
        r = as_person(world.people["active"]).post(f"/api/v1/teams/{world.team.id}/leave", json={})
        assert r.status_code == 200 and r.get_json()["status"] == "left"
    finally:
        team_member_ended.disconnect(receiver)
    assert [(s, t) for _i, s, t in received] == [(TeamMemberStatus.left, True)] * 2
    assert received[0][0] == world.family_member.id
    # The rows are still there, with dates and who ended them.
    history = as_person(world.people["leader"]).get(f"/api/v1/teams/{world.team.id}/members").get_json()
    ended = {m["person_id"]: m for m in history if m["status"] == "left"}
    assert set(ended) == {world.people["family"].id, world.people["active"].id}
    assert all(m["ended_on"] for m in ended.values())
    assert as_person(world.people["active"]).get(f"/api/v1/teams/{world.team.id}").status_code == 404
    # Ending twice is a conflict, not a second ending.
    assert as_person(world.people["leader"]).post(
        f"/api/v1/teams/{world.team.id}/members/{world.family_member.id}/end", json={}).status_code == 409


def test_a_receivers_failure_undoes_the_ending(world, as_person):
    def receiver(member, **extra):
        raise RuntimeError("the rota could not release the shifts")

    team_member_ended.connect(receiver)
    try:
        r = as_person(world.people["leader"]).post(
            f"/api/v1/teams/{world.team.id}/members/{world.family_member.id}/end", json={})
    finally:
        team_member_ended.disconnect(receiver)
    assert r.status_code == 500
    assert [m.status for m in _members(world.team.id, world.people["family"].id)] == [TeamMemberStatus.active]


def test_withdrawing_an_invitation_does_not_signal_an_ended_membership(world):
    received = []
    member = team_members.invite_to_team(world.actor("leader"), world.team.id,
                                {"person_id": world.people["invitee"].id, "role": TeamRole.family})
    team_member_ended.connect(received.append)
    try:
        team_members.end_membership(world.actor("leader"), world.team.id, member.id)
    finally:
        team_member_ended.disconnect(received.append)
    assert received == []


def test_someone_who_left_can_be_invited_back_and_both_places_are_kept(world):
    team_members.end_membership(world.actor("leader"), world.team.id, world.family_member.id)
    again = team_members.invite_to_team(world.actor("leader"), world.team.id,
                               {"person_id": world.people["family"].id, "role": TeamRole.family})
    team_members.answer_invitation(world.actor("family"), again.id, True)
    statuses = sorted(m.status.value for m in _members(world.team.id, world.people["family"].id))
    assert statuses == ["active", "left"]


def test_leaving_a_team_you_are_not_in(world, as_person):
    assert as_person(world.people["builder"]).post(f"/api/v1/teams/{world.team.id}/leave", json={}).status_code == 403


def test_invalid_answer_is_not_found(world, as_person):
    assert as_person(world.people["invitee"]).post("/api/v1/teams/invitations/1/maybe").status_code == 404


def test_status_values_are_the_issues(world):
    assert [s.value for s in HatStatus] == ["offered", "accepted", "declined", "withdrawn"]
    with pytest.raises(ValidationError):
        team_members.invite_to_team(world.actor("leader"), world.team.id,
                           {"person_id": world.people["leader"].id, "role": TeamRole.family})
