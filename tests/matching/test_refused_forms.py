"""The matching pages refuse a form the shared way (careteams/web/forms.py, issue 16):
422 or 409, the message in plain words beside its field and tied to it by
aria-describedby, what was typed kept, nothing written."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import Match, MatchState, Vacancy
from careteams.matching.services.matches import invite_worker
from tests.matching.conftest import actor, make_worker, post_vacancy
from tests.matching.test_check_ins import prompt, three_shifts
from tests.matching.test_pages import login, token_of


def _html(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_an_empty_vacancy_says_so_in_plain_words_and_keeps_the_rest(world, client):
    login(client, world.leader)
    url = f"/teams/{world.team.id}/vacancies"
    response = client.post(url, data={"csrf_token": token_of(client, url), "needs": "",
                                      "what_matters": "Gardening and the radio", "windows": "Monday 09:00-12:00"})
    assert response.status_code == 422
    html = _html(response)
    assert re.search(r'id="needs-error">.*Enter what help is needed \(up to 4000 characters\)\.', html)
    assert "Length must be" not in html and "Shorter than" not in html
    assert 'aria-describedby="needs-error"' in html
    assert "Gardening and the radio" in html and "Monday 09:00-12:00" in html
    assert db.session.scalars(sa.select(Vacancy)).all() == []


def test_a_too_long_note_on_a_match_answer_stays_on_the_page_beside_the_note(world, client):
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    match = invite_worker(actor(world.leader), post_vacancy(world).id, worker.id)
    login(client, worker)
    note = "I can start on Mondays. " * 50  # 1200 characters
    response = client.post(f"/matches/{match.id}/act", data={"csrf_token": token_of(client, f"/matches/{match.id}"),
                                                             "action": "answer_yes", "note": note})
    assert response.status_code == 422
    html = _html(response)
    assert 'id="note-answer_yes-error"' in html and "Enter 1000 characters or fewer." in html
    assert 'aria-describedby="note-answer_yes-error"' in html and 'aria-invalid="true"' in html
    assert f'value="{note}"' in html  # what was typed is kept
    assert '<a href="#note-answer_yes">' in html  # the summary links to the field
    db.session.expire_all()
    assert db.session.get(Match, match.id).state == MatchState.invited


def test_a_match_already_answered_is_a_409_on_the_page_not_a_redirect(world, client):
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    match = invite_worker(actor(world.leader), post_vacancy(world).id, worker.id)
    login(client, worker)
    token = token_of(client, f"/matches/{match.id}")
    assert client.post(f"/matches/{match.id}/act", data={"csrf_token": token, "action": "answer_yes"}).status_code == 303
    again = client.post(f"/matches/{match.id}/act", data={"csrf_token": token, "action": "answer_yes"})
    assert again.status_code == 409
    assert "already been answered" in _html(again) and 'class="error-summary"' in _html(again)


def test_a_check_in_without_an_answer_says_so_beside_the_question(world, client):
    worker, match = three_shifts(world)
    login(client, worker)
    response = client.post(f"/matches/{match.id}/check-ins/3",
                           data={"csrf_token": token_of(client, f"/matches/{match.id}"), "answer": "maybe"})
    assert response.status_code == 422
    html = _html(response)
    assert 'id="check-in-3-answer-error"' in html and "Choose one of the answers." in html
    assert 'aria-describedby="check-in-3-answer-error"' in html
    db.session.expire_all()
    assert prompt(match).worker_answer is None


def test_others_still_get_403_and_404_not_a_form(world, client):
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    match = invite_worker(actor(world.leader), post_vacancy(world).id, worker.id)
    login(client, world.outsider)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert client.post(f"/matches/{match.id}/act", data={"action": "answer_yes", "csrf_token": token}).status_code == 404
    assert client.post(f"/matches/{match.id}/check-ins/3", data={"answer": "x", "csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Match, match.id).state == MatchState.invited
