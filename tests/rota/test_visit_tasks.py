"""Tasks from the support plan on a changed visit and on recurring visits (issue 16):
the edit page (this visit / this and following), the recurring-visit page, the series'
occurrences, and the API's series and update schemas. Only the plan's tasks; nothing
written when refused."""

from __future__ import annotations

import re
from datetime import date, time
from html import unescape

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Shift, ShiftSeries
from careteams.rota.services.series import create_series
from careteams.teams.models import SupportPlanVersion

PLAN = {"routines": {"text": "- Breakfast\n- Medication reminder", "shared_with_trial": False},
        "personal_care": {"text": "Shower", "shared_with_trial": False}}


@pytest.fixture
def people(world):
    db.session.add(SupportPlanVersion(team_id=world.team.id, number=1, author_id=world.leader.id,
                                      on_behalf="leader", sections=PLAN))
    db.session.flush()
    return world


def _series(world, **kw) -> tuple[ShiftSeries, list[Shift]]:
    data = {"rrule": "FREQ=WEEKLY;BYDAY=TU", "first_date": date(2027, 1, 5), "start_time": time(9),
            "duration_minutes": 60, "kind": "practical_help", "notes": "", "ends_on": date(2027, 1, 26)} | kw
    series = create_series(actor_for(world.leader), world.team.id, data)
    db.session.flush()
    return series, _visits(series.id)


def _visits(series_id=None, team=None) -> list[Shift]:
    query = sa.select(Shift).order_by(Shift.starts_at)
    query = query.where(Shift.series_id == series_id) if series_id else query.where(Shift.team_id == team.id)
    return list(db.session.scalars(query))


def _edit(team, shift) -> str:
    return f"/teams/{team.id}/rota/visits/{shift.id}/edit"


def _edit_form(token, **values) -> dict:
    return {"csrf_token": token, "day": "2027-01-19", "start": "09:00", "end": "10:00", "length": "",
            "kind": "practical_help", "notes": "", "break_minutes": "0", "scope": "this", **values}


def _series_form(token, **values) -> dict:
    return {"csrf_token": token, "repeat": "weekdays", "start_time": "08:00", "hours": "1", "minutes": "0",
            "kind": "practical_help", "first_date": "2027-01-04", "ends_on": "2027-01-08", "notes": "", **values}


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------- the service and the API


def test_a_series_carries_tasks_and_its_visits_copy_them(people):
    series, visits = _series(people, tasks=["Shower", "Breakfast"])
    assert series.tasks == ["Breakfast", "Shower"]  # the plan's order
    assert len(visits) == 4 and all(v.tasks == ["Breakfast", "Shower"] for v in visits)


def test_a_series_without_tasks_has_none(people):
    series, visits = _series(people)
    assert series.tasks == [] and all(v.tasks == [] for v in visits)


def test_the_series_api_takes_only_the_plans_tasks(people, client, auth_headers):
    url = f"/api/v1/teams/{people.team.id}/series"
    body = {"rrule": "FREQ=WEEKLY;BYDAY=TU", "first_date": "2027-01-05", "start_time": "09:00",
            "duration_minutes": 60, "kind": "practical_help", "ends_on": "2027-01-26"}
    made = client.post(url, json={**body, "tasks": ["Shower"]}, headers=auth_headers(people.leader))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["tasks"] == ["Shower"]
    assert all(v.tasks == ["Shower"] for v in _visits(made.get_json()["id"]))
    for bad in (["Feed the cat"], ["x" * 201], ["Shower"] * 31, "Shower", [""]):
        refused = client.post(url, json={**body, "tasks": bad}, headers=auth_headers(people.leader))
        assert refused.status_code == 422, bad
        assert "tasks" in refused.get_json()["error"]["details"]["fields"], bad
    assert db.session.scalars(sa.select(ShiftSeries).where(ShiftSeries.team_id == people.team.id)).all() == \
        [db.session.get(ShiftSeries, made.get_json()["id"])]


def test_the_update_api_sets_tasks_on_this_visit_only(people, client, auth_headers):
    _, visits = _series(people, tasks=["Breakfast"])
    url = f"/api/v1/shifts/{visits[1].id}"
    response = client.patch(url, json={"tasks": ["Shower"]}, headers=auth_headers(people.leader))
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert [v.tasks for v in visits] == [["Breakfast"], ["Shower"], ["Breakfast"], ["Breakfast"]]


def test_the_update_api_sets_tasks_on_this_and_following(people, client, auth_headers):
    series, visits = _series(people, tasks=["Breakfast"])
    response = client.patch(f"/api/v1/shifts/{visits[2].id}", json={"scope": "following", "tasks": ["Shower"]},
                            headers=auth_headers(people.leader))
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    rows = _visits(team=people.team)
    assert [v.tasks for v in rows] == [["Breakfast"], ["Breakfast"], ["Shower"], ["Shower"]]
    new = db.session.get(ShiftSeries, rows[2].series_id)
    assert new.id != series.id and new.tasks == ["Shower"]


def test_the_update_api_refuses_tasks_outside_the_plan_and_writes_nothing(people, client, auth_headers):
    _, visits = _series(people, tasks=["Breakfast"])
    for scope in ("this", "following"):
        response = client.patch(f"/api/v1/shifts/{visits[1].id}", json={"scope": scope, "tasks": ["Feed the cat"]},
                                headers=auth_headers(people.leader))
        assert response.status_code == 422, scope
        assert "tasks" in response.get_json()["error"]["details"]["fields"]
    db.session.expire_all()
    assert [v.tasks for v in _visits(team=people.team)] == [["Breakfast"]] * 4
    assert len(db.session.scalars(sa.select(ShiftSeries).where(ShiftSeries.team_id == people.team.id)).all()) == 1


# ---------------------------------------------------------------- the edit page


def test_the_edit_page_offers_the_plans_tasks_with_the_visits_ticked(people, client, login):
    _, visits = _series(people, tasks=["Breakfast"])
    login(people.leader)
    html = _text(client.get(_edit(people.team, visits[0])))
    assert re.search(r'value="Breakfast" checked', html)
    assert 'value="Shower">' in html and 'value="Medication reminder">' in html


def test_the_edit_page_changes_this_visits_tasks(people, client, login):
    _, visits = _series(people, tasks=["Breakfast"])
    token = login(people.leader)
    response = client.post(_edit(people.team, visits[2]), data=_edit_form(token, tasks=["Shower", "Breakfast"]))
    assert response.status_code == 303, _text(response)[:2000]
    db.session.expire_all()
    assert [v.tasks for v in visits] == [["Breakfast"], ["Breakfast"], ["Breakfast", "Shower"], ["Breakfast"]]


def test_the_edit_page_changes_the_following_visits_tasks(people, client, login):
    _, visits = _series(people, tasks=["Breakfast"])
    token = login(people.leader)
    response = client.post(_edit(people.team, visits[2]),
                           data=_edit_form(token, scope="following", tasks=["Medication reminder"]))
    assert response.status_code == 303, _text(response)[:2000]
    db.session.expire_all()
    assert [v.tasks for v in _visits(team=people.team)] == [["Breakfast"], ["Breakfast"],
                                                             ["Medication reminder"], ["Medication reminder"]]


def test_the_edit_page_refuses_a_task_outside_the_plan_beside_the_field(people, client, login):
    _, visits = _series(people, tasks=["Breakfast"])
    token = login(people.leader)
    response = client.post(_edit(people.team, visits[1]),
                           data=_edit_form(token, day="2027-01-12", start="11:00", end="12:00",
                                          tasks=["Feed the cat"]))
    assert response.status_code == 422
    html = _text(response)
    assert 'id="tasks-error"' in html and "Choose tasks from the current support plan." in html
    assert 'aria-describedby="tasks-error"' in html
    assert 'value="11:00"' in html  # what was typed is kept
    db.session.expire_all()
    assert visits[1].tasks == ["Breakfast"] and visits[1].starts_at.hour == 9


def test_untouched_tasks_stay_when_other_things_change(people, client, login):
    _, visits = _series(people, tasks=["Breakfast", "Shower"])
    token = login(people.leader)
    response = client.post(_edit(people.team, visits[0]),
                           data=_edit_form(token, day="2027-01-05", notes="Ring twice", tasks=["Breakfast", "Shower"]))
    assert response.status_code == 303
    db.session.expire_all()
    assert visits[0].tasks == ["Breakfast", "Shower"] and visits[0].notes == "Ring twice"


# ---------------------------------------------------------------- the recurring-visit page


def test_the_series_page_offers_the_plans_tasks(people, client, login):
    login(people.leader)
    html = _text(client.get(f"/teams/{people.team.id}/rota/series/new"))
    assert 'value="Breakfast">' in html and 'value="Shower">' in html


def test_the_series_page_gives_its_visits_the_tasks_chosen(people, client, login):
    token = login(people.leader)
    response = client.post(f"/teams/{people.team.id}/rota/series/new",
                           data=_series_form(token, tasks=["Shower", "Breakfast"]))
    assert response.status_code == 303, _text(response)[:2000]
    visits = _visits(team=people.team)
    assert len(visits) == 5 and all(v.tasks == ["Breakfast", "Shower"] for v in visits)
    assert db.session.scalars(sa.select(ShiftSeries.tasks)).all() == [["Breakfast", "Shower"]]


def test_the_series_page_refuses_a_task_outside_the_plan_and_keeps_the_input(people, client, login):
    token = login(people.leader)
    response = client.post(f"/teams/{people.team.id}/rota/series/new",
                           data=_series_form(token, notes="Key in the safe", tasks=["Feed the cat"]))
    assert response.status_code == 422
    html = _text(response)
    assert 'id="tasks-error"' in html and "Choose tasks from the current support plan." in html
    assert "Key in the safe" in html and 'value="08:00"' in html
    assert _visits(team=people.team) == [] and db.session.scalars(sa.select(ShiftSeries)).all() == []
