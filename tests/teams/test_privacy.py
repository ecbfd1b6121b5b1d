"""Issue 14, "Nothing about people who have not said yes": inviting someone into a
team (as a member, a hat or an arranger) tells the inviter nothing about the
person or whether they have an account, and names them only once they accept;
a person id from another co-op answers exactly like an id that does not exist,
on every endpoint that takes a person id.
"""

from __future__ import annotations

import pytest

from careteams.extensions import db
from careteams.members.enums import StaffRoleName
from tests.factories import MembershipFactory, PersonFactory, StaffRoleFactory
from tests.teams.conftest import ACTORS

NO_SUCH_ID = 2_000_000_000

# What may legitimately differ between two answers: the row's own id and time.
VOLATILE = {"id", "invited_at", "offered_at"}


def _masked(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in VOLATILE}


@pytest.fixture
def outsider(world):
    """Someone who belongs to another co-op only (its register)."""
    person = PersonFactory(name="Olive Outsider")
    MembershipFactory(cooperative=world.other_coop, person=person)
    db.session.commit()
    return person


# --- one answer whether or not an account exists -------------------------------------


def test_an_invitation_by_email_answers_the_same_whether_or_not_an_account_exists(world, as_person, outsider):
    leader = as_person(world.people["leader"])
    url = f"/api/v1/teams/{world.team.id}/invitations"
    known = leader.post(url, {"email": outsider.email, "name": "Someone", "role": "neighbour"})
    unknown = leader.post(url, {"email": "no-account-yet@example.org", "name": "Someone", "role": "neighbour"})
    assert known.status_code == unknown.status_code == 201
    assert _masked(known.get_json()) == _masked(unknown.get_json())
    assert "Olive" not in known.text and known.get_json()["person_name"] is None


def test_an_invitation_without_a_name_is_not_refused_only_when_no_account_exists(world, as_person, outsider):
    leader = as_person(world.people["leader"])
    url = f"/api/v1/teams/{world.team.id}/invitations"
    known = leader.post(url, {"email": outsider.email, "role": "neighbour"})
    unknown = leader.post(url, {"email": "nobody-yet@example.org", "role": "neighbour"})
    assert known.status_code == unknown.status_code == 201
    assert _masked(known.get_json()) == _masked(unknown.get_json())


def test_an_email_and_a_phone_of_two_different_people_do_not_answer_409(world, as_person, outsider):
    """The email decides; the answer does not reveal that the phone is someone else's."""
    leader = as_person(world.people["leader"])
    world.people["stranger"].phone = "+447700900555"
    db.session.commit()
    r = leader.post(f"/api/v1/teams/{world.team.id}/invitations",
                    {"email": outsider.email, "phone": "07700 900 555", "role": "neighbour"})
    assert r.status_code == 201, r.text
    assert "two different people" not in r.text and r.get_json()["person_name"] is None
    # The invitation went to the email's owner.
    pending = as_person(outsider).get("/api/v1/teams/pending").get_json()
    assert [i["id"] for i in pending["invitations"]] == [r.get_json()["id"]]


def test_a_hat_offer_by_email_answers_the_same_whether_or_not_an_account_exists(world, as_person, outsider):
    leader = as_person(world.people["leader"])
    url = f"/api/v1/teams/{world.team.id}/hats"
    hat_type = world.hat_types["Plan keeper"].id
    known = leader.post(url, {"email": outsider.email, "name": "Someone", "hat_type_id": hat_type})
    unknown = leader.post(url, {"email": "no-account-yet@example.org", "name": "Someone", "hat_type_id": hat_type})
    assert known.status_code == unknown.status_code == 201
    assert _masked(known.get_json()) == _masked(unknown.get_json())
    assert known.get_json()["person_name"] is None


# --- named only after they accept ----------------------------------------------------


def _names(caller, team_id: int) -> set:
    members = caller.get(f"/api/v1/teams/{team_id}/members")
    hats = caller.get(f"/api/v1/teams/{team_id}/hats")
    history = caller.get(f"/api/v1/teams/{team_id}/history")
    return {r.status_code for r in (members, hats, history)}, members.text + hats.text + history.text


def test_the_invitee_is_named_only_after_they_accept(world, as_person):
    invitee = world.people["invitee"]
    leader = as_person(world.people["leader"])
    member = leader.post(f"/api/v1/teams/{world.team.id}/invitations",
                         {"person_id": invitee.id, "role": "neighbour"}).get_json()
    assert member["person_name"] is None and member["person_id"] is None
    assert invitee.name not in _names(leader, world.team.id)[1]
    assert as_person(invitee).post(f"/api/v1/teams/invitations/{member['id']}/accept").status_code == 200
    assert invitee.name in leader.get(f"/api/v1/teams/{world.team.id}/members").text


def test_a_declined_invitation_never_names_the_person(world, as_person):
    invitee = world.people["invitee"]
    leader = as_person(world.people["leader"])
    member = leader.post(f"/api/v1/teams/{world.team.id}/invitations",
                         {"person_id": invitee.id, "role": "neighbour"}).get_json()
    assert as_person(invitee).post(f"/api/v1/teams/invitations/{member['id']}/decline").status_code == 200
    assert invitee.name not in _names(leader, world.team.id)[1]


def test_a_hat_wearer_is_named_only_after_they_accept(world, as_person):
    invitee = world.people["invitee"]
    leader = as_person(world.people["leader"])
    hat = leader.post(f"/api/v1/teams/{world.team.id}/hats",
                      {"person_id": invitee.id, "hat_type_id": world.hat_types["Plan keeper"].id}).get_json()
    assert hat["person_name"] is None and hat["person_id"] is None
    assert invitee.name not in _names(leader, world.team.id)[1]
    assert as_person(invitee).post(f"/api/v1/teams/hats/{hat['id']}/accept").status_code == 200
    assert invitee.name in leader.get(f"/api/v1/teams/{world.team.id}/hats").text


@pytest.mark.parametrize("key", ACTORS)
def test_matrix_nobody_learns_a_pending_invitees_name(world, as_person, key):
    """Permission matrix: every actor, allowed to see the team or not, reads members,
    hats and history while an invitation and a hat offer are pending: no name."""
    invitee = world.people["invitee"]
    leader = as_person(world.people["leader"])
    assert leader.post(f"/api/v1/teams/{world.team.id}/invitations",
                       {"person_id": invitee.id, "role": "neighbour"}).status_code == 201
    assert leader.post(f"/api/v1/teams/{world.team.id}/hats",
                       {"person_id": invitee.id, "hat_type_id": world.hat_types["Hours checker"].id}).status_code == 201
    statuses, text = _names(as_person(world.people[key]), world.team.id)
    assert invitee.name not in text
    assert statuses <= {200, 403, 404}


def test_the_team_page_does_not_name_a_pending_invitee(world, as_person, client, auth_headers):
    invitee = world.people["invitee"]
    leader = as_person(world.people["leader"])
    leader.post(f"/api/v1/teams/{world.team.id}/invitations", {"person_id": invitee.id, "role": "neighbour"})
    leader.post(f"/api/v1/teams/{world.team.id}/hats",
                {"person_id": invitee.id, "hat_type_id": world.hat_types["Hours checker"].id})
    page = client.get(f"/teams/{world.team.id}", headers=auth_headers(world.people["leader"]))
    assert page.status_code == 200 and invitee.name not in page.text


# --- ids from outside the co-op are ids that do not exist ----------------------------


def _admin(world, role=StaffRoleName.admin):
    person = PersonFactory()
    StaffRoleFactory(cooperative=world.coop, person=person, role=role)
    db.session.commit()
    return person


# name: (who calls, method, url(w), body(w, person_id))
PERSON_ID_ENDPOINTS = {
    "team invitation": ("leader", "POST", lambda w: f"/api/v1/teams/{w.team.id}/invitations",
                        lambda w, pid: {"person_id": pid, "role": "neighbour"}),
    "hat offer": ("leader", "POST", lambda w: f"/api/v1/teams/{w.team.id}/hats",
                  lambda w, pid: {"person_id": pid, "hat_type_id": w.hat_types["Plan keeper"].id}),
    "arranger appointment": ("facilitator", "POST", lambda w: f"/api/v1/teams/{w.team.id}/arrangers",
                             lambda w, pid: {"person_id": pid, "reason": "In hospital."}),
    "staff role": ("admin", "POST", lambda w: f"/api/v1/cooperatives/{w.coop.slug}/staff",
                   lambda w, pid: {"person_id": pid, "role": "facilitator"}),
    "register": ("secretary", "POST", lambda w: f"/api/v1/cooperatives/{w.coop.slug}/memberships",
                 lambda w, pid: {"person_id": pid, "member_class": "worker"}),
    "worker checks": ("facilitator", "POST",
                      lambda w: f"/api/v1/cooperatives/{w.coop.slug}/workers/{{pid}}/checks",
                      lambda w, pid: {"kind": "training", "name": "First aid", "checked_on": "2026-01-01"}),
}


@pytest.mark.parametrize("endpoint", list(PERSON_ID_ENDPOINTS))
def test_an_id_from_another_coop_answers_like_an_id_that_does_not_exist(world, as_person, outsider, endpoint):
    who, method, url, body = PERSON_ID_ENDPOINTS[endpoint]
    caller_person = {"admin": lambda: _admin(world),
                     "secretary": lambda: _admin(world, StaffRoleName.secretary)}.get(who, lambda: world.people[who])()
    caller = as_person(caller_person)
    answers = []
    for pid in (outsider.id, NO_SUCH_ID):
        r = caller.open(method, url(world).replace("{pid}", str(pid)), body(world, pid))
        answers.append((r.status_code, r.get_json()))
    assert answers[0] == answers[1], answers
    assert answers[0][0] in (404, 422)
    assert "Olive" not in str(answers[0][1])
