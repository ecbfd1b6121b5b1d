"""A team's coordinates (to about 10 m) go only to people allowed its address; everyone
else who can see the team sees an area of about 1 km (issue 14). One predicate decides
both (teams.permissions.can_see_private_details), in every output of coordinates."""

from __future__ import annotations

import pytest

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.teams import rules
from careteams.teams.services import places, teams
from careteams.teams.services.access import team_access
from tests.factories import VacancyFactory
from tests.teams.conftest import ACTORS
from tests.teams.test_pages import Browser

LAT, LON = 53.645812, -1.785037  # a front door
AREA = (53.65, -1.79)

# Allowed the address (leader, circle, active members): the exact point.
EXACT = {"leader", "builder", "rota", "plankeeper", "arranger", "active"}
# See the team but are refused the address: an area.
AREA_VIEWERS = {"trial", "facilitator"}
HIDDEN = set(ACTORS) - EXACT - AREA_VIEWERS  # the team does not exist for them (404)


@pytest.fixture
def placed(world):
    """The leader sets the team's place: the audit log records it (before/after)."""
    teams.update_team(actor_for(world.team.leader), world.team.id, {"latitude": LAT, "longitude": LON})
    db.session.commit()
    return world


def expected(who: str):
    return (LAT, LON) if who in EXACT else AREA


def get(client, auth_headers, person, url):
    db.session.commit()
    return client.get(url, headers=auth_headers(person))


# --- the pure rule ----------------------------------------------------------------


def test_coarsen_rounds_to_an_area_of_about_a_kilometre():
    assert rules.coarsen(LAT, LON) == AREA
    assert rules.coarsen(-33.868820, 151.209296) == (-33.87, 151.21)
    assert rules.coarsen(51.5, 0.0) == (51.5, 0.0)


def test_coarsen_moves_a_point_by_less_than_a_kilometre_and_hides_the_door():
    from careteams.rota.rules import haversine_km

    for lat, lon in [(LAT, LON), (57.149651, -2.099075), (50.376289, -4.143841), (60.0049, -1.0049)]:
        area = rules.coarsen(lat, lon)
        assert haversine_km(lat, lon, *area) < 0.8
        assert area != (lat, lon)
    # Two doors a few hundred metres apart fall in the same area.
    assert rules.coarsen(53.6461, -1.7861) == rules.coarsen(53.6478, -1.7889)


def test_coarsen_of_nothing_or_half_a_point_is_nothing():
    assert rules.coarsen(None, None) == (None, None)
    assert rules.coarsen(LAT, None) == (None, None)
    assert rules.coarsen(None, LON) == (None, None)


# --- the same predicate as the address --------------------------------------------


@pytest.mark.parametrize("who", sorted(EXACT | AREA_VIEWERS))
def test_exact_coordinates_go_with_the_address_and_only_with_it(placed, client, auth_headers, who):
    person = placed.people[who]
    address = get(client, auth_headers, person, f"/api/v1/teams/{placed.team.id}/private-details")
    team = get(client, auth_headers, person, f"/api/v1/teams/{placed.team.id}").json["team"]
    assert (address.status_code == 200) == ((team["latitude"], team["longitude"]) == (LAT, LON))
    assert team["location_is_area"] == (address.status_code != 200)
    place = places.place_for(team_access(placed.actor(who), placed.team), LAT, LON)
    assert place.exact == (address.status_code == 200)


# --- every output of coordinates --------------------------------------------------


@pytest.mark.parametrize("who", ACTORS)
def test_get_team(placed, client, auth_headers, who):
    response = get(client, auth_headers, placed.people[who], f"/api/v1/teams/{placed.team.id}")
    if who in HIDDEN:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    team = response.json["team"]
    assert (team["latitude"], team["longitude"]) == expected(who)
    if who not in EXACT:
        assert str(LAT) not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ACTORS)
def test_list_of_teams(placed, client, auth_headers, who):
    response = get(client, auth_headers, placed.people[who], "/api/v1/teams")
    assert response.status_code == 200
    mine = [t["team"] for t in response.json if t["team"]["id"] == placed.team.id]
    if who in HIDDEN:
        assert mine == []
        return
    assert [(t["latitude"], t["longitude"]) for t in mine] == [expected(who)]
    if who not in EXACT:
        assert str(LAT) not in response.get_data(as_text=True)


HISTORY_READERS = {"leader", "builder", "rota", "plankeeper", "arranger", "facilitator"}


@pytest.mark.parametrize("who", ACTORS)
def test_team_history(placed, client, auth_headers, who):
    response = get(client, auth_headers, placed.people[who], f"/api/v1/teams/{placed.team.id}/history")
    if who not in HISTORY_READERS:
        assert response.status_code in (403, 404)
        assert "entries" not in response.json and str(LAT) not in response.get_data(as_text=True)
        return
    assert response.status_code == 200
    [update] = [e for e in response.json if e["action"] == "team.updated"]
    assert (update["after"]["latitude"], update["after"]["longitude"]) == expected(who)
    if who not in EXACT:
        assert str(LAT) not in response.get_data(as_text=True)
        assert str(LON) not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["leader", "facilitator"])
def test_history_page_and_team_page(placed, app, who):
    browser = Browser(app, placed.people[who])
    for url in (f"/teams/{placed.team.id}/history", f"/teams/{placed.team.id}"):
        page = browser.get(url)
        assert page.status_code == 200
        assert (str(LAT) in page.text) == (who in EXACT), url
    assert f"latitude: {AREA[0]}" in browser.get(f"/teams/{placed.team.id}/history").text or who in EXACT


@pytest.mark.parametrize("who", ACTORS)
def test_vacancy_of_the_team(placed, client, auth_headers, who):
    vacancy = VacancyFactory(team=placed.team, latitude=LAT, longitude=LON)
    response = get(client, auth_headers, placed.people[who], f"/api/v1/vacancies/{vacancy.id}")
    body = response.get_data(as_text=True)
    if response.status_code != 200:
        assert str(LAT) not in body
        return
    if "latitude" in response.json:  # the team side's full view
        assert (response.json["latitude"], response.json["longitude"]) == expected(who)
    if who not in EXACT:
        assert str(LAT) not in body and str(LON) not in body


def test_the_team_side_and_facilitators_read_a_vacancy_exact_or_as_an_area(placed, client, auth_headers):
    vacancy = VacancyFactory(team=placed.team, latitude=LAT, longitude=LON)
    url = f"/api/v1/vacancies/{vacancy.id}"
    for who, place in (("leader", (LAT, LON)), ("builder", (LAT, LON)), ("facilitator", AREA)):
        body = get(client, auth_headers, placed.people[who], url).json
        assert (body["latitude"], body["longitude"]) == place, who
    listing = get(client, auth_headers, placed.people["facilitator"], f"/api/v1/teams/{placed.team.id}/vacancies")
    assert listing.status_code == 200
    assert str(LAT) not in listing.get_data(as_text=True)


def test_audit_values_coarsen_a_coordinate_that_changed_alone(placed):
    facilitator = team_access(placed.actor("facilitator"), placed.team)
    leader = team_access(placed.actor("leader"), placed.team)
    assert places.audit_values(facilitator, {"latitude": LAT}) == {"latitude": AREA[0]}
    assert places.audit_values(facilitator, {"display_name": "Ann", "longitude": LON}) == {
        "display_name": "Ann", "longitude": AREA[1]}
    assert places.audit_values(leader, {"latitude": LAT}) == {"latitude": LAT}
    assert places.audit_values(facilitator, {"display_name": "Ann"}) == {"display_name": "Ann"}
    assert places.audit_values(facilitator, None) is None
