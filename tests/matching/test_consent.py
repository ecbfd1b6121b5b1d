"""One path, one state machine into a paid place: a trial place is confirmed only as
its match is (after a trial shift, by both sides), whichever page or API is used; and a
worker who already has a place in a team cannot be invited to, or ask for, its vacancy."""

from __future__ import annotations

from datetime import date

import pytest

from careteams.errors import Conflict
from careteams.extensions import db
from careteams.matching.models import MatchState
from careteams.matching.rules import Action
from careteams.matching.services.matches import ask_to_join, invite_worker
from careteams.teams.models import TeamMember, TeamMemberStatus, TeamRole
from tests.factories import TeamMemberFactory
from tests.matching.conftest import actor, make_worker, post_vacancy
from tests.matching.test_flow import act, member_row, to_state


def _confirm_url(world, member_id):
    return f"/api/v1/teams/{world.team.id}/members/{member_id}/confirm"


def test_a_trial_place_is_not_confirmed_through_the_teams_api_without_a_trial_shift(world, client, auth_headers):
    """The issue's case: both sides confirm on the team page or API before any trial
    shift; matching refuses that, so must every other path (and no match is left stuck)."""
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.trial)
    place = member_row(world, worker)
    db.session.commit()
    for person in (world.leader, worker):
        r = client.post(_confirm_url(world, place.id), headers=auth_headers(person))
        assert r.status_code == 409, r.get_json()
    db.session.expire_all()
    assert member_row(world, worker).status == TeamMemberStatus.trial
    assert match.state == MatchState.trial


def test_confirming_on_the_team_side_moves_the_match_too(world, client, auth_headers):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.trial)
    act(world.leader, match, Action.record_shift, on=date(2026, 11, 21))
    place = member_row(world, worker)
    db.session.commit()
    assert client.post(_confirm_url(world, place.id), headers=auth_headers(worker)).get_json()["status"] == "trial"
    assert client.post(_confirm_url(world, place.id), headers=auth_headers(world.leader)).get_json()["status"] == "active"
    db.session.expire_all()
    assert match.state == MatchState.active and match.active_at is not None  # not left stuck in "trial"


def test_a_trial_place_with_no_match_behind_it_cannot_be_confirmed(world, client, auth_headers):
    worker = make_worker(world.coop)
    place = TeamMemberFactory(team=world.team, person=worker, trial=True)
    db.session.commit()
    for person in (world.leader, worker):
        assert client.post(_confirm_url(world, place.id), headers=auth_headers(person)).status_code == 409
    db.session.expire_all()
    assert db.session.get(TeamMember, place.id).status == TeamMemberStatus.trial


# Permission matrix for confirming through the teams API: only the match's two sides.
CONFIRMERS = {"leader": 200, "answerer": 200, "worker": 200, "builder": 403, "facilitator": 403,
              "outsider": 404}


@pytest.mark.parametrize("who", list(CONFIRMERS))
def test_matrix_confirming_a_trial_place(world, client, auth_headers, who):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.trial)
    act(world.leader, match, Action.record_shift, on=date(2026, 11, 21))
    place = member_row(world, worker)
    person = worker if who == "worker" else getattr(world, who)
    db.session.commit()
    r = client.post(_confirm_url(world, place.id), headers=auth_headers(person))
    assert r.status_code == CONFIRMERS[who], r.get_json()
    db.session.expire_all()
    assert (match.team_confirmed_at is not None or match.worker_confirmed_at is not None) == (CONFIRMERS[who] == 200)


@pytest.mark.parametrize("place", [(TeamRole.paid_worker, TeamMemberStatus.active),
                                   (TeamRole.paid_worker, TeamMemberStatus.trial),
                                   (TeamRole.volunteer, TeamMemberStatus.active),
                                   (TeamRole.family, TeamMemberStatus.invited)],
                         ids=["active", "trial", "volunteer", "invited"])
def test_a_worker_already_in_the_team_cannot_be_matched_to_its_vacancy(world, place):
    role, status = place
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    db.session.add(TeamMember(team_id=world.team.id, person_id=worker.id, role=role, status=status))
    db.session.flush()
    vacancy = post_vacancy(world)
    with pytest.raises(Conflict):
        invite_worker(actor(world.answerer), vacancy.id, worker.id)
    with pytest.raises(Conflict):
        ask_to_join(actor(worker), vacancy.id)
