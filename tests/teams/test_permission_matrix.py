"""Every team action, through the JSON API, for everyone the issue names.

Each action lists who may do it. Everyone else is refused: 404 when the team is
private from them (nothing is revealed), 403 when they can see the team but lack
the permission. A refused request changes nothing; an allowed change changes
something (so these tests can fail).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from careteams.db import utcnow
from tests.teams.conftest import ACTORS, snapshot

# Who can see the team at all; everyone else gets 404 for every action.
VISIBLE = {"leader", "builder", "rota", "plankeeper", "arranger", "active", "trial", "facilitator"}
CIRCLE = {"builder", "rota", "plankeeper", "arranger"}
READERS = {"leader", "active", "facilitator"} | CIRCLE


def _url(w, path: str) -> str:
    return f"/api/v1/teams/{w.team.id}{path}"


# name: (method, path(w), body(w), allowed actors, mutates)
ACTIONS = {
    "view team": ("GET", lambda w: _url(w, ""), None, VISIBLE, False),
    "change team": ("PATCH", lambda w: _url(w, ""), lambda w: {"display_name": "Annie"}, {"leader", "arranger"}, True),
    "read private details": ("GET", lambda w: _url(w, "/private-details"), None, {"leader", "active"} | CIRCLE, False),
    "change private details": ("PUT", lambda w: _url(w, "/private-details"), lambda w: {"address": "2 New Road"},
                               {"leader", "arranger"}, True),
    "list members": ("GET", lambda w: _url(w, "/members"), None, VISIBLE, False),
    "invite someone": ("POST", lambda w: _url(w, "/invitations"),
                       lambda w: {"person_id": w.people["invitee"].id, "role": "neighbour"},
                       {"leader", "arranger", "builder"}, True),
    "end a membership": ("POST", lambda w: _url(w, f"/members/{w.family_member.id}/end"), lambda w: {},
                         {"leader", "arranger", "builder"}, True),
    "confirm a trial member": ("POST", lambda w: _url(w, f"/members/{w.trial_member.id}/confirm"), None,
                               {"leader", "arranger", "builder", "trial"}, True),
    "list hats": ("GET", lambda w: _url(w, "/hats"), None, VISIBLE, False),
    "offer a hat": ("POST", lambda w: _url(w, "/hats"),
                    lambda w: {"person_id": w.people["invitee"].id, "hat_type_id": w.hat_types["Plan keeper"].id},
                    {"leader", "arranger"}, True),
    "take a hat back": ("POST", lambda w: _url(w, f"/hats/{w.helper_hat.id}/withdraw"), None, {"leader", "arranger"}, True),
    "list arrangers": ("GET", lambda w: _url(w, "/arrangers"), None, {"leader", "facilitator"} | CIRCLE, False),
    "appoint an arranger": ("POST", lambda w: _url(w, "/arrangers"),
                            lambda w: {"person_id": w.people["invitee"].id, "reason": "In hospital after a fall."},
                            {"facilitator"}, True),
    # The arranger herself may step down (issue 14: ending records who).
    "end an arrangement": ("POST", lambda w: _url(w, f"/arrangers/{w.arranger.id}/end"), None,
                           {"leader", "facilitator", "arranger"}, True),
    "read the plan": ("GET", lambda w: _url(w, "/plan"), None, VISIBLE, False),
    "save the plan": ("POST", lambda w: _url(w, "/plan"),
                      lambda w: {"sections": {"risks": {"text": "Mind the cat."}}}, {"leader", "arranger", "plankeeper"}, True),
    "list plan versions": ("GET", lambda w: _url(w, "/plan/versions"), None, READERS, False),
    "read a plan version": ("GET", lambda w: _url(w, "/plan/versions/1"), None, READERS, False),
    "compare plan versions": ("GET", lambda w: _url(w, "/plan/compare?from=1&to=2"), None, READERS, False),
    "list suggestions": ("GET", lambda w: _url(w, "/plan/suggestions"), None, {"leader", "facilitator"} | CIRCLE, False),
    "suggest a change": ("POST", lambda w: _url(w, "/plan/suggestions"),
                         lambda w: {"sections": {"routines": {"text": "Tea at four."}}}, {"facilitator"}, True),
    "accept a suggestion": ("POST", lambda w: _url(w, f"/plan/suggestions/{w.suggestion.id}/accept"), None,
                            {"leader", "arranger", "plankeeper"}, True),
    "decline a suggestion": ("POST", lambda w: _url(w, f"/plan/suggestions/{w.suggestion.id}/decline"), None,
                             {"leader", "arranger", "plankeeper"}, True),
    "leave the team": ("POST", lambda w: _url(w, "/leave"), lambda w: {}, {"active", "trial"}, True),
    "read the history": ("GET", lambda w: _url(w, "/history"), None, {"leader", "facilitator"} | CIRCLE, False),
}


def test_every_actor_and_action_is_covered():
    assert len(ACTORS) == 15
    for name, (_m, _p, _b, allowed, _mut) in ACTIONS.items():
        assert allowed <= VISIBLE, name


@pytest.mark.parametrize("action", list(ACTIONS))
def test_permission_matrix(world, as_person, undo, action):
    """One action, tried by each of the fifteen actors in turn (each rolled back after)."""
    method, path, body, allowed, mutates = ACTIONS[action]
    callers = {actor: as_person(world.people[actor]) for actor in ACTORS}
    problems = []
    for actor in ACTORS:
        with undo():
            before = snapshot(world.team.id)
            response = callers[actor].open(method, path(world), body(world) if body else None)
            after = snapshot(world.team.id)
            if actor in allowed:
                if response.status_code not in (200, 201):
                    problems.append(f"{actor}: expected success, got {response.status_code} {response.get_json()}")
                elif mutates and (after == before or len(after["audit"]) <= len(before["audit"])):
                    problems.append(f"{actor}: allowed but nothing (or no audit entry) was recorded")
                elif not mutates and after != before:
                    problems.append(f"{actor}: a read changed something")
            else:
                expected = 403 if actor in VISIBLE else 404
                code = "forbidden" if expected == 403 else "not_found"
                if response.status_code != expected or response.get_json()["error"]["code"] != code:
                    problems.append(f"{actor}: expected {expected}, got {response.status_code}")
                if after != before:
                    problems.append(f"{actor}: refused, but something changed")
    assert not problems, f"{action}:\n" + "\n".join(problems)


def test_refused_responses_reveal_nothing_about_the_team(world, as_person):
    """A stranger's 404 for a real team reads exactly like one for a team that does not exist."""
    stranger = as_person(world.people["stranger"])
    real = stranger.get(f"/api/v1/teams/{world.team.id}/plan")
    missing = stranger.get("/api/v1/teams/999999/plan")
    assert real.status_code == missing.status_code == 404
    assert real.get_json() == missing.get_json()


def test_trial_worker_reads_only_shared_sections(world, as_person):
    trial = as_person(world.people["trial"]).get(f"/api/v1/teams/{world.team.id}/plan").get_json()
    active = as_person(world.people["active"]).get(f"/api/v1/teams/{world.team.id}/plan").get_json()
    assert trial["trial_view"] is True and active["trial_view"] is False
    assert set(trial["sections"]) == {"what_matters"}
    assert active["sections"]["personal_care"]["text"] == "Shower on Mondays."
    assert "Shower" not in str(trial)


def test_hat_past_its_end_date_stops_working_without_the_job(world, as_person):
    """Expiry takes effect at once: the clock job only records it."""
    from careteams.extensions import db
    from careteams.teams.models import Hat

    hat = db.session.scalar(db.select(Hat).where(Hat.person_id == world.people["builder"].id))
    builder = as_person(world.people["builder"])
    body = {"person_id": world.people["invitee"].id, "role": "neighbour"}
    hat.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = builder.post(f"/api/v1/teams/{world.team.id}/invitations", json=body)
    assert response.status_code == 404


def test_unauthenticated_requests_are_refused(client, world):
    assert client.get(f"/api/v1/teams/{world.team.id}").status_code == 401
    # Refused before any input is read.
    assert client.post(f"/api/v1/teams/{world.team.id}/invitations", json={}).status_code == 401
    assert client.post(f"/api/v1/teams/{world.team.id}/invitations", data="x=1").status_code == 401
