"""Logging in and out, invitations, password resets, API tokens and rate limits."""

from __future__ import annotations

import re

import pytest

from careteams.auth import services as auth
from careteams.extensions import db
from careteams.members.models import ContactChannel, StaffRoleName
from tests.factories import PASSWORD, CooperativeFactory, PersonFactory, StaffRoleFactory
from tests.helpers import csrf_from, login


def test_login_page_is_accessible_html(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="en-GB">' in html
    assert 'href="#main"' in html  # skip link
    assert re.search(r'<label for="email">', html) and re.search(r'<label for="password">', html)


def test_login_then_home_shows_what_i_can_do(client):
    coop = CooperativeFactory(name="Valley Care")
    person = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator, person__name="Fran Nash").person
    response = login(client, person.email, PASSWORD)
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Hello, Fran" in home
    assert "Valley Care" in home and "Facilitator" in home


def test_wrong_password_shows_a_clear_error(client):
    person = PersonFactory()
    response = login(client, person.email, "not the password")
    assert response.status_code == 401
    assert "Email or mobile number or password is wrong." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out


def test_empty_login_form_errors_are_tied_to_fields(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    assert 'aria-invalid="true"' in html


def test_login_without_csrf_token_is_refused(client):
    person = PersonFactory()
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_open_redirect_is_refused(client):
    person = PersonFactory()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/", data={"email": person.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_logout_needs_post_with_csrf(client):
    person = PersonFactory()
    login(client, person.email, PASSWORD)
    assert client.get("/logout").status_code == 405
    home = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert client.get("/").status_code == 302


def test_login_is_rate_limited(client):
    person = PersonFactory()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    statuses = [client.post("/login", data={"email": person.email, "password": "nope nope", "csrf_token": token}).status_code
                for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


def test_invitation_link_sets_password_once(client, app, mail_outbox):
    coop = CooperativeFactory()
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    newcomer = PersonFactory(password_hash=None, preferred_channel=ContactChannel.email)
    with app.test_request_context():
        token = auth.send_invitation(newcomer, facilitator, coop.name)
    db.session.commit()
    assert len(mail_outbox) == 1 and token in mail_outbox[0].body
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200
    csrf = csrf_from(page.get_data(as_text=True))
    short = client.post(f"/invite/{token}", data={"password": "short", "confirm": "short", "csrf_token": csrf})
    assert short.status_code == 422
    done = client.post(f"/invite/{token}", data={"password": "a long new password", "confirm": "a long new password", "csrf_token": csrf})
    assert done.status_code == 302
    assert client.get(f"/invite/{token}").status_code == 404  # used
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert login(client, newcomer.email, "a long new password").status_code == 302


def test_expired_invitation_is_refused(client, app):
    newcomer = PersonFactory(password_hash=None)
    with app.test_request_context():
        token = auth.send_invitation(newcomer, None, "Co-op")
    from careteams.auth.models import OneTimeLink
    from careteams.db import utcnow

    link = db.session.scalars(db.select(OneTimeLink)).one()
    link.expires_at = utcnow()
    assert client.get(f"/invite/{token}").status_code == 404


def test_password_reset_by_email_and_old_sessions_end(client, app, mail_outbox):
    person = PersonFactory(preferred_channel=ContactChannel.email)
    other_browser = app.test_client()
    login(other_browser, person.email, PASSWORD)
    assert other_browser.get("/").status_code == 200
    csrf = csrf_from(client.get("/reset").get_data(as_text=True))
    assert client.post("/reset", data={"email": person.email, "csrf_token": csrf}).status_code == 200
    link = re.search(r"http://[^\s]+/reset/(\S+)", mail_outbox[0].body).group(1)
    page = client.get(f"/reset/{link}")
    csrf = csrf_from(page.get_data(as_text=True))
    client.post(f"/reset/{link}", data={"password": "another long password", "confirm": "another long password", "csrf_token": csrf})
    assert other_browser.get("/").status_code == 302  # logged out everywhere else
    assert login(app.test_client(), person.email, "another long password").status_code == 302


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(client, mail_outbox):
    csrf = csrf_from(client.get("/reset").get_data(as_text=True))
    response = client.post("/reset", data={"email": "nobody@example.org", "csrf_token": csrf})
    assert response.status_code == 200 and "If that address has an account" in response.get_data(as_text=True)
    assert mail_outbox == []


def test_api_token_lifecycle(client):
    person = PersonFactory()
    created = client.post("/api/v1/tokens", json={"email": person.email, "password": PASSWORD, "name": "my script"})
    assert created.status_code == 201
    secret = created.get_json()["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["id"] == person.id
    listed = client.get("/api/v1/tokens", headers=headers).get_json()
    assert [t["name"] for t in listed] == ["my script"]
    assert "token" not in listed[0]  # the secret is shown once only
    assert client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_cannot_revoke_someone_elses_token(client, auth_headers):
    mine, theirs = PersonFactory(), PersonFactory()
    token, _ = auth.create_api_token(theirs, "theirs")
    response = client.delete(f"/api/v1/tokens/{token.id}", headers=auth_headers(mine))
    assert response.status_code == 404
    assert token.revoked_at is None


def test_inactive_person_cannot_log_in(client):
    person = PersonFactory(active=False)
    assert login(client, person.email, PASSWORD).status_code == 401


@pytest.mark.parametrize("stored", [None, "garbage"])
def test_missing_or_broken_hash_never_matches(stored):
    from careteams.auth.passwords import verify_password

    assert verify_password(stored, "anything at all") is False


def test_rate_limit_is_per_account_so_a_shared_office_can_log_in_many_people(client):
    people = [PersonFactory() for _ in range(12)]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for person in people:
        response = client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        token = csrf_from(client.get("/login").get_data(as_text=True))


def test_bearer_token_wins_over_an_anonymous_session_cookie(client):
    person = PersonFactory()
    client.get("/login")  # the browser now holds a session cookie with a CSRF token only
    created = client.post("/api/v1/tokens", json={"email": person.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {created.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["id"] == person.id
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer ct_wrong"}).status_code == 401
