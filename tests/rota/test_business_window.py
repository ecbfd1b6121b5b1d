"""Dates of visits outside the co-op's business window are a 422 naming the field (issue 13):
before the co-op was founded, or more than five years ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Shift, ShiftSeries
from careteams.rota.services.offers import offer_shift
from tests.rota.conftest import MONDAY, make_shift


def post(client, url, headers, **kw):
    db.session.commit()
    response = client.post(url, headers=headers, **kw)
    db.session.expire_all()
    return response


def patch(client, url, headers, **kw):
    db.session.commit()
    response = client.patch(url, headers=headers, **kw)
    db.session.expire_all()
    return response


# Years outside 1900-9000 are refused by the shared input layer (careteams/validation.py)
# before the rota sees them; inside those years the rota's business window speaks.
@pytest.mark.parametrize("starts_at, ends_at, message", [
    ("9999-12-31T20:00:00", "9999-12-31T21:00:00", "between the years 1900 and 9000"),
    ("2032-06-01T09:00:00", "2032-06-01T10:00:00", "more than 5 years ahead"),
    ("1999-06-01T09:00:00", "1999-06-01T10:00:00", "before the co-op started"),
    ("0001-01-01T00:00:00+01:00", "0001-01-01T01:00:00+01:00", "between the years 1900 and 9000"),
    ("9999-12-31T23:00:00-05:00", "9999-12-31T23:30:00-05:00", "between the years 1900 and 9000"),
    ("2900-12-31T23:00:00-05:00", "2900-12-31T23:30:00-05:00", "more than 5 years ahead"),
])
def test_a_one_off_visit_outside_the_window_is_a_422_on_the_field(world, client, auth_headers, starts_at, ends_at,
                                                                   message):
    response = post(client, f"/api/v1/teams/{world.team.id}/shifts", auth_headers(world.leader),
                    json={"starts_at": starts_at, "ends_at": ends_at, "kind": "companionship"})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert message in " ".join(response.json["error"]["details"]["fields"]["starts_at"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 0


def test_a_visit_inside_the_window_is_fine(world, client, auth_headers):
    response = post(client, f"/api/v1/teams/{world.team.id}/shifts", auth_headers(world.leader),
                    json={"starts_at": "2027-01-05T09:00:00", "ends_at": "2027-01-05T10:00:00", "kind": "companionship"})
    assert response.status_code == 201


def test_moving_an_offered_shift_to_year_9999_is_refused_and_offers_still_list(world, client, auth_headers):
    """Found: a shift moved to year 9999 broke GET /me/offers for every worker offered it."""
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    offers = offer_shift(actor_for(world.leader), shift.id)
    assert {o.person_id for o in offers} >= {world.worker.id, world.worker2.id}
    response = patch(client, f"/api/v1/shifts/{shift.id}", auth_headers(world.leader),
                     json={"starts_at": "9999-12-31T22:00:00", "ends_at": "9999-12-31T23:30:00"})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "between the years 1900 and 9000" in " ".join(response.json["error"]["details"]["fields"]["starts_at"])
    for worker in (world.worker, world.worker2):
        listed = client.get("/api/v1/me/offers", headers=auth_headers(worker))
        assert listed.status_code == 200
        assert [o["shift_id"] for o in listed.json] == [shift.id]


@pytest.mark.parametrize("field, body", [
    ("first_date", {"first_date": "9999-01-04"}),
    ("first_date", {"first_date": "1990-01-01"}),
    ("ends_on", {"first_date": "2027-01-04", "ends_on": "9999-12-31"}),
])
def test_a_series_outside_the_window_is_a_422_on_the_field(world, client, auth_headers, field, body):
    response = post(client, f"/api/v1/teams/{world.team.id}/series", auth_headers(world.leader), json={
        "rrule": "FREQ=WEEKLY;BYDAY=MO", "start_time": "09:00", "duration_minutes": 60, "kind": "companionship",
        **body})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.json["error"]["details"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShiftSeries)) == 0


def test_the_rota_of_a_week_outside_any_calendar_is_a_422_not_a_500(world, client, auth_headers):
    db.session.commit()
    for week in ("9999-12-31", "0001-01-01"):
        response = client.get(f"/api/v1/teams/{world.team.id}/rota?week={week}", headers=auth_headers(world.leader))
        assert response.status_code in (200, 422), (week, response.status_code)


def test_the_rota_page_for_a_week_at_the_calendars_edge_says_what_is_wrong(world, client, login):
    """The page's ?week= has the API's bounds: a clear 422 page, never a 500."""
    login(world.leader)
    for week in ("9999-12-31", "0001-01-01"):
        response = client.get(f"/teams/{world.team.id}/rota?week={week}")
        assert response.status_code == 422, (week, response.status_code)
        assert "Give a week between 1900 and 9000." in response.get_data(as_text=True)
    assert client.get(f"/teams/{world.team.id}/rota?week=2026-11-23").status_code == 200
