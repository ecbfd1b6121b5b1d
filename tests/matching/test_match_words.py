"""Pages fit their person (issue 18): match states in words, each reader's wording
and private notes, the facilitator's decline, and a held match listed once."""

from __future__ import annotations

import pytest

from careteams.extensions import db
from careteams.matching import rules
from careteams.matching.models import Match, MatchState, Side
from careteams.matching.rules import Action, IllegalTransition, MatchFacts
from careteams.matching.services.match_summaries import view_match
from careteams.matching.services.matches import ask_to_join
from tests.factories import PASSWORD, ArrangerFactory
from tests.helpers import csrf_from, login
from tests.matching.conftest import NOW, actor, make_worker, post_vacancy
from tests.matching.test_flow import act, to_state

WORDS = {
    MatchState.invited: "invited: waiting for the worker's answer",
    MatchState.asked: "asked to join: waiting for the team's answer",
    MatchState.declined: "declined",
    MatchState.review: "waiting for review",
    MatchState.introduction: "introduction arranged",
    MatchState.trial: "on trial in the team",
    MatchState.active: "joined the team",
    MatchState.withdrawn: "withdrawn",
}


@pytest.mark.parametrize("state", list(MatchState))
def test_each_state_has_its_words(state):
    assert rules.match_state_words(state) == WORDS[state]
    assert rules.match_state_words(state.value) == WORDS[state]
    assert "_" not in rules.match_state_words(state)


def test_an_unknown_state_is_shown_as_it_is():
    assert rules.match_state_words("somewhere") == "somewhere"


def _sign_in(client, person):
    db.session.commit()
    client.get("/logout")
    assert login(client, person.email, PASSWORD).status_code == 302


def _page(client, match) -> str:
    response = client.get(f"/matches/{match.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _reviewed_match(world, name="Wendy Ali"):
    """A match with both sides' private notes, waiting for review."""
    worker = make_worker(world.coop, name, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.invited)
    match.team_note = "TEAM-SECRET kind on the phone"
    act(worker, match, Action.answer_yes, note="WORKER-SECRET near my sister")
    db.session.commit()
    assert match.state == MatchState.review
    return worker, match


def test_states_in_words_on_every_page_and_in_the_api(world, client, auth_headers):
    worker, match = _reviewed_match(world)
    api = client.get(f"/api/v1/matches/{match.id}", headers=auth_headers(worker)).get_json()
    assert api["state"] == "review" and api["state_words"] == "waiting for review"
    _sign_in(client, worker)
    assert "waiting for review" in _page(client, match)
    listing = client.get(f"/coops/{world.coop.slug}/vacancies").get_data(as_text=True)
    assert "waiting for review" in listing and ": review<" not in listing
    _sign_in(client, world.leader)
    vacancy = client.get(f"/vacancies/{match.vacancy_id}").get_data(as_text=True)
    assert "waiting for review" in vacancy and ": review<" not in vacancy
    _sign_in(client, world.facilitator)
    queue = client.get(f"/coops/{world.coop.slug}/matching/queue").get_data(as_text=True)
    assert "waiting for review" in queue


def test_each_reader_sees_the_match_in_their_own_words_and_only_their_own_note(world, client):
    worker, match = _reviewed_match(world)

    _sign_in(client, world.facilitator)
    page = _page(client, match)
    assert "one of the co-op's facilitators" in page
    assert "Your team's private note" not in page and "Your private note" not in page
    assert "TEAM-SECRET" not in page and "WORKER-SECRET" not in page
    view = view_match(actor(world.facilitator), match.id)
    assert view["reader"] == "facilitator" and "team_note" not in view and "worker_note" not in view

    _sign_in(client, world.leader)
    page = _page(client, match)
    assert "You see this match for the team" in page
    assert "Your team's private note:</strong> TEAM-SECRET" in page
    assert "WORKER-SECRET" not in page and "one of the co-op's facilitators" not in page

    _sign_in(client, worker)
    page = _page(client, match)
    assert "You are the worker in this match" in page
    assert "Your private note:</strong> WORKER-SECRET" in page
    assert "TEAM-SECRET" not in page and "Your team's private note" not in page


def test_facilitators_do_not_read_the_team_note_through_the_api_either(world, client, auth_headers):
    _, match = _reviewed_match(world)
    listed = client.get(f"/api/v1/vacancies/{match.vacancy_id}/matches",
                        headers=auth_headers(world.facilitator))
    assert listed.status_code == 200
    assert "TEAM-SECRET" not in listed.get_data(as_text=True)
    one = client.get(f"/api/v1/matches/{match.id}", headers=auth_headers(world.facilitator)).get_json()
    assert "team_note" not in one and "worker_note" not in one
    leader = client.get(f"/api/v1/matches/{match.id}", headers=auth_headers(world.leader)).get_json()
    assert leader["team_note"] == "TEAM-SECRET kind on the phone" and "worker_note" not in leader


def test_decline_is_a_facilitators_review_action_only():
    facts = MatchFacts(state=MatchState.review, started_by=Side.team)
    assert rules.next_state(facts, Action.decline, Side.facilitator) == MatchState.declined
    for side in (Side.team, Side.worker):
        with pytest.raises(IllegalTransition):
            rules.next_state(facts, Action.decline, side)
    for state in (MatchState.invited, MatchState.introduction, MatchState.trial, MatchState.active):
        with pytest.raises(IllegalTransition):
            rules.next_state(MatchFacts(state=state, started_by=Side.team), Action.decline, Side.facilitator)


def test_a_facilitator_declines_a_match_on_the_page(world, client):
    worker, match = _reviewed_match(world)
    _sign_in(client, world.facilitator)
    page = _page(client, match)
    assert "Decline after review" in page
    done = client.post(f"/matches/{match.id}/act", data={"action": "decline", "note": "References did not come",
                                                         "csrf_token": csrf_from(page)})
    assert done.status_code == 303
    db.session.expire_all()
    declined = db.session.get(Match, match.id)
    assert declined.state == MatchState.declined and declined.declined_by == Side.facilitator
    assert declined.reviewed_by_id == world.facilitator.id and declined.closed_at is not None
    page = _page(client, match)
    assert "Where it stands: <span class=\"tag\">declined</span>" in page and "Decline after review" not in page
    # The facilitators' note stays with facilitators.
    _sign_in(client, worker)
    page = _page(client, match)
    assert "declined" in page and "References did not come" not in page


def test_decline_twice_is_a_conflict_not_a_500(world, client, auth_headers):
    _, match = _reviewed_match(world)
    headers = auth_headers(world.facilitator)
    first = client.post(f"/api/v1/matches/{match.id}/actions", json={"action": "decline"}, headers=headers)
    assert first.status_code == 200 and first.get_json()["state_words"] == "declined"
    again = client.post(f"/api/v1/matches/{match.id}/actions", json={"action": "decline"}, headers=headers)
    assert again.status_code == 409


@pytest.mark.parametrize("who, status", [("worker", 403), ("leader", 403), ("other_facilitator", 404),
                                         ("stranger", 404)])
def test_decline_is_refused_for_anyone_but_the_coops_facilitator(world, client, auth_headers, who, status):
    worker, match = _reviewed_match(world)
    person = {"worker": worker, "leader": world.leader, "other_facilitator": world.other_facilitator,
              "stranger": world.outsider}[who]
    response = client.post(f"/api/v1/matches/{match.id}/actions", json={"action": "decline"},
                           headers=auth_headers(person))
    assert response.status_code == status
    assert "error" in response.get_json()
    db.session.expire_all()
    assert db.session.get(Match, match.id).state == MatchState.review


def test_a_worker_posting_decline_on_the_page_is_refused(world, client):
    worker, match = _reviewed_match(world)
    _sign_in(client, worker)
    page = _page(client, match)
    assert "Decline after review" not in page
    refused = client.post(f"/matches/{match.id}/act", data={"action": "decline", "csrf_token": csrf_from(page)})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Match, match.id).state == MatchState.review


def test_the_facilitator_who_answered_for_the_team_cannot_decline(world, client, auth_headers):
    """Separation of duties holds for decline as for approve."""
    ArrangerFactory(team=world.team, person=world.facilitator)
    worker = make_worker(world.coop, "Sam Self", skills=[world.skills["Personal care"]])
    match = ask_to_join(actor(worker), post_vacancy(world).id, now=NOW)
    act(world.facilitator, match, Action.answer_yes)
    db.session.commit()
    assert match.state == MatchState.review
    response = client.post(f"/api/v1/matches/{match.id}/actions", json={"action": "decline"},
                           headers=auth_headers(world.facilitator))
    assert response.status_code == 403
    assert "decline" not in view_match(actor(world.facilitator), match.id)["can"]


def test_a_held_match_is_listed_once(world, client):
    _, match = _reviewed_match(world)
    act(world.facilitator, match, Action.hold, note="Reference to check")
    db.session.commit()
    _sign_in(client, world.facilitator)
    queue = client.get(f"/coops/{world.coop.slug}/matching/queue").get_data(as_text=True)
    assert queue.count(f'href="/matches/{match.id}"') == 1
    assert "(held: Reference to check)" in queue
    _sign_in(client, world.leader)
    vacancy = client.get(f"/vacancies/{match.vacancy_id}").get_data(as_text=True)
    assert vacancy.count(f'href="/matches/{match.id}"') == 1


def test_a_declined_held_match_leaves_the_held_list(world, client):
    _, match = _reviewed_match(world)
    act(world.facilitator, match, Action.hold, note="Reference to check")
    act(world.facilitator, match, Action.decline)
    db.session.commit()
    assert match.held is False
    _sign_in(client, world.facilitator)
    queue = client.get(f"/coops/{world.coop.slug}/matching/queue").get_data(as_text=True)
    assert f'href="/matches/{match.id}"' not in queue
