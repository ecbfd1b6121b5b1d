"""Check-ins after the 3rd and 8th shift: each side says whether it is working,
once; each side sees only its own answer; facilitators see both and hear when
either side says it is not working."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from careteams.errors import Conflict, NotFound
from careteams.extensions import db
from careteams.matching.models import MatchState, Notification, ReviewPrompt
from careteams.matching.rules import Action, CheckInAnswer
from careteams.matching.services.check_ins import answer_check_in
from careteams.matching.services.facilitator import facilitator_queue
from careteams.matching.services.match_summaries import view_match
from tests.factories import PersonFactory
from tests.matching.conftest import actor, make_worker
from tests.matching.test_flow import act, to_state
from tests.matching.test_pages import login


def three_shifts(world):
    """A match on trial with three shifts recorded: the first check-in is due."""
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.trial)
    while len(match.shifts) < 3:
        act(worker, match, Action.record_shift, on=date(2026, 11, 21 + len(match.shifts)))
    db.session.commit()
    return worker, match


def prompt(match, after=3):
    return db.session.scalar(sa.select(ReviewPrompt).where(ReviewPrompt.match_id == match.id,
                                                           ReviewPrompt.after_shift == after))


def facilitator_notices(world):
    return db.session.scalars(sa.select(Notification.body).where(Notification.person_id == world.facilitator.id)).all()


def test_each_side_answers_once_and_sees_only_its_own_answer(world):
    worker, match = three_shifts(world)
    answer_check_in(actor(worker), match.id, 3, CheckInAnswer.working)
    answer_check_in(actor(world.answerer), match.id, 3, CheckInAnswer.not_sure)
    assert (prompt(match).worker_answer, prompt(match).team_answer) == ("working", "not_sure")

    worker_view = view_match(actor(worker), match.id)["check_ins"]
    team_view = view_match(actor(world.leader), match.id)["check_ins"]
    facilitator_view = view_match(actor(world.facilitator), match.id)["check_ins"]
    assert worker_view == [{"after_shift": 3, "due_at": worker_view[0]["due_at"], "worker_answer": "working",
                            "your_answer": "working"}]
    assert team_view == [{"after_shift": 3, "due_at": team_view[0]["due_at"], "team_answer": "not_sure",
                          "your_answer": "not_sure"}]
    assert facilitator_view == [{"after_shift": 3, "due_at": facilitator_view[0]["due_at"],
                                 "team_answer": "not_sure", "worker_answer": "working"}]


def test_answering_twice_is_a_conflict_and_changes_nothing(world):
    worker, match = three_shifts(world)
    answer_check_in(actor(worker), match.id, 3, CheckInAnswer.working)
    with pytest.raises(Conflict, match="already answered"):
        answer_check_in(actor(worker), match.id, 3, CheckInAnswer.not_working)
    assert prompt(match).worker_answer == "working"
    assert facilitator_notices(world) == [] or all("not working" not in b for b in facilitator_notices(world))


def test_no_check_in_before_the_third_shift(world):
    worker, match = three_shifts(world)
    with pytest.raises(NotFound):
        answer_check_in(actor(worker), match.id, 8, CheckInAnswer.working)


def test_not_working_tells_the_facilitators_without_details_and_queues_the_match(world):
    worker, match = three_shifts(world)
    before = facilitator_notices(world)
    answer_check_in(actor(worker), match.id, 3, CheckInAnswer.not_working)
    new = [b for b in facilitator_notices(world) if b not in before]
    assert new == ["A check-in on a match says it is not working. Log in to careteams to see it."]
    queue = facilitator_queue(actor(world.facilitator), world.coop)
    assert [m["id"] for m in queue["check_ins_not_working"]] == [match.id]
    # The team side is not told what the worker said.
    assert "worker_answer" not in view_match(actor(world.leader), match.id)["check_ins"][0]


# --- the API, by actor ---------------------------------------------------------------------------

ACTORS = ["leader", "answerer", "builder", "worker", "facilitator", "other_facilitator", "outsider", "stranger"]
# The people who may answer for a side (the worker; the team side's match answerers) get
# 200; those who may see the match but not answer for a side (a facilitator; a circle member
# whose hat only invites people) get 403; everyone else cannot see the match (404).
EXPECTED = {"leader": 200, "answerer": 200, "worker": 200, "facilitator": 403,
            "builder": 403, "other_facilitator": 404, "outsider": 404, "stranger": 404}


@pytest.mark.parametrize("who", ACTORS)
def test_check_in_over_the_api_by_actor(world, client, auth_headers, who):
    worker, match = three_shifts(world)
    person = {"worker": worker, "stranger": PersonFactory()}.get(who) or getattr(world, who)
    response = client.post(f"/api/v1/matches/{match.id}/check-ins/3", json={"answer": "working"},
                           headers=auth_headers(person))
    assert response.status_code == EXPECTED[who], response.get_json()
    db.session.expire_all()
    answered = prompt(match).worker_answer if who == "worker" else prompt(match).team_answer
    if EXPECTED[who] == 200:
        assert answered == "working" and response.get_json()["check_ins"][0]["your_answer"] == "working"
    else:
        assert (prompt(match).worker_answer, prompt(match).team_answer) == (None, None)
        assert response.get_json()["error"]["code"]


def test_api_refuses_a_bad_answer_with_422_and_a_second_answer_with_409(world, client, auth_headers):
    worker, match = three_shifts(world)
    headers = auth_headers(worker)
    bad = client.post(f"/api/v1/matches/{match.id}/check-ins/3", json={"answer": "maybe"}, headers=headers)
    assert bad.status_code == 422 and "answer" in bad.get_json()["error"]["details"]["fields"]
    assert client.post(f"/api/v1/matches/{match.id}/check-ins/3", json={"answer": "not_sure"},
                       headers=headers).status_code == 200
    again = client.post(f"/api/v1/matches/{match.id}/check-ins/3", json={"answer": "working"}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_answered"
    db.session.expire_all()
    assert prompt(match).worker_answer == "not_sure"


def test_the_worker_answers_on_the_match_page_without_javascript(world, client):
    worker, match = three_shifts(world)
    login(client, worker)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "Check-in after 3 shifts together" in page and 'name="answer" value="not_working"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/matches/{match.id}/check-ins/3", data={"csrf_token": token, "answer": "working"})
    assert response.status_code == 303
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "You said: <span class=\"tag\">It is working</span>" in page and 'name="answer"' not in page
    db.session.expire_all()
    assert prompt(match).worker_answer == "working"


def test_a_team_helper_without_the_match_hat_sees_no_answers_and_cannot_answer(world, client):
    worker, match = three_shifts(world)
    answer_check_in(actor(world.leader), match.id, 3, CheckInAnswer.not_sure)
    answer_check_in(actor(worker), match.id, 3, CheckInAnswer.not_working)
    login(client, world.builder)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "Check-in after 3 shifts together" in page and "Only the people who answer for that side" in page
    assert not any(label in page for label in ("Not sure yet", "It is not working", "It is working"))
    assert 'name="answer"' not in page


def test_facilitators_queue_page_lists_a_match_whose_check_in_says_not_working(world, client):
    worker, match = three_shifts(world)
    answer_check_in(actor(worker), match.id, 3, CheckInAnswer.not_working)
    login(client, world.facilitator)
    page = client.get(f"/coops/{world.coop.slug}/matching/queue").get_data(as_text=True)
    section = page.split('id="check-ins-not-working"')[1].split("<h2")[0]
    assert f'href="/matches/{match.id}"' in section
