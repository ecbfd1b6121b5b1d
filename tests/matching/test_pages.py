"""The pages: each side can do its part with plain forms, sees only what it may,
and bad input comes back as a form with the errors tied to the fields."""

from __future__ import annotations

import re

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import Match, MatchState, Vacancy
from careteams.matching.services.matches import invite_worker
from careteams.matching.services.profiles import get_own_profile
from careteams.members.models import MemberClass
from tests.factories import PASSWORD, MembershipFactory
from tests.helpers import pass_second_factor
from tests.matching.conftest import actor, make_worker, post_vacancy

TOKEN = re.compile(rb'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def login(client, person) -> None:
    """Log in through the real form (pages use the session cookie, not bearer tokens)."""
    db.session.commit()
    page = client.get("/login")
    token = TOKEN.search(page.data).group(1).decode()
    response = client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    pass_second_factor(client, person)  # staff only


def token_of(client, url: str) -> str:
    return TOKEN.search(client.get(url).data).group(1).decode()


def test_team_posts_a_vacancy_and_invites_from_suggestions(world, client):
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    login(client, world.leader)
    url = f"/teams/{world.team.id}/vacancies"
    page = client.get(url)
    assert page.status_code == 200 and b'<label for="needs">' in page.data
    t = token_of(client, url)
    bad = client.post(url, data={"needs": "", "windows": "Caturday 9-10", "csrf_token": t})
    assert bad.status_code == 422
    assert b'id="windows-error"' in bad.data and b'aria-invalid="true"' in bad.data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vacancy)) == 0
    made = client.post(url, data={
        "needs": "Help with breakfast", "windows": "Monday 08:00-11:00\nWednesday 08:00-11:00",
        "required_skill_ids": [str(world.skills["Personal care"].id)], "languages": "English", "csrf_token": t})
    assert made.status_code == 303
    vacancy_page = client.get(made.headers["Location"])
    assert vacancy_page.status_code == 200
    assert b"Invite Wendy" in vacancy_page.data and b"Ali" not in vacancy_page.data
    assert worker.email.encode() not in vacancy_page.data
    vacancy = db.session.scalar(sa.select(Vacancy))
    invited = client.post(f"/vacancies/{vacancy.id}/invite", data={"person_id": str(worker.id), "csrf_token": t})
    assert invited.status_code == 303
    assert db.session.scalar(sa.select(Match.state)) == MatchState.invited


def test_worker_answers_and_sees_more_after_yes(world, client):
    worker = make_worker(world.coop, "Wendy Ali", skills=[world.skills["Personal care"]])
    vacancy = post_vacancy(world)
    match = invite_worker(actor(world.leader), vacancy.id, worker.id)
    login(client, worker)
    listing = client.get(f"/coops/{world.coop.slug}/vacancies")
    assert listing.status_code == 200 and b"Your matches" in listing.data
    before = client.get(f"/matches/{match.id}")
    assert b"Yes, I&#39;d like to go ahead" in before.data and b"Ann" not in before.data
    assert b"Approve after review" not in before.data
    t = token_of(client, f"/matches/{match.id}")
    answered = client.post(f"/matches/{match.id}/act", data={"action": "answer_yes", "csrf_token": t})
    assert answered.status_code == 303
    after = client.get(f"/matches/{match.id}")
    assert b"Ann's team" in after.data and b"review" in after.data
    again = client.post(f"/matches/{match.id}/act", data={"action": "answer_yes", "csrf_token": t},
                        follow_redirects=True)
    assert b"already been answered" in again.data


def test_worker_profile_form_and_csrf(world, client):
    person = MembershipFactory(cooperative=world.coop, member_class=MemberClass.worker).person
    login(client, person)
    url = f"/coops/{world.coop.slug}/worker-profile"
    assert client.get(url).status_code == 200
    form = {"employment_type": "independent", "travel_km": "5", "postcode": "hx7 7ab",
            "windows": "Monday 09:00-12:00"}
    assert client.post(url, data=form).status_code == 400  # no CSRF token
    t = token_of(client, url)
    bad = client.post(url, data={**form, "csrf_token": t})
    assert bad.status_code == 422 and b'id="hourly_rate_pence-error"' in bad.data
    good = client.post(url, data={**form, "hourly_rate": "14.50", "skill_ids": [str(world.skills["Driving"].id)],
                                  "languages": "English, Urdu", "available": "yes", "csrf_token": t})
    assert good.status_code == 303
    profile = get_own_profile(actor(person), world.coop)
    assert profile.hourly_rate_pence == 1450 and profile.languages == ["English", "Urdu"]
    # The postcode, normalised, and its point from the fixed geocoder (no coordinates typed).
    assert (profile.postcode, profile.latitude, profile.longitude, profile.district) == ("HX7 7AB", 53.7, -1.9, "HX7")
    assert [s.name for s in profile.skills] == ["Driving"]
    assert b"Monday 09:00-12:00" in client.get(url).data


def test_facilitator_pages(world, client):
    login(client, world.facilitator)
    assert client.get(f"/coops/{world.coop.slug}/matching/queue").status_code == 200
    report = client.get(f"/coops/{world.coop.slug}/matching/report")
    assert report.status_code == 200 and b"Matching success" in report.data


def test_pages_refuse_the_wrong_people(world, client):
    login(client, world.leader)
    assert client.get(f"/coops/{world.coop.slug}/matching/queue").status_code == 403
    assert client.get(f"/coops/{world.coop.slug}/matching/report").status_code == 403
    client.post("/logout", data={"csrf_token": token_of(client, f"/teams/{world.team.id}/vacancies")})
    login(client, world.outsider)
    assert client.get(f"/teams/{world.team.id}/vacancies").status_code == 404
