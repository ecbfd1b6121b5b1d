"""Places, not coordinates (issue 18): postcodes in, points from a geocoder behind one
interface (careteams/geo.py), never the network in tests or the demo; saving never fails
because the geocoder did; a place still waiting is left out of distance filtering and
the page says so; the clock job finds it later."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

import config
from careteams import geo
from careteams.db import utcnow
from careteams.extensions import db
from careteams.matching.models import CheckKind, Vacancy, WorkerProfile
from careteams.matching.services.suggestions import rank_candidates, suggest_vacancies
from careteams.members.models import MemberClass
from careteams.scheduler import load_jobs
from careteams.teams.models import Team
from tests.factories import PASSWORD, MembershipFactory, PostcodePlaceFactory, WorkerCheckFactory
from tests.helpers import pass_second_factor
from tests.matching.conftest import NOW, actor, make_worker, post_vacancy

TOKEN = re.compile(rb'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
COORDINATE_INPUT = re.compile(r'<input[^>]*name="(latitude|longitude)"|<label[^>]*>[^<]*(latitude|longitude)', re.I)


def login(client, person) -> None:
    db.session.commit()
    page = client.get("/login")
    token = TOKEN.search(page.data).group(1).decode()
    assert client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    pass_second_factor(client, person)


def token_of(client, url: str) -> str:
    return TOKEN.search(client.get(url).data).group(1).decode()


@pytest.fixture
def geocoder_down(app):
    """The app's fixed geocoder answers like one that cannot be reached (then it is back)."""
    fixed = app.extensions["geocoder"]
    fixed.down = True
    try:
        yield fixed
    finally:
        fixed.down = False


def run_retry_job():
    return load_jobs()["matching.geocode_places"].func(NOW)


def profile_form(**overrides) -> dict:
    form = {"employment_type": "independent", "hourly_rate": "15", "travel_km": "10", "postcode": "HX7 8AD",
            "windows": "Monday 09:00-12:00\nWednesday 09:00-12:00", "available": "yes"}
    form.update(overrides)
    return form


def new_worker(world, client):
    person = MembershipFactory(cooperative=world.coop, member_class=MemberClass.worker).person
    login(client, person)
    return person


# --- the interface ----------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "normal"), [
    ("hx78ab", "HX7 8AB"), (" HX7  8AB ", "HX7 8AB"), ("sw1a1aa", "SW1A 1AA"), ("m1 1ae", "M1 1AE"),
    ("HX7", None), ("HX7 8A", None), ("12345", None), ("", None), (None, None), ("HX7 8AB X", None),
])
def test_postcodes_are_checked_and_normalised(typed, normal):
    assert geo.normalise_postcode(typed) == normal


def test_the_fixed_table_knows_its_postcodes_and_nothing_else():
    table = geo.FixedTable()
    assert table.lookup("HX7 8AB") == geo.Place(53.742, -2.014, "HX7")
    assert table.lookup("ZZ9 9ZZ") is None
    table.down = True
    with pytest.raises(geo.GeocoderError):
        table.lookup("HX7 8AB")


def test_the_network_geocoder_is_never_configured_in_tests_development_or_the_demo(app):
    assert isinstance(app.extensions["geocoder"], geo.FixedTable)
    assert config.load("testing")["GEOCODER"] == "fixed"
    assert config.load("development")["GEOCODER"] == "fixed"  # `flask seed-demo` runs here
    assert config.load("production")["GEOCODER"] == "postcodes.io"
    assert isinstance(geo.make_geocoder({"GEOCODER": "postcodes.io"}), geo.PostcodesIo)
    with pytest.raises(RuntimeError):
        geo.make_geocoder({"GEOCODER": "guess"})


def test_the_demo_seed_never_asks_a_geocoder(app, monkeypatch):
    """Whatever geocoder is configured, seeding takes its points from the fixed table."""
    from careteams import demo

    class Refuses:
        def lookup(self, postcode):
            raise AssertionError("the demo asked the geocoder")

    monkeypatch.setitem(app.extensions, "geocoder", Refuses())
    demo.seed()
    profiles = db.session.scalars(sa.select(WorkerProfile)).all()
    assert profiles and all(p.postcode in geo.DEMO_PLACES and p.latitude is not None for p in profiles)
    teams = db.session.scalars(sa.select(Team)).all()
    assert teams and all(t.postcode in geo.DEMO_PLACES and t.latitude is not None for t in teams)
    assert all(v.latitude is not None for v in db.session.scalars(sa.select(Vacancy)))


class FakeResponse:
    def __init__(self, status_code: int, body=None):
        self.status_code, self._body = status_code, body

    def json(self):
        if self._body is None:
            raise ValueError("no JSON")
        return self._body


class FakeSession:
    """requests.Session's get, answering from a script; records what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def get(self, url, timeout=None):
        self.calls.append((url, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def found(postcode="LS1 1UR", lat=53.7965, lon=-1.5478):
    return FakeResponse(200, {"status": 200, "result": {"postcode": postcode, "latitude": lat, "longitude": lon,
                                                        "outcode": postcode.split()[0]}})


def test_postcodes_io_asks_once_then_answers_from_the_cache(app):
    session = FakeSession(found())
    io = geo.PostcodesIo("https://api.postcodes.io", timeout=3.0, session=session)
    assert io.lookup("LS1 1UR") == geo.Place(53.7965, -1.5478, "LS1")
    assert session.calls == [("https://api.postcodes.io/postcodes/LS1%201UR", 3.0)]
    assert db.session.get(geo.PostcodePlace, "LS1 1UR").latitude == 53.7965
    assert io.lookup("LS1 1UR") == geo.Place(53.7965, -1.5478, "LS1")
    assert len(session.calls) == 1  # the second answer came from the table


def test_postcodes_io_asks_again_when_the_cache_is_old(app):
    PostcodePlaceFactory(postcode="LS1 1UR", latitude=1.0, longitude=1.0, looked_up_at=utcnow() - timedelta(days=400))
    session = FakeSession(found())
    io = geo.PostcodesIo(session=session, cache_days=180)
    assert io.lookup("LS1 1UR").latitude == 53.7965 and len(session.calls) == 1
    db.session.expire_all()
    assert db.session.get(geo.PostcodePlace, "LS1 1UR").latitude == 53.7965


def test_postcodes_io_not_found_is_none_and_not_cached(app):
    io = geo.PostcodesIo(session=FakeSession(FakeResponse(404, {"status": 404, "error": "Postcode not found"})))
    assert io.lookup("ZZ9 9ZZ") is None
    assert db.session.get(geo.PostcodePlace, "ZZ9 9ZZ") is None


@pytest.mark.parametrize("answer", [requests.Timeout("slow"), requests.ConnectionError("no route"),
                                    FakeResponse(500, {"status": 500}), FakeResponse(200, None)])
def test_postcodes_io_that_cannot_answer_raises_the_geocoder_error(app, answer):
    io = geo.PostcodesIo(session=FakeSession(answer))
    with pytest.raises(geo.GeocoderError):
        io.lookup("LS1 1UR")
    assert db.session.get(geo.PostcodePlace, "LS1 1UR") is None


# --- pages: a postcode, never coordinates -------------------------------------------------


def test_no_page_asks_for_coordinates(world, client):
    """The pages where a place is given: worker profile, new team, team settings, vacancies."""
    for person, pages in ((world.leader, [f"/teams/{world.team.id}/settings", f"/teams/{world.team.id}/vacancies"]),
                          (world.facilitator, ["/teams/new"])):  # for Olive, a supported member with no team
        login(client, person)
        for url in pages:
            page = client.get(url)
            assert page.status_code == 200, url
            assert 'name="postcode"' in page.text, url
            assert not COORDINATE_INPUT.search(page.text), url
        client.post("/logout", data={"csrf_token": token_of(client, pages[0])})
    new_worker(world, client)
    page = client.get(f"/coops/{world.coop.slug}/worker-profile")
    assert 'name="postcode"' in page.text and not COORDINATE_INPUT.search(page.text)


def test_no_template_or_web_form_has_a_coordinate_field():
    """Every page, including ones not opened above: no template renders a coordinate input,
    and no WTForms form has a latitude or longitude field."""
    import careteams
    from careteams.web.forms import PageForm

    root = Path(careteams.__file__).parent / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r'name="(latitude|longitude)"|form\.(latitude|longitude)', text), template
    from careteams.domains import domain_modules

    domain_modules("forms")
    forms = set()
    todo = [PageForm]
    while todo:
        cls = todo.pop()
        forms.add(cls)
        todo.extend(cls.__subclasses__())
    assert len(forms) > 5
    for form in forms:
        assert not {"latitude", "longitude"} & set(dir(form)), form


def test_a_worker_gives_a_postcode_and_gets_its_point(world, client):
    person = new_worker(world, client)
    url = f"/coops/{world.coop.slug}/worker-profile"
    r = client.post(url, data={**profile_form(postcode="hx7 8ad"), "csrf_token": token_of(client, url)})
    assert r.status_code == 303
    profile = db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == person.id))
    assert (profile.postcode, profile.latitude, profile.longitude, profile.district) == ("HX7 8AD", 53.744, -2.012, "HX7")
    assert not profile.geocode_pending
    assert 'value="HX7 8AD"' in client.get(url).text


def test_a_postcode_that_does_not_exist_is_refused_beside_the_field(world, client):
    person = new_worker(world, client)
    url = f"/coops/{world.coop.slug}/worker-profile"
    r = client.post(url, data={**profile_form(postcode="ZZ9 9ZZ"), "csrf_token": token_of(client, url)})
    assert r.status_code == 422
    assert 'id="postcode-error"' in r.text and "We could not find that postcode" in r.text
    assert 'value="ZZ9 9ZZ"' in r.text and 'aria-invalid="true"' in r.text  # what was typed stays
    assert db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == person.id)) is None


def test_a_postcode_not_shaped_like_one_is_refused_in_plain_words(world, client):
    new_worker(world, client)
    url = f"/coops/{world.coop.slug}/worker-profile"
    r = client.post(url, data={**profile_form(postcode="near the mill"), "csrf_token": token_of(client, url)})
    assert r.status_code == 422 and "Enter a UK postcode like HX7 8AB" in r.text
    r = client.post(url, data={**profile_form(postcode=""), "csrf_token": token_of(client, url)})
    assert r.status_code == 422 and 'id="postcode-error"' in r.text


# --- the geocoder is down: saved, left out, said, retried -----------------------------------


def test_a_pending_profile_is_left_out_and_says_so_until_the_job_finds_it(world, client, geocoder_down):
    vacancy = post_vacancy(world, required_skill_ids=[], nice_skill_ids=[])
    near = make_worker(world.coop, "Near Neighbour")  # geocoded: suggested, as before
    person = new_worker(world, client)
    url = f"/coops/{world.coop.slug}/worker-profile"
    # Wendy's postcode's point is about 0.2 km from the vacancy.
    r = client.post(url, data={**profile_form(postcode="HX7 8AD"), "csrf_token": token_of(client, url)})
    assert r.status_code == 303  # saving never fails because geocoding did
    profile = db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == person.id))
    assert (profile.postcode, profile.latitude, profile.longitude, profile.geocode_pending) == ("HX7 8AD", None, None, True)
    for kind in (CheckKind.enhanced_dbs, CheckKind.right_to_work):  # in date: only the place keeps her out
        WorkerCheckFactory(worker_profile=profile, kind=kind, checked_on=NOW.date() - timedelta(days=30))
    db.session.commit()
    assert "We could not find this postcode's place yet" in client.get(url).text
    assert "you will not be suggested" in client.get(url).text.lower()
    page = client.get(f"/coops/{world.coop.slug}/vacancies")
    assert "We could not find your postcode's place yet" in page.text
    assert suggest_vacancies(actor(person), world.coop)["place_missing"] is True
    suggested = {c["person_id"] for c in rank_candidates(vacancy, NOW)}
    assert near.id in suggested and person.id not in suggested

    assert run_retry_job() == 0  # still down: nothing found, still pending
    db.session.expire_all()
    assert db.session.get(WorkerProfile, profile.id).geocode_pending

    geocoder_down.down = False
    assert run_retry_job() == 1
    db.session.expire_all()
    profile = db.session.get(WorkerProfile, profile.id)
    assert (profile.latitude, profile.longitude, profile.geocode_pending) == (53.744, -2.012, False)
    assert person.id in {c["person_id"] for c in rank_candidates(db.session.get(Vacancy, vacancy.id), NOW)}
    assert "place yet" not in client.get(url).text
    assert [v["vacancy"]["id"] for v in suggest_vacancies(actor(person), world.coop)["vacancies"]] == [vacancy.id]


def test_a_postcode_the_job_finds_does_not_exist_stops_waiting_and_asks_to_check_it(world, client, geocoder_down):
    person = new_worker(world, client)
    url = f"/coops/{world.coop.slug}/worker-profile"
    assert client.post(url, data={**profile_form(postcode="ZZ9 9ZZ"),
                                  "csrf_token": token_of(client, url)}).status_code == 303
    geocoder_down.down = False
    assert run_retry_job() == 0
    db.session.expire_all()
    profile = db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == person.id))
    assert (profile.geocode_pending, profile.latitude) == (False, None)
    assert "We could not find your postcode (ZZ9 9ZZ). Check it below" in client.get(url).text


def test_a_pending_vacancy_is_left_out_and_says_so_until_the_job_finds_it(world, client, geocoder_down):
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    login(client, world.leader)
    url = f"/teams/{world.team.id}/vacancies"
    r = client.post(url, data={"needs": "Help with breakfast", "windows": "Monday 09:00-11:00",
                               "required_skill_ids": [str(world.skills["Personal care"].id)], "postcode": "hx7 8ab",
                               "csrf_token": token_of(client, url)})
    assert r.status_code == 303
    vacancy = db.session.scalar(sa.select(Vacancy).where(Vacancy.team_id == world.team.id))
    assert (vacancy.postcode, vacancy.latitude, vacancy.geocode_pending, vacancy.district) == ("HX7 8AB", None, True, "HX7")
    page = client.get(f"/vacancies/{vacancy.id}")
    assert "We could not find this postcode's place yet" in page.text
    assert rank_candidates(vacancy, NOW) == []
    assert suggest_vacancies(actor(worker), world.coop)["vacancies"] == []

    geocoder_down.down = False
    assert run_retry_job() == 1
    db.session.expire_all()
    vacancy = db.session.get(Vacancy, vacancy.id)
    assert (vacancy.latitude, vacancy.longitude) == (53.742, -2.014)
    assert [c["person_id"] for c in rank_candidates(vacancy, NOW)] == [worker.id]
    assert "place yet" not in client.get(f"/vacancies/{vacancy.id}").text


def test_a_vacancy_postcode_that_does_not_exist_is_refused_keeping_the_form(world, client):
    login(client, world.leader)
    url = f"/teams/{world.team.id}/vacancies"
    r = client.post(url, data={"needs": "Help with breakfast", "windows": "Monday 09:00-11:00", "postcode": "ZZ9 9ZZ",
                               "csrf_token": token_of(client, url)})
    assert r.status_code == 422 and "We could not find that postcode" in r.text
    assert 'value="ZZ9 9ZZ"' in r.text and "Help with breakfast" in r.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vacancy)) == 0


def test_team_settings_take_a_postcode_kept_when_the_geocoder_is_down(world, client, geocoder_down):
    login(client, world.leader)
    url = f"/teams/{world.team.id}/settings"
    r = client.post(url, data={"display_name": "Ann", "postcode": "hd7 5ab", "csrf_token": token_of(client, url)})
    assert r.status_code == 302
    db.session.expire_all()
    team = db.session.get(Team, world.team.id)
    assert (team.postcode, team.postcode_district, team.latitude, team.geocode_pending) == ("HD7 5AB", "HD7", None, True)
    assert "We could not find this postcode's place yet" in client.get(url).text
    geocoder_down.down = False
    assert run_retry_job() == 1
    db.session.expire_all()
    team = db.session.get(Team, world.team.id)
    assert (team.latitude, team.longitude, team.geocode_pending) == (53.612, -1.914, False)


def test_the_full_postcode_of_a_team_is_for_those_allowed_the_address(world, client, auth_headers):
    world.team.postcode = "HX7 8AB"
    db.session.commit()
    own = client.get(f"/api/v1/teams/{world.team.id}", headers=auth_headers(world.leader)).get_json()["team"]
    assert own["postcode"] == "HX7 8AB"
    seen = client.get(f"/api/v1/teams/{world.team.id}", headers=auth_headers(world.facilitator)).get_json()["team"]
    assert seen["postcode"] is None and seen["postcode_district"] == "HX7" and seen["location_is_area"] is True


def test_the_api_takes_a_postcode_or_an_integrations_point(world, client, auth_headers):
    person = MembershipFactory(cooperative=world.coop, member_class=MemberClass.worker).person
    headers = auth_headers(person)
    url = f"/api/v1/cooperatives/{world.coop.slug}/worker-profile"
    body = {"employment_type": "employed", "travel_km": 10}
    r = client.put(url, json={**body, "postcode": "hx78ad"}, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["postcode"], r.get_json()["latitude"], r.get_json()["geocode_pending"]) == ("HX7 8AD", 53.744, False)
    r = client.put(url, json={**body, "postcode": "ZZ9 9ZZ"}, headers=headers)
    assert r.status_code == 422 and "postcode" in r.get_json()["error"]["details"]["fields"]
    r = client.put(url, json={**body, "latitude": 53.0, "longitude": -2.0}, headers=headers)
    assert r.status_code == 200 and (r.get_json()["latitude"], r.get_json()["postcode"]) == (53.0, None)
    r = client.put(url, json={**body, "latitude": 53.0}, headers=headers)
    assert r.status_code == 422
    r = client.put(url, json=body, headers=headers)
    assert r.status_code == 422 and "postcode" in r.get_json()["error"]["details"]["fields"]


def test_a_team_started_through_the_api_with_a_postcode_gets_its_point_and_district(world, client, auth_headers):
    headers = auth_headers(world.outsider)
    r = client.post("/api/v1/teams", json={"cooperative": world.coop.slug, "display_name": "Olive",
                                           "postcode": "ZZ9 9ZZ"}, headers=headers)
    assert r.status_code == 422 and "postcode" in r.get_json()["error"]["details"]["fields"]
    r = client.post("/api/v1/teams", json={"cooperative": world.coop.slug, "display_name": "Olive",
                                           "postcode": "hd75ab"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["postcode"], body["postcode_district"], body["latitude"], body["geocode_pending"]) == (
        "HD7 5AB", "HD7", 53.612, False)


def test_a_vacancy_moves_by_postcode_through_the_api(world, client, auth_headers):
    vacancy = post_vacancy(world)
    assert (vacancy.postcode, vacancy.latitude) == (None, world.team.latitude)  # the team's point, as before
    headers = auth_headers(world.leader)
    r = client.patch(f"/api/v1/vacancies/{vacancy.id}", json={"postcode": "hx7 6aa"}, headers=headers)
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    vacancy = db.session.get(Vacancy, vacancy.id)
    assert (vacancy.postcode, vacancy.latitude, vacancy.longitude, vacancy.district) == ("HX7 6AA", 53.79, -2.1, "HX7")


def test_the_team_audit_shows_the_full_postcode_only_to_those_allowed_the_address(world):
    from careteams.teams.services import places
    from careteams.teams.services.access import team_access

    values = {"postcode": "HX7 8AB", "latitude": 53.742, "longitude": -2.014}
    assert places.audit_values(team_access(actor(world.leader), world.team), values) == values
    seen = places.audit_values(team_access(actor(world.facilitator), world.team), values)
    assert seen["postcode"] == "HX7" and seen["latitude"] != 53.742
