"""The account pages refuse a form with the shared helper (careteams/web/forms.py,
issue 16): what was typed is kept (never a password), each problem is beside its field
and tied to it, in plain words; a wrong login says one generic thing; nothing is written."""

from __future__ import annotations

import re
from html import unescape

from careteams.auth import services as auth
from careteams.extensions import db
from careteams.members.models import ContactChannel, StaffRoleName
from tests.factories import PASSWORD, CooperativeFactory, PersonFactory, StaffRoleFactory
from tests.helpers import csrf_from, login

SECRET = "my secret attempt 42"


def _html(response) -> str:
    return unescape(response.get_data(as_text=True))


def _no_password_echoed(html: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in html
    for tag in re.findall(r'<input[^>]*type="password"[^>]*>', html):
        assert 'value="' not in tag or 'value=""' in tag, tag


def test_a_wrong_password_is_one_generic_form_level_message_keeping_the_email(client):
    person = PersonFactory(email="wendy@example.org")
    response = login(client, "wendy@example.org", SECRET)
    assert response.status_code == 401
    html = _html(response)
    assert "Email or mobile number or password is wrong." in html and 'class="error-summary"' in html
    assert 'value="wendy@example.org"' in html
    assert 'id="password-error"' not in html and 'id="email-error"' not in html  # no field blamed
    _no_password_echoed(html, SECRET)
    assert person.email == "wendy@example.org" and client.get("/").status_code == 302


def test_an_unknown_account_reads_exactly_like_a_wrong_password(client):
    PersonFactory(email="wendy@example.org")
    known = _html(login(client, "wendy@example.org", SECRET))
    unknown = _html(login(client, "nobody@example.org", SECRET))
    strip = lambda h: re.sub(r'(value|content)="[^"]*"', "", h)  # noqa: E731  (tokens and the typed email)
    assert strip(known) == strip(unknown)


def test_an_inactive_account_reads_like_a_wrong_password_too(client):
    PersonFactory(email="gone@example.org", active=False)
    response = login(client, "gone@example.org", PASSWORD)
    assert response.status_code == 401 and "Email or mobile number or password is wrong." in _html(response)


def test_a_malformed_email_is_said_beside_the_field_and_kept(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "wendy at home", "password": SECRET, "csrf_token": token})
    assert response.status_code == 422
    html = _html(response)
    assert 'id="email-error"' in html and "Enter an email address like name@example.org." in html
    assert 'aria-describedby="email-error"' in html and 'value="wendy at home"' in html
    assert "<title>Error: " in html
    _no_password_echoed(html, SECRET)


def _invitation(app) -> tuple:
    coop = CooperativeFactory()
    facilitator = StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person
    newcomer = PersonFactory(password_hash=None, preferred_channel=ContactChannel.email)
    with app.test_request_context():
        token = auth.send_invitation(newcomer, facilitator, coop.name)
    db.session.commit()
    return token, newcomer


def test_a_short_password_on_an_invitation_is_beside_the_field_never_echoed(client, app, mail_outbox):
    token, newcomer = _invitation(app)
    csrf = csrf_from(client.get(f"/invite/{token}").get_data(as_text=True))
    response = client.post(f"/invite/{token}", data={"password": "short pw", "confirm": "short pw", "csrf_token": csrf})
    assert response.status_code == 422
    html = _html(response)
    assert 'id="password-error"' in html and "Use at least" in html
    assert 'aria-describedby="password-hint password-error"' in html
    _no_password_echoed(html, "short pw")
    db.session.expire_all()
    assert newcomer.password_hash is None
    assert client.get(f"/invite/{token}").status_code == 200  # the link is not spent


def test_two_different_passwords_are_said_beside_the_second_box(client, app, mail_outbox):
    token, newcomer = _invitation(app)
    csrf = csrf_from(client.get(f"/invite/{token}").get_data(as_text=True))
    response = client.post(f"/invite/{token}", data={"password": "a long new password",
                                                     "confirm": "a long other password", "csrf_token": csrf})
    assert response.status_code == 422
    html = _html(response)
    assert 'id="confirm-error"' in html and "The two passwords are not the same." in html
    _no_password_echoed(html, "a long new password", "a long other password")
    db.session.expire_all()
    assert newcomer.password_hash is None


def test_a_reset_request_with_a_bad_email_keeps_it_and_sends_nothing(client, mail_outbox):
    csrf = csrf_from(client.get("/reset").get_data(as_text=True))
    response = client.post("/reset", data={"email": "not an email", "csrf_token": csrf})
    assert response.status_code == 422
    html = _html(response)
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    assert 'value="not an email"' in html
    assert mail_outbox == []
