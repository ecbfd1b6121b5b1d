"""The JSON API: privacy before and after mutual interest, and the permission
matrix for each action (who may, who is refused, and that a refusal changes nothing)."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import (
    EqualityData,
    Match,
    MatchingSettings,
    MatchState,
    Skill,
    Vacancy,
    WorkerCheck,
)
from careteams.matching.rules import Action
from careteams.matching.services.matches import act_on_match, ask_to_join, invite_worker
from careteams.matching.services.profiles import weekly_hours_opt_out, worker_eligibility
from careteams.matching.services.vacancies import update_vacancy
from careteams.members.models import MemberClass, StaffRoleName
from tests.factories import MembershipFactory, StaffRoleFactory
from tests.matching.conftest import HOME, NOW, actor, make_worker, post_vacancy

# --- privacy -----------------------------------------------------------------------------


@pytest.fixture
def pair(world):
    """A worker and a vacancy that suit each other, nothing started yet."""
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"], world.skills["Cooking"]],
                         languages=("English", "Urdu"), interests=("gardening",))
    vacancy = post_vacancy(world)
    db.session.commit()
    return worker, vacancy


def text_of(response) -> str:
    return json.dumps(response.get_json())


def test_worker_sees_only_a_summary_before_mutual_interest(world, pair, client, auth_headers):
    worker, vacancy = pair
    h = auth_headers(worker)
    listed = client.get(f"/api/v1/cooperatives/{world.coop.slug}/suggested-vacancies", headers=h)
    assert listed.status_code == 200
    (entry,) = listed.get_json()["vacancies"]
    assert entry["vacancy"]["id"] == vacancy.id and entry["reasons"]
    one = client.get(f"/api/v1/vacancies/{vacancy.id}", headers=h)
    body = one.get_json()
    assert body["district"] == "HX7" and body["needs"] == "Help getting up and breakfast"
    assert body["hours"] == ["Monday 08:00-11:00", "Wednesday 08:00-11:00"] and body["hours_per_week"] == 6
    for text in (text_of(one), text_of(listed)):
        assert "Ann" not in text and "Baker" not in text  # no team name, no leader
        assert str(HOME[0]) not in text and "latitude" not in text and "team_id" not in text


def test_team_side_sees_worker_summary_without_contact_details(world, pair, client, auth_headers):
    worker, vacancy = pair
    response = client.get(f"/api/v1/vacancies/{vacancy.id}/suggestions", headers=auth_headers(world.leader))
    assert response.status_code == 200
    (candidate,) = response.get_json()
    assert candidate["worker"] == {"first_name": "Wendy", "skills": ["Cooking", "Personal care"],
                                   "languages": ["English", "Urdu"], "interests": ["gardening"],
                                   "distance_band": "under 2 km"}
    text = text_of(response)
    assert "Ali" not in text and worker.email not in text and worker.phone not in text


def test_both_sides_see_more_after_mutual_interest_and_less_after_withdrawal(world, pair, client, auth_headers):
    worker, vacancy = pair
    wh, th = auth_headers(worker), auth_headers(world.leader)
    started = client.post(f"/api/v1/vacancies/{vacancy.id}/invitations", headers=th,
                          json={"person_id": worker.id, "note": "She seemed kind"})
    assert started.status_code == 201
    match_id = started.get_json()["id"]
    before_worker = client.get(f"/api/v1/matches/{match_id}", headers=wh)
    assert before_worker.get_json()["can"] == ["answer_no", "answer_yes", "withdraw"]
    assert "She seemed kind" not in text_of(before_worker) and "team_name" not in before_worker.get_json()["vacancy"]
    before_team = client.get(f"/api/v1/matches/{match_id}", headers=th).get_json()
    assert before_team["worker"] == {"person_id": worker.id, "first_name": "Wendy",
                                     "skills": ["Cooking", "Personal care"], "languages": ["English", "Urdu"],
                                     "interests": ["gardening"], "distance_band": "under 2 km"}

    answered = client.post(f"/api/v1/matches/{match_id}/actions", headers=wh,
                           json={"action": "answer_yes", "note": "Happy to"})
    assert answered.status_code == 200 and answered.get_json()["state"] == "review"
    after_worker = answered.get_json()
    assert after_worker["vacancy"]["team_name"] == "Ann" and after_worker["vacancy"]["leader_first_name"] == "Ann"
    assert after_worker["worker_note"] == "Happy to" and "team_note" not in after_worker
    after_team = client.get(f"/api/v1/matches/{match_id}", headers=th).get_json()
    assert after_team["worker"]["email"] == worker.email and after_team["worker"]["name"] == "Wendy Ali"
    assert after_team["worker"]["phone"] == worker.phone and after_team["worker"]["hourly_rate_pence"] == 1500
    assert after_team["team_note"] == "She seemed kind" and "worker_note" not in after_team

    client.post(f"/api/v1/matches/{match_id}/actions", headers=th, json={"action": "withdraw"})
    again = client.get(f"/api/v1/matches/{match_id}", headers=th)
    assert worker.email not in text_of(again) and "team_name" not in client.get(
        f"/api/v1/matches/{match_id}", headers=wh).get_json()["vacancy"]


def test_vacancies_are_invisible_to_people_outside(world, pair, client, auth_headers):
    _, vacancy = pair
    for person in (world.outsider, world.other_facilitator):
        assert client.get(f"/api/v1/vacancies/{vacancy.id}", headers=auth_headers(person)).status_code == 404
    # A worker sees a paused vacancy no more.
    update_vacancy(actor(world.leader), vacancy.id, {"status": "paused"})
    worker = pair[0]
    assert client.get(f"/api/v1/vacancies/{vacancy.id}", headers=auth_headers(worker)).status_code == 404


# --- the permission matrix ------------------------------------------------------------------

MATCH_ROWS = (Match, Vacancy, Skill, WorkerCheck, MatchingSettings)


def snapshot():
    counts = {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in MATCH_ROWS}
    counts["states"] = sorted((m.id, m.state.value, m.held, m.introduction_on)
                              for m in db.session.scalars(sa.select(Match)))
    counts["vacancies"] = sorted((v.id, v.status.value) for v in db.session.scalars(sa.select(Vacancy)))
    return counts


@pytest.fixture
def cast(world, pair):
    worker, vacancy = pair
    other_worker = make_worker(world.coop, "Will Evans", skills=[world.skills["Personal care"]])
    admin = StaffRoleFactory(cooperative=world.coop, role=StaffRoleName.admin).person
    no_profile_worker = MembershipFactory(cooperative=world.coop, member_class=MemberClass.worker).person
    db.session.commit()
    return {"leader": world.leader, "builder": world.builder, "answerer": world.answerer,
            "facilitator": world.facilitator, "other_facilitator": world.other_facilitator,
            "outsider": world.outsider, "worker": worker, "other_worker": other_worker, "admin": admin,
            "no_profile_worker": no_profile_worker}


def _asked_match(world, cast, vacancy):
    return ask_to_join(actor(cast["worker"]), vacancy.id, now=NOW)


def _review_match(world, cast, vacancy):
    match = _asked_match(world, cast, vacancy)
    act_on_match(actor(world.leader), match.id, Action.answer_yes, now=NOW)
    return match


def _introduction_match(world, cast, vacancy):
    match = _review_match(world, cast, vacancy)
    act_on_match(actor(world.facilitator), match.id, Action.approve, now=NOW)
    return match


# (name, setup(world, cast, vacancy) -> url context, method, url, json, {actor: expected status})
MATRIX = [
    ("post_vacancy", None, "post", "/api/v1/teams/{team}/vacancies",
     {"needs": "Company", "windows": ["Friday 10:00-12:00"]},
     {"leader": 201, "builder": 201, "answerer": 403, "facilitator": 403, "outsider": 404,
      "other_facilitator": 404, "worker": 404}),
    ("change_vacancy", None, "patch", "/api/v1/vacancies/{vacancy}", {"status": "paused"},
     {"leader": 200, "builder": 200, "answerer": 403, "facilitator": 403, "outsider": 404, "worker": 404}),
    ("suggestions", None, "get", "/api/v1/vacancies/{vacancy}/suggestions", None,
     {"leader": 200, "builder": 200, "answerer": 200, "facilitator": 200, "outsider": 404,
      "other_facilitator": 404, "worker": 404}),
    ("invite", None, "post", "/api/v1/vacancies/{vacancy}/invitations", {"person_id": "{worker_id}"},
     {"leader": 201, "answerer": 201, "builder": 403, "facilitator": 403, "outsider": 404, "worker": 404,
      "other_facilitator": 404}),
    ("ask", None, "post", "/api/v1/vacancies/{vacancy}/requests", {},
     {"worker": 201, "other_worker": 201, "no_profile_worker": 404, "outsider": 404, "leader": 404}),
    ("answer", _asked_match, "post", "/api/v1/matches/{match}/actions", {"action": "answer_yes"},
     {"leader": 200, "answerer": 200, "builder": 403, "facilitator": 403, "worker": 409, "other_worker": 404,
      "outsider": 404, "other_facilitator": 404}),
    ("approve", _review_match, "post", "/api/v1/matches/{match}/actions", {"action": "approve"},
     {"facilitator": 200, "leader": 403, "answerer": 403, "worker": 403, "other_facilitator": 404, "outsider": 404}),
    ("hold", _review_match, "post", "/api/v1/matches/{match}/actions", {"action": "hold", "note": "Wait"},
     {"facilitator": 200, "leader": 403, "worker": 403, "other_facilitator": 404, "other_worker": 404}),
    ("introduction", _introduction_match, "post", "/api/v1/matches/{match}/actions",
     {"action": "record_introduction", "on": "2026-11-20"},
     {"leader": 200, "answerer": 200, "worker": 200, "facilitator": 200, "builder": 403, "other_worker": 404,
      "outsider": 404}),
    ("withdraw", _review_match, "post", "/api/v1/matches/{match}/actions", {"action": "withdraw"},
     {"leader": 200, "answerer": 200, "worker": 200, "facilitator": 403, "builder": 403, "other_worker": 404}),
    ("add_skill", None, "post", "/api/v1/cooperatives/{coop}/skills", {"name": "Sign language"},
     {"facilitator": 201, "admin": 201, "leader": 403, "worker": 403, "other_facilitator": 404}),
    ("settings", None, "patch", "/api/v1/cooperatives/{coop}/matching/settings", {"review_required": False},
     {"admin": 200, "facilitator": 403, "leader": 403, "worker": 403, "other_facilitator": 404}),
    ("record_check", None, "post", "/api/v1/cooperatives/{coop}/workers/{worker_id}/checks",
     {"kind": "training", "name": "First aid", "checked_on": "2026-01-01", "expires_on": "2029-01-01"},
     {"facilitator": 201, "admin": 201, "worker": 403, "leader": 403, "other_facilitator": 404}),
    ("queue", None, "get", "/api/v1/cooperatives/{coop}/matching/queue", None,
     {"facilitator": 200, "admin": 403, "leader": 403, "worker": 403, "other_facilitator": 404}),
    ("fairness", None, "get", "/api/v1/cooperatives/{coop}/matching/fairness", None,
     {"facilitator": 200, "admin": 403, "leader": 403, "worker": 403, "other_facilitator": 404}),
    ("figures", None, "get", "/api/v1/cooperatives/{coop}/matching/figures", None,
     {"facilitator": 200, "leader": 403, "worker": 403, "outsider": 403}),
]

CASES = [(row[0], who, expected) for row in MATRIX for who, expected in row[5].items()]


@pytest.mark.parametrize(("name", "who", "expected"), CASES, ids=[f"{n}-{w}" for n, w, _ in CASES])
def test_permission_matrix(world, pair, cast, client, auth_headers, name, who, expected):
    _, setup, method, url, payload, _ = next(row for row in MATRIX if row[0] == name)
    worker, vacancy = pair
    match = setup(world, cast, vacancy) if setup else None
    headers = auth_headers(cast[who])
    db.session.commit()
    values = {"team": world.team.id, "vacancy": vacancy.id, "coop": world.coop.slug, "worker_id": worker.id,
              "match": match.id if match else 0}
    body = json.loads(json.dumps(payload).replace('"{worker_id}"', str(worker.id))) if payload is not None else None
    before = snapshot()
    response = getattr(client, method)(url.format(**values), headers=headers, json=body)
    assert response.status_code == expected, response.get_json()
    if expected >= 400:
        assert response.get_json()["error"]["code"]
        assert snapshot() == before, "a refused request changed something"
    elif method != "get":
        assert snapshot() != before, "an allowed change changed nothing"


def test_bad_input_is_422_with_fields(world, client, auth_headers):
    h = auth_headers(world.leader)
    response = client.post(f"/api/v1/teams/{world.team.id}/vacancies", headers=h,
                           json={"needs": "", "windows": ["Caturday 10:00-09:00"], "required_skill_ids": [999999]})
    assert response.status_code == 422
    assert {"needs", "windows"} <= set(response.get_json()["error"]["details"]["fields"])
    response = client.post(f"/api/v1/teams/{world.team.id}/vacancies", headers=h,
                           json={"needs": "Company", "windows": ["Friday 10:00-12:00"], "required_skill_ids": [999999]})
    assert response.status_code == 422 and "required_skill_ids" in response.get_json()["error"]["details"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vacancy)) == 0


def test_worker_profile_round_trip_and_validation(world, client, auth_headers):
    person = MembershipFactory(cooperative=world.coop, member_class=MemberClass.worker).person
    h, leader_h = auth_headers(person), auth_headers(world.leader)
    db.session.commit()
    url = f"/api/v1/cooperatives/{world.coop.slug}/worker-profile"
    assert client.get(url, headers=h).status_code == 404
    bad = client.put(url, headers=h, json={"employment_type": "independent", "travel_km": 5,
                                           "latitude": 53.7, "longitude": -2.0})
    assert bad.status_code == 422 and "hourly_rate_pence" in bad.get_json()["error"]["details"]["fields"]
    good = client.put(url, headers=h, json={
        "employment_type": "independent", "hourly_rate_pence": 1450, "travel_km": 8, "latitude": 53.7, "longitude": -2.0,
        "skill_ids": [world.skills["Driving"].id], "languages": ["Polish"], "interests": ["chess"],
        "windows": [{"weekday": 1, "start": "09:00", "end": "17:00"}], "opt_out_48h_signed_on": "2026-01-05"})
    assert good.status_code == 200, good.get_json()
    body = client.get(url, headers=h).get_json()
    assert body["skills"][0]["name"] == "Driving" and body["windows"][0]["label"] == "Tuesday 09:00-17:00"
    assert body["hourly_rate_pence"] == 1450
    assert weekly_hours_opt_out(person.id) == date(2026, 1, 5)
    # Only worker members keep a profile.
    assert client.put(url, headers=leader_h, json={
        "employment_type": "employed", "travel_km": 8, "latitude": 53.7, "longitude": -2.0}).status_code == 403


def test_worker_eligibility_for_other_domains(world):
    ok = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    expired = make_worker(world.coop, "Xena Ford", skills=[world.skills["Driving"]], dbs_expires=date(2026, 12, 1))
    result = worker_eligibility([ok.id, expired.id, world.leader.id], ["Personal care"], NOW)
    assert result == {ok.id: [], expired.id: ["missing skill: Personal care"], world.leader.id: ["no worker profile"]}
    later = worker_eligibility([expired.id], [], date(2026, 12, 1))
    assert later == {expired.id: ["Enhanced DBS check: expired on 2026-12-01"]}
    assert weekly_hours_opt_out(ok.id) is None
    # The co-op's required training counts too.
    db.session.add(MatchingSettings(cooperative_id=world.coop.id, required_training=["Moving and handling"]))
    db.session.flush()
    assert worker_eligibility([ok.id], [], NOW) == {ok.id: ["Moving and handling: missing"]}


def test_notifications_api(world, pair, client, auth_headers):
    worker, vacancy = pair
    invite_worker(actor(world.leader), vacancy.id, worker.id, now=NOW)
    h = auth_headers(worker)
    (note,) = client.get("/api/v1/matching/notifications", headers=h).get_json()
    assert note["read_at"] is None
    assert client.post(f"/api/v1/matching/notifications/{note['id']}/read", headers=h).get_json()["read_at"]
    other = auth_headers(world.leader)
    assert client.post(f"/api/v1/matching/notifications/{note['id']}/read", headers=other).status_code == 404


def test_state_after_full_api_flow(world, pair, client, auth_headers):
    worker, vacancy = pair
    wh, th, fh = auth_headers(worker), auth_headers(world.answerer), auth_headers(world.facilitator)
    match_id = client.post(f"/api/v1/vacancies/{vacancy.id}/requests", headers=wh, json={}).get_json()["id"]
    steps = [(th, {"action": "answer_yes"}, "review"), (fh, {"action": "approve"}, "introduction"),
             (fh, {"action": "record_introduction", "on": "2026-11-20"}, "introduction"),
             (th, {"action": "start_trial"}, "trial"), (wh, {"action": "record_shift", "on": "2026-11-21"}, "trial"),
             (wh, {"action": "confirm"}, "trial"), (th, {"action": "confirm"}, "active")]
    for headers, payload, state in steps:
        response = client.post(f"/api/v1/matches/{match_id}/actions", headers=headers, json=payload)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["state"] == state
    again = client.post(f"/api/v1/matches/{match_id}/actions", headers=wh, json={"action": "confirm"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_transition"
    assert db.session.get(Match, match_id).state == MatchState.active


def test_equality_data_is_voluntary_and_can_be_removed(world, pair, client, auth_headers):
    worker, _ = pair
    h = auth_headers(worker)
    url = f"/api/v1/cooperatives/{world.coop.slug}/worker-profile/equality"
    bad = client.put(url, headers=h, json={"age_band": "very old"})
    assert bad.status_code == 422 and "age_band" in bad.get_json()["error"]["details"]["fields"]
    saved = client.put(url, headers=h, json={"ethnicity": "Asian British", "age_band": "25-34"})
    assert saved.status_code == 200 and saved.get_json()["ethnicity"] == "Asian British"
    assert db.session.scalar(sa.select(EqualityData.gender).where(EqualityData.person_id == worker.id)) is None
    assert client.delete(url, headers=h).status_code == 204
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EqualityData)) == 0
    # Only worker members give equality data here.
    assert client.put(url, headers=auth_headers(world.leader), json={"ethnicity": "x"}).status_code == 403
