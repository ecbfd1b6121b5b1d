"""Issue 14: an arranger appointment needs a second person's yes, nobody appoints
themselves, and a proposal grants nothing (private details, matches, rota, hours).

Each matrix names the actors who must be refused as well as those allowed.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import StaffRoleName
from careteams.teams.models import Arranger, AuditEntry
from tests.factories import (
    ArrangerFactory,
    MatchFactory,
    PersonFactory,
    StaffRoleFactory,
    TimesheetEntryFactory,
    VacancyFactory,
)
from tests.teams.conftest import forget_login, snapshot
from tests.teams.test_pages import Browser

# Everyone the brief names: who proposes, who may give the second yes, who must be refused.
MATRIX_ACTORS = ["leader", "circle", "second_facilitator", "facilitator", "admin", "worker",
                 "other_coop_facilitator", "anonymous"]
# The world's keys for the actors it already has.
WORLD_KEY = {"circle": "builder", "worker": "active", "other_coop_facilitator": "other_facilitator"}


@pytest.fixture
def people(world):
    """The matrix's actors by name (anonymous: None), with a second facilitator and an
    admin of the team's co-op added to the world."""
    second = PersonFactory(name="Second Facilitator")
    StaffRoleFactory(cooperative=world.coop, person=second, role=StaffRoleName.facilitator)
    admin = PersonFactory(name="Ada Admin")
    StaffRoleFactory(cooperative=world.coop, person=admin, role=StaffRoleName.admin)
    world.people["second_facilitator"] = second
    world.people["admin"] = admin
    db.session.commit()
    found = {name: world.people.get(WORLD_KEY.get(name, name)) for name in MATRIX_ACTORS}
    found["anonymous"] = None
    return found


@pytest.fixture
def call(client, auth_headers, world, people):
    """call(person_or_None, method, url, json) -> response, as that person (None: nobody logged in).
    Tokens are made up front, outside any `undo()` block that would roll them back."""
    everyone = [p for p in people.values() if p is not None] + [world.people["invitee"], world.people["arranger"]]
    headers: dict[int, dict] = {p.id: auth_headers(p) for p in everyone}
    db.session.commit()

    def make(person, method, url, json=None):
        if person is not None and person.id not in headers:
            headers[person.id] = auth_headers(person)
            db.session.commit()
        forget_login()
        return client.open(url, method=method, json=json, headers=headers.get(person.id) if person else None)

    return make


def _propose(world, call, person=None) -> SimpleNamespace:
    """A proposal made the ordinary way: the world's facilitator, through the API. Only
    its id comes back (reading the row here would open a transaction `undo()` must not join)."""
    r = call(world.people["facilitator"], "POST", _arrangers_url(world), {
        "person_id": (person or world.people["invitee"]).id, "reason": "Ann is in hospital after a fall."})
    assert r.status_code == 201, r.get_json()
    return SimpleNamespace(id=r.get_json()["id"])


def _arrangers_url(world, tail=""):
    return f"/api/v1/teams/{world.team.id}/arrangers{tail}"


def _expect(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.get_json())
    if code is not None:
        assert response.get_json()["error"]["code"] == code


# --- proposing ---------------------------------------------------------------------------

PROPOSE = {"facilitator": 201, "second_facilitator": 201, "leader": 403, "circle": 403, "worker": 403,
           "admin": 404, "other_coop_facilitator": 404, "anonymous": 401}


@pytest.mark.parametrize("actor", MATRIX_ACTORS)
def test_who_may_propose_an_arranger(world, people, call, undo, actor):
    with undo():
        before = snapshot(world.team.id)
        r = call(people[actor], "POST", _arrangers_url(world),
                 {"person_id": world.people["invitee"].id, "reason": "Ann is in hospital after a fall."})
        _expect(r, PROPOSE[actor])
        if r.status_code == 201:
            body = r.get_json()
            assert body["status"] == "proposed" and body["agreed_at"] is None and body["agreed_by_id"] is None
        else:
            assert snapshot(world.team.id) == before


@pytest.mark.parametrize("facilitator", ["facilitator", "second_facilitator"])
def test_nobody_appoints_themselves(world, people, call, facilitator):
    """Found: a facilitator appointed herself arranger of any team in her co-op (201)."""
    me = people[facilitator]
    before = snapshot(world.team.id)
    r = call(me, "POST", _arrangers_url(world), {"person_id": me.id, "reason": "I will sort it out."})
    _expect(r, 403, "self_appointment")
    # Not by email either.
    r = call(me, "POST", _arrangers_url(world), {"email": me.email, "reason": "I will sort it out."})
    _expect(r, 403, "self_appointment")
    assert snapshot(world.team.id) == before


# --- the second yes ------------------------------------------------------------------------

AGREE = {"leader": 200, "second_facilitator": 200, "admin": 200,
         "facilitator": 403, "circle": 403, "worker": 404, "other_coop_facilitator": 404, "anonymous": 401}
DECLINE = {"leader": 200, "second_facilitator": 200, "admin": 200, "facilitator": 200,
           "circle": 403, "worker": 404, "other_coop_facilitator": 404, "anonymous": 401}


@pytest.mark.parametrize("actor", MATRIX_ACTORS)
def test_who_may_agree_to_a_proposal(world, people, call, undo, actor):
    proposal = _propose(world, call)
    with undo():
        r = call(people[actor], "POST", _arrangers_url(world, f"/{proposal.id}/agree"))
        _expect(r, AGREE[actor], "separation_of_duties" if actor == "facilitator" else None)
        db.session.expire_all()
        row = db.session.get(Arranger, proposal.id)
        if AGREE[actor] == 200:
            assert r.get_json()["status"] == "agreed"
            assert (row.status, row.agreed_by_id) == ("agreed", people[actor].id)
        else:
            assert (row.status, row.agreed_by_id, row.agreed_at) == ("proposed", None, None)


@pytest.mark.parametrize("actor", MATRIX_ACTORS)
def test_who_may_decline_a_proposal(world, people, call, undo, actor):
    proposal = _propose(world, call)
    with undo():
        r = call(people[actor], "POST", _arrangers_url(world, f"/{proposal.id}/decline"))
        _expect(r, DECLINE[actor])
        db.session.expire_all()
        row = db.session.get(Arranger, proposal.id)
        if DECLINE[actor] == 200:
            assert (row.status, row.ended_by_id, row.agreed_at) == ("declined", people[actor].id, None)
        else:
            assert row.status == "proposed" and row.ended_at is None


def test_the_person_proposed_cannot_agree_to_their_own_appointment(world, people, call):
    # A facilitator proposed by a colleague: she can see the team, but the second yes is not hers.
    proposal = _propose(world, call, person=people["second_facilitator"])
    r = call(people["second_facilitator"], "POST", _arrangers_url(world, f"/{proposal.id}/agree"))
    _expect(r, 403)
    r = call(people["facilitator"], "POST", _arrangers_url(world, f"/{proposal.id}/agree"))
    _expect(r, 403, "separation_of_duties")
    _expect(call(people["admin"], "POST", _arrangers_url(world, f"/{proposal.id}/agree")), 200)


def test_an_answered_proposal_cannot_be_answered_again(world, people, call):
    proposal = _propose(world, call)
    _expect(call(people["leader"], "POST", _arrangers_url(world, f"/{proposal.id}/decline")), 200)
    _expect(call(people["admin"], "POST", _arrangers_url(world, f"/{proposal.id}/agree")), 409, "not_proposed")
    # A new proposal for the same person is possible once the old one is closed.
    again = _propose(world, call)
    _expect(call(people["admin"], "POST", _arrangers_url(world, f"/{again.id}/agree")), 200)
    _expect(call(people["leader"], "POST", _arrangers_url(world, f"/{again.id}/decline")), 409, "not_proposed")


def test_the_leader_and_circle_see_the_reason_and_the_log_says_who(world, people, call):
    proposal = _propose(world, call)
    for actor in ("leader", "circle"):
        rows = call(people[actor], "GET", _arrangers_url(world)).get_json()
        mine = next(a for a in rows if a["id"] == proposal.id)
        assert mine["reason"] == "Ann is in hospital after a fall." and mine["status"] == "proposed"
    _expect(call(people["admin"], "POST", _arrangers_url(world, f"/{proposal.id}/agree")), 200)
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.team_id == world.team.id)
                                 .order_by(AuditEntry.id.desc())).all()
    assert (entries[0].action, entries[0].actor_id, entries[0].on_behalf) == (
        "arranger.agreed", people["admin"].id, "admin")
    assert entries[1].action == "arranger.proposed" and entries[1].actor_id == people["facilitator"].id


# --- ending ---------------------------------------------------------------------------------

END = {"leader": 200, "facilitator": 200, "second_facilitator": 200, "circle": 403, "worker": 403,
       "admin": 404, "other_coop_facilitator": 404, "anonymous": 401}


@pytest.mark.parametrize("actor", MATRIX_ACTORS)
def test_who_may_end_an_appointment_and_it_records_who(world, people, call, undo, actor):
    with undo():
        r = call(people[actor], "POST", _arrangers_url(world, f"/{world.arranger.id}/end"))
        _expect(r, END[actor])
        db.session.expire_all()
        row = db.session.get(Arranger, world.arranger.id)
        if END[actor] == 200:
            assert (row.status, row.ended_by_id) == ("ended", people[actor].id)
            assert r.get_json()["ended_by_id"] == people[actor].id
        else:
            assert row.status == "agreed" and row.ended_by_id is None


def test_the_arranger_may_step_down_and_a_proposal_is_declined_not_ended(world, people, call):
    arranger = world.people["arranger"]
    r = call(arranger, "POST", _arrangers_url(world, f"/{world.arranger.id}/end"))
    _expect(r, 200)
    assert r.get_json()["ended_by_id"] == arranger.id
    proposal = _propose(world, call)
    _expect(call(people["leader"], "POST", _arrangers_url(world, f"/{proposal.id}/end")), 409, "not_in_force")


# --- a proposal grants nothing; the second yes grants everything ---------------------------


def _powers(world, call, person, match_id) -> dict:
    """What the person can do in the team: read the key-safe code, answer a match, add a
    visit to the rota, see hours to confirm."""
    team = world.team.id
    private = call(person, "GET", f"/api/v1/teams/{team}/private-details")
    answer = call(person, "POST", f"/api/v1/matches/{match_id}/actions", {"action": "answer_yes"})
    shift = call(person, "POST", f"/api/v1/teams/{team}/shifts",
                 {"starts_at": "2027-01-05T09:00:00", "ends_at": "2027-01-05T10:00:00", "kind": "companionship"})
    hours = call(person, "GET", "/api/v1/timesheets/to-confirm")
    return {
        "private": private.status_code == 200 and "Key safe 4321" in private.get_data(as_text=True),
        "answer_match": answer.status_code == 200,
        "edit_rota": shift.status_code == 201,
        "confirm_hours": bool(hours.status_code == 200 and hours.get_json()),
        "codes": (private.status_code, answer.status_code, shift.status_code),
    }


def test_a_proposed_arranger_can_do_nothing_until_a_second_person_agrees(world, people, call, undo):
    match = MatchFactory(vacancy=VacancyFactory(team=world.team), asked=True)
    TimesheetEntryFactory(team=world.team, person=world.people["active"], submitted=True)
    proposed = world.people["invitee"]
    proposal = _propose(world, call)
    with undo():
        powers = _powers(world, call, proposed, match.id)
    assert powers == {"private": False, "answer_match": False, "edit_rota": False, "confirm_hours": False,
                      "codes": (404, 404, 404)}
    _expect(call(people["second_facilitator"], "POST", _arrangers_url(world, f"/{proposal.id}/agree")), 200)
    with undo():
        powers = _powers(world, call, proposed, match.id)
    assert powers == {"private": True, "answer_match": True, "edit_rota": True, "confirm_hours": True,
                      "codes": (200, 200, 201)}


def test_a_facilitator_proposed_as_arranger_still_cannot_read_the_address(world, people, call):
    """The issue's path: a facilitator made arranger reads the key-safe code. Proposed by
    a colleague, she still reads nothing private until a third person agrees."""
    proposal = _propose(world, call, person=people["second_facilitator"])
    r = call(people["second_facilitator"], "GET", f"/api/v1/teams/{world.team.id}/private-details")
    _expect(r, 403)
    _expect(call(people["leader"], "POST", _arrangers_url(world, f"/{proposal.id}/agree")), 200)
    r = call(people["second_facilitator"], "GET", f"/api/v1/teams/{world.team.id}/private-details")
    assert r.status_code == 200 and "Key safe 4321" in r.get_data(as_text=True)


# --- the database holds the rule too ------------------------------------------------------


@pytest.mark.parametrize("bad", ["self_appointed", "agreed_by_self", "agreed_by_proposer", "agreed_by_without_when"])
def test_the_database_refuses_appointments_without_a_second_person(world, people, bad):
    facilitator, invitee = people["facilitator"], world.people["invitee"]
    values = {"team_id": world.team.id, "person_id": invitee.id, "reason": "In hospital.",
              "appointed_by_id": facilitator.id, "appointed_at": utcnow()}
    if bad == "self_appointed":
        values["person_id"] = facilitator.id
    elif bad == "agreed_by_self":
        values.update(agreed_by_id=invitee.id, agreed_at=utcnow())
    elif bad == "agreed_by_proposer":
        values.update(agreed_by_id=facilitator.id, agreed_at=utcnow())
    else:
        values.update(agreed_by_id=people["admin"].id)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(Arranger(**values))
            db.session.flush()


def test_the_factory_makes_agreed_arrangers_and_proposals(world):
    agreed = ArrangerFactory(team=world.team, person=world.people["invitee"])
    assert agreed.status == "agreed" and agreed.agreed_by_id not in (agreed.person_id, agreed.appointed_by_id)
    proposed = ArrangerFactory(team=world.other_team, proposed=True)
    assert proposed.status == "proposed"


# --- the list for the co-op's facilitators and admins, and the pages ----------------------

LIST = {"facilitator": 200, "second_facilitator": 200, "admin": 200, "leader": 403, "circle": 404,
        "worker": 403, "other_coop_facilitator": 404, "anonymous": 401}


@pytest.mark.parametrize("actor", MATRIX_ACTORS)
def test_who_may_list_the_co_ops_proposals(world, people, call, actor):
    proposal = _propose(world, call)
    r = call(people[actor], "GET", f"/api/v1/cooperatives/{world.coop.slug}/arranger-proposals")
    _expect(r, LIST[actor])
    if r.status_code == 200:
        [item] = r.get_json()
        assert item["arranger"]["id"] == proposal.id and item["team_id"] == world.team.id
        assert item["can_agree"] == (actor != "facilitator")
        assert item["arranger"]["reason"] == "Ann is in hospital after a fall."


def test_the_team_page_shows_the_proposal_with_buttons_for_those_allowed(app, world, people, call):
    proposal = _propose(world, call)
    agree = f"/teams/{world.team.id}/arrangers/{proposal.id}/agree"
    decline = f"/teams/{world.team.id}/arrangers/{proposal.id}/decline"
    seen = {}
    for actor in ("leader", "circle", "facilitator", "second_facilitator"):
        html = Browser(app, people[actor]).get(f"/teams/{world.team.id}").text
        assert "Ann is in hospital after a fall." in html and "Arrangers proposed" in html, actor
        seen[actor] = (agree in html, decline in html)
    assert seen == {"leader": (True, True), "circle": (False, False), "facilitator": (False, True),
                    "second_facilitator": (True, True)}
    # The proposer's own button is refused on the server too.
    browser = Browser(app, people["facilitator"])
    r = browser.post(agree, {}, token_from=f"/teams/{world.team.id}")
    assert r.status_code == 403
    r = Browser(app, people["leader"]).post(agree, {}, token_from=f"/teams/{world.team.id}")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Arranger, proposal.id).agreed_by_id == people["leader"].id


def test_the_proposals_page_is_linked_from_home_for_facilitators_and_admins(app, world, people, call):
    proposal = _propose(world, call)
    page = f"/coops/{world.coop.slug}/arrangers"
    for actor in ("second_facilitator", "admin"):
        browser = Browser(app, people[actor])
        assert page in browser.get("/").text, actor
        html = browser.get(page).text
        assert "Ann is in hospital after a fall." in html and "Agree" in html
    assert page not in Browser(app, people["worker"]).get("/").text
    assert Browser(app, people["worker"]).get(page).status_code in (403, 404)
    assert Browser(app, people["leader"]).get(page).status_code in (403, 404)
    admin = Browser(app, people["admin"])
    r = admin.post(f"/teams/{world.team.id}/arrangers/{proposal.id}/agree", {"back": "proposals"}, token_from=page)
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    assert "No proposals are waiting." in admin.get(page).text


def test_the_appointment_form_makes_a_proposal(app, world, people):
    browser = Browser(app, people["facilitator"])
    form = f"/teams/{world.team.id}/arrangers/new"
    r = browser.post(form, {"email": world.people["invitee"].email, "reason": "Ann is in hospital."}, token_from=form)
    assert r.status_code == 302
    row = db.session.scalars(sa.select(Arranger).where(Arranger.person_id == world.people["invitee"].id)).one()
    assert row.status == "proposed"
    r = browser.post(form, {"email": people["facilitator"].email, "reason": "Me."}, token_from=form)
    assert r.status_code == 403


def test_in_force_means_agreed_and_not_ended(world):
    proposed = ArrangerFactory(team=world.other_team, proposed=True, appointed_at=utcnow() - timedelta(days=30))
    ended = ArrangerFactory(team=world.other_team, ended_at=utcnow())
    in_force = db.session.scalars(sa.select(Arranger.id).where(Arranger.in_force())).all()
    assert proposed.id not in in_force and ended.id not in in_force and world.arranger.id in in_force
