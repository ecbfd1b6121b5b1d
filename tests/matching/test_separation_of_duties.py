"""Issue 14: whoever answered a match for the team can never also review it.

Found: a facilitator appointed herself arranger, answered a match for the team and
approved her own review. Now the team's answer records who gave it
(`match.team_answered_by_id`) and `matching.permissions.can_review_match` refuses
that person (403 `separation_of_duties`) in the API and on the pages.
"""

from __future__ import annotations

import pytest

from careteams.extensions import db
from careteams.matching.models import Match, MatchState
from careteams.matching.rules import Action
from careteams.matching.services.facilitator import facilitator_queue
from careteams.matching.services.matches import act_on_match, ask_to_join, invite_worker
from careteams.members.models import StaffRoleName
from tests.factories import ArrangerFactory, StaffRoleFactory
from tests.matching.conftest import NOW, actor, make_worker, post_vacancy
from tests.matching.test_pages import login, token_of


def act(person, match, action, **kw):
    return act_on_match(actor(person), match.id, action, now=NOW, **kw)


@pytest.fixture
def duo(world):
    """Two facilitators of the co-op; the first is the team's arranger (agreed by a third)."""
    answering = world.facilitator
    ArrangerFactory(team=world.team, person=answering)
    reviewer = StaffRoleFactory(cooperative=world.coop, role=StaffRoleName.facilitator).person
    db.session.commit()
    return answering, reviewer


def _asked_and_answered_by(world, person) -> Match:
    """A worker asks to join; `person` answers yes for the team: the match waits for review."""
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    match = ask_to_join(actor(worker), post_vacancy(world).id, now=NOW)
    act(person, match, Action.answer_yes)
    db.session.commit()
    assert match.state == MatchState.review
    return match


def _invited_by(world, person) -> Match:
    """`person` invites a worker for the team (the team's yes); the worker says yes."""
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    match = invite_worker(actor(person), post_vacancy(world).id, worker.id, now=NOW)
    act(worker, match, Action.answer_yes)
    db.session.commit()
    assert match.state == MatchState.review
    return match


@pytest.mark.parametrize("how", [_asked_and_answered_by, _invited_by])
def test_the_team_side_answer_records_who_gave_it(world, duo, how):
    answering, _ = duo
    match = how(world, answering)
    assert match.team_answered_by_id == answering.id


def test_a_team_no_records_who_said_it_too(world):
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    match = ask_to_join(actor(worker), post_vacancy(world).id, now=NOW)
    act(world.answerer, match, Action.answer_no)
    assert match.team_answered_by_id == world.answerer.id


# Who may review (approve, hold, release) a match that `answering` answered for the team.
REVIEW = {"answering": (403, "separation_of_duties"), "reviewer": (200, None), "leader": (403, "forbidden"),
          "worker": (403, "forbidden"), "other_facilitator": (404, "not_found"), "anonymous": (401, None)}


@pytest.mark.parametrize("how", [_asked_and_answered_by, _invited_by])
@pytest.mark.parametrize("who", list(REVIEW))
def test_who_may_approve_a_match_in_the_api(world, duo, client, auth_headers, how, who):
    answering, reviewer = duo
    match = how(world, answering)
    person = {"answering": answering, "reviewer": reviewer, "leader": world.leader, "worker": match.worker,
              "other_facilitator": world.other_facilitator, "anonymous": None}[who]
    headers = auth_headers(person) if person else None
    r = client.post(f"/api/v1/matches/{match.id}/actions", json={"action": "approve"}, headers=headers)
    status, code = REVIEW[who]
    assert r.status_code == status, r.get_json()
    if code:
        assert r.get_json()["error"]["code"] == code
    db.session.expire_all()
    after = db.session.get(Match, match.id)
    if status == 200:
        assert (after.state, after.reviewed_by_id) == (MatchState.introduction, reviewer.id)
    else:
        assert (after.state, after.reviewed_by_id) == (MatchState.review, None)


@pytest.mark.parametrize("action", ["hold", "release"])
def test_the_one_who_answered_cannot_hold_or_release_either(world, duo, client, auth_headers, action):
    answering, reviewer = duo
    match = _asked_and_answered_by(world, answering)
    if action == "release":
        act(reviewer, match, Action.hold, note="Checking references.")
        db.session.commit()
    r = client.post(f"/api/v1/matches/{match.id}/actions", json={"action": action, "note": "Mine."},
                    headers=auth_headers(answering))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "separation_of_duties"
    db.session.expire_all()
    assert db.session.get(Match, match.id).held == (action == "release")


def test_a_facilitator_cannot_review_her_own_match_as_worker(world, duo, client, auth_headers):
    _, reviewer = duo
    worker = make_worker(world.coop, "Fern Facilitator", skills=[world.skills["Personal care"]])
    StaffRoleFactory(cooperative=world.coop, person=worker, role=StaffRoleName.facilitator)
    match = ask_to_join(actor(worker), post_vacancy(world).id, now=NOW)
    act(world.leader, match, Action.answer_yes)
    db.session.commit()
    r = client.post(f"/api/v1/matches/{match.id}/actions", json={"action": "approve"}, headers=auth_headers(worker))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "separation_of_duties"


def test_the_view_and_the_queue_offer_the_review_only_to_another_facilitator(world, duo, client, auth_headers):
    answering, reviewer = duo
    match = _asked_and_answered_by(world, answering)
    mine = client.get(f"/api/v1/matches/{match.id}", headers=auth_headers(answering)).get_json()
    theirs = client.get(f"/api/v1/matches/{match.id}", headers=auth_headers(reviewer)).get_json()
    assert "approve" not in mine["can"] and mine.get("reviewed_by_another") is True
    assert "approve" in theirs["can"] and "reviewed_by_another" not in theirs
    queue = facilitator_queue(actor(answering), world.coop, now=NOW)
    assert [m["id"] for m in queue["in_review"]] == [match.id]
    assert "approve" not in queue["in_review"][0]["can"]
    assert "approve" in facilitator_queue(actor(reviewer), world.coop, now=NOW)["in_review"][0]["can"]


def test_the_match_page_refuses_the_one_who_answered(world, duo, client):
    answering, reviewer = duo
    match = _asked_and_answered_by(world, answering)
    login(client, answering)
    page = client.get(f"/matches/{match.id}")
    assert page.status_code == 200
    assert b"Approve after review" not in page.data and b"another facilitator reviews it" in page.data
    r = client.post(f"/matches/{match.id}/act",
                    data={"action": "approve", "csrf_token": token_of(client, f"/matches/{match.id}")})
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Match, match.id).state == MatchState.review
    client.post("/logout", data={"csrf_token": token_of(client, f"/matches/{match.id}")})
    login(client, reviewer)
    assert b"Approve after review" in client.get(f"/matches/{match.id}").data
    r = client.post(f"/matches/{match.id}/act",
                    data={"action": "approve", "csrf_token": token_of(client, f"/matches/{match.id}")})
    assert r.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Match, match.id).state == MatchState.introduction
