"""Rates agreed between a team and its independent workers, on the team's funders page
(the API's POST /worker-rates with a team): the co-op's facilitators set them, the team's
Hours checkers read them, others are refused; a refused form keeps what was typed."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours.models import WorkerRate
from careteams.matching.models import EmploymentType, WorkerProfile
from tests.helpers import csrf_from, login

PASSWORD = "correct horse battery"


def _as(client, person) -> None:
    db.session.commit()
    assert login(client, person.email, PASSWORD).status_code == 302


def _rates(world) -> list[tuple[int, date, int]]:
    db.session.expire_all()
    return [(r.person_id, r.effective_from, r.hourly_rate_pence) for r in db.session.scalars(
        sa.select(WorkerRate).where(WorkerRate.team_id == world.team.id).order_by(WorkerRate.id))]


def _employ(world, person, kind=EmploymentType.independent) -> None:
    profile = db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == person.id,
                                                               WorkerProfile.cooperative_id == world.coop.id))
    profile.employment_type = kind
    db.session.flush()


def _beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in unescape(error.group(1)), html


def test_a_facilitator_agrees_a_rate_with_an_independent_worker(client, world):
    _employ(world, world.worker)
    _as(client, world.facilitator)
    page = client.get(f"/teams/{world.team.id}/funders")
    assert page.status_code == 200 and "No agreed rates." in page.text
    assert re.search(r"<title>([^<]*)</title>", page.text).group(1).startswith("Funders of")
    assert page.text.count('id="agreed-rates"') == 1
    assert f'<option value="{world.worker.id}">Wendy Worker</option>' in page.text
    done = client.post(f"/teams/{world.team.id}/agreed-rates", data={
        "csrf_token": csrf_from(page.text), "person_id": str(world.worker.id), "effective_from": "2027-01-01",
        "hourly_rate": "£16.50"})
    assert done.status_code == 303
    assert _rates(world) == [(world.worker.id, date(2027, 1, 1), 1650)]
    shown = unescape(client.get(f"/teams/{world.team.id}/funders").text)
    assert "Wendy Worker" in shown and "1 Jan 2027" in shown and "£16.50" in shown


def test_refused_rates_keep_what_was_typed(client, world):
    _employ(world, world.worker)
    _employ(world, world.worker2, EmploymentType.employed)
    _as(client, world.facilitator)
    token = csrf_from(client.get(f"/teams/{world.team.id}/funders").text)
    url = f"/teams/{world.team.id}/agreed-rates"
    words = client.post(url, data={"csrf_token": token, "person_id": str(world.worker.id),
                                   "effective_from": "2027-01-01", "hourly_rate": "sixteen"})
    assert words.status_code == 422
    assert re.search(r"<title>([^<]*)</title>", words.text).group(1).startswith("Error: Funders of")
    _beside(words.text, "hourly_rate", "Enter an amount in pounds and pence, like 12.60.")
    assert 'value="sixteen"' in words.text and 'value="2027-01-01"' in words.text
    # An employed worker is paid the co-op's rate for the team's area band.
    employed = client.post(url, data={"csrf_token": token, "person_id": str(world.worker2.id),
                                      "effective_from": "2027-01-01", "hourly_rate": "16.50"})
    assert employed.status_code == 422
    _beside(employed.text, "person_id", "employed by the co-op")
    # Someone who is not one of the team's workers is not a choice.
    outsider = client.post(url, data={"csrf_token": token, "person_id": str(world.other_worker.id),
                                      "effective_from": "2027-01-01", "hourly_rate": "16.50"})
    assert outsider.status_code == 422
    assert client.post(url, data={"csrf_token": token, "person_id": str(world.worker.id),
                                  "effective_from": "2027-01-01", "hourly_rate": "16.50"}).status_code == 303
    again = client.post(url, data={"csrf_token": token, "person_id": str(world.worker.id),
                                   "effective_from": "2027-01-01", "hourly_rate": "17.00"})
    assert again.status_code == 409
    _beside(again.text, "effective_from", "There is already a rate from that day.")
    assert _rates(world) == [(world.worker.id, date(2027, 1, 1), 1650)]


def test_the_api_refuses_the_same(client, world):
    _employ(world, world.worker)
    _as(client, world.facilitator)
    body = {"team_id": world.team.id, "person_id": world.other_worker.id, "effective_from": "2027-01-01",
            "hourly_rate_pence": 1650}
    refused = client.post("/api/v1/worker-rates", json=body)
    assert refused.status_code == 422 and "person_id" in refused.get_json()["error"]["details"]["fields"]
    ok = client.post("/api/v1/worker-rates", json={**body, "person_id": world.worker.id})
    assert ok.status_code == 201
    assert client.post("/api/v1/worker-rates", json={**body, "person_id": world.worker.id}).status_code == 409


def test_who_may_agree_a_rate(app, world):
    _employ(world, world.worker)
    for person, status in {world.checker: 403, world.worker: 403, world.leader: 403,
                           world.other_facilitator: 404, world.admin: 404}.items():
        client = app.test_client()
        _as(client, person)
        token = csrf_from(client.get("/my/hours").text)
        posted = client.post(f"/teams/{world.team.id}/agreed-rates", data={
            "csrf_token": token, "person_id": str(world.worker.id), "effective_from": "2027-01-01",
            "hourly_rate": "16.50"})
        assert posted.status_code == status, (person.name, posted.status_code)
    assert _rates(world) == []
    checker = app.test_client()
    _as(checker, world.checker)
    page = checker.get(f"/teams/{world.team.id}/funders")
    assert page.status_code == 200 and "Save the agreed rate" not in page.text
