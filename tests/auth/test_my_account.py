"""My account (issue 17): name, email and mobile changed only with a code sent to the
new one, how to reach me, password, sign-in methods, sessions and API tokens.
Refused: another person's session or token (404), wrong/expired/used-up codes, bad
input (the message beside the field, what was typed kept)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from careteams.auth import account
from careteams.auth.enums import ContactKind
from careteams.auth.models import ApiToken, ContactChange, LoginSession
from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.enums import ContactChannel
from careteams.members.models import Person
from careteams.members.rules import Reach, reach_by
from careteams.sms.models import WebNotice
from careteams.sms.services import notify_person
from tests.factories import PASSWORD, ApiTokenFactory, LoginSessionFactory, PersonFactory
from tests.helpers import csrf_from, login

NEW_PHONE = "07700 900777"
NEW_PHONE_E164 = "+447700900777"


def _logged_in(client, person=None):
    person = person or PersonFactory()
    response = login(client, person.email, PASSWORD)
    assert response.status_code == 302
    return person


def _post(client, url, data=None, page=None):
    token = csrf_from(client.get(page or "/my/account/").get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _fresh(person) -> Person:
    db.session.expire_all()
    return db.session.get(Person, person.id)


def _code_from(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def _error_beside(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="error-message" id="{field_id}-error">(.*?)</p>', html, flags=re.S)
    assert found, f"no error beside {field_id}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


# --- pages need a login ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/my/account/", "/my/account/sessions", "/my/account/data", "/my/account/data.json"])
def test_a_stranger_is_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_overview_shows_her_details_and_sign_in_methods(client):
    person = _logged_in(client)
    html = client.get("/my/account/").get_data(as_text=True)
    assert person.email in html and person.phone in html
    assert "Password: Set" in html and "By text message" in html


# --- name ------------------------------------------------------------------------------------


def test_she_changes_her_name(client):
    person = _logged_in(client)
    response = _post(client, "/my/account/name", {"name": "  Nora Batty "}, page="/my/account/name")
    assert response.status_code == 302
    assert _fresh(person).name == "Nora Batty"


def test_an_empty_name_is_refused_beside_the_field(client):
    person = _logged_in(client)
    before = person.name
    response = _post(client, "/my/account/name", {"name": "   "}, page="/my/account/name")
    assert response.status_code == 422
    assert _error_beside(response.get_data(as_text=True), "name") == "Error: Enter your name."
    assert _fresh(person).name == before


# --- mobile and email: a code sent to the new one -------------------------------------------------


def test_a_new_mobile_takes_effect_only_with_the_code_sent_to_it(client, sms_outbox):
    person = _logged_in(client)
    old = person.phone
    response = _post(client, "/my/account/phone", {"phone": NEW_PHONE}, page="/my/account/phone")
    assert response.status_code == 302
    assert _fresh(person).phone == old  # not yet
    [text] = [t for t in sms_outbox if t.to == NEW_PHONE_E164]
    code = _code_from(text.body)
    response = _post(client, "/my/account/phone/code", {"code": code}, page="/my/account/phone")
    assert response.status_code == 302
    assert _fresh(person).phone == NEW_PHONE_E164
    assert db.session.scalar(sa.select(ContactChange).where(ContactChange.person_id == person.id)) is None
    assert any(t.to == old and "changed" in t.body for t in sms_outbox)  # the old number is told


def test_a_new_email_takes_effect_only_with_the_code_sent_to_it(client, mail_outbox):
    person = _logged_in(client)
    old = person.email
    _post(client, "/my/account/email", {"email": "Nora.New@Example.org"}, page="/my/account/email")
    assert _fresh(person).email == old
    [mail] = [m for m in mail_outbox if m.to == ["nora.new@example.org"]]
    _post(client, "/my/account/email/code", {"code": _code_from(mail.body)}, page="/my/account/email")
    assert _fresh(person).email == "nora.new@example.org"
    assert any(m.to == [old] and "changed" in m.subject for m in mail_outbox)


def test_a_wrong_code_is_refused_beside_the_field_and_counted(client, sms_outbox):
    person = _logged_in(client)
    _post(client, "/my/account/phone", {"phone": NEW_PHONE}, page="/my/account/phone")
    code = _code_from([t for t in sms_outbox if t.to == NEW_PHONE_E164][0].body)
    wrong = "000000" if code != "000000" else "111111"
    response = _post(client, "/my/account/phone/code", {"code": wrong}, page="/my/account/phone")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That code is wrong. You can try 4 more times." in _error_beside(html, "code")
    assert f'value="{wrong}"' in html  # what she typed is kept
    change = db.session.scalar(sa.select(ContactChange).where(ContactChange.person_id == person.id))
    db.session.refresh(change)
    assert change.tries == 1  # the refusal did not roll the count back
    assert _fresh(person).phone != NEW_PHONE_E164


def test_too_many_wrong_codes_drop_the_change_and_even_the_right_code_then_fails(client, sms_outbox):
    person = _logged_in(client)
    _post(client, "/my/account/phone", {"phone": NEW_PHONE}, page="/my/account/phone")
    code = _code_from([t for t in sms_outbox if t.to == NEW_PHONE_E164][0].body)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(account.MAX_TRIES - 1):
        _post(client, "/my/account/phone/code", {"code": wrong}, page="/my/account/phone")
    response = _post(client, "/my/account/phone/code", {"code": wrong}, page="/my/account/phone")
    assert "last try" in _error_beside(response.get_data(as_text=True), "code")
    response = _post(client, "/my/account/phone/code", {"code": code}, page="/my/account/phone")
    assert response.status_code == 422
    assert "Ask for a code first" in _error_beside(response.get_data(as_text=True), "code")
    assert _fresh(person).phone != NEW_PHONE_E164


def test_an_expired_code_is_refused(client, sms_outbox):
    person = _logged_in(client)
    _post(client, "/my/account/phone", {"phone": NEW_PHONE}, page="/my/account/phone")
    code = _code_from([t for t in sms_outbox if t.to == NEW_PHONE_E164][0].body)
    with time_machine.travel(utcnow() + account.CODE_TTL + timedelta(minutes=1)):
        # the login session is still live (idle limit 14 days)
        response = _post(client, "/my/account/phone/code", {"code": code}, page="/my/account/phone")
    assert response.status_code == 422
    assert "expired" in _error_beside(response.get_data(as_text=True), "code")
    assert _fresh(person).phone != NEW_PHONE_E164


@pytest.mark.parametrize(("path", "field", "typed", "message"), [
    ("/my/account/phone", "phone", "12345", "That is not a valid phone number."),
    ("/my/account/phone", "phone", "call me", "Enter a phone number, for example 07700 900123"),
    ("/my/account/email", "email", "nora@", "Enter an email address like name@example.org."),
])
def test_a_bad_new_contact_is_refused_beside_the_field_and_kept(client, path, field, typed, message):
    person = _logged_in(client)
    response = _post(client, path, {field: typed}, page=path)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in _error_beside(html, field)
    assert f'value="{typed}"' in html
    assert db.session.scalar(sa.select(ContactChange).where(ContactChange.person_id == person.id)) is None


def test_her_own_current_number_is_refused(client):
    _logged_in(client, PersonFactory(phone="+447700900123"))
    response = _post(client, "/my/account/phone", {"phone": "07700 900123"}, page="/my/account/phone")
    assert response.status_code == 422
    assert "already your mobile number" in _error_beside(response.get_data(as_text=True), "phone")


def test_someone_elses_number_gets_a_note_not_a_code_and_the_page_says_nothing(client, sms_outbox):
    other = PersonFactory(phone="+447700900555")
    person = _logged_in(client)
    response = _post(client, "/my/account/phone", {"phone": "07700900555"}, page="/my/account/phone")
    assert response.status_code == 302  # the same answer as for a free number: no account enumeration
    [text] = [t for t in sms_outbox if t.to == other.phone]
    assert "already belongs to an account" in text.body and not re.search(r"\d{6}", text.body)
    for guess in ("123456", "000000"):
        _post(client, "/my/account/phone/code", {"code": guess}, page="/my/account/phone")
    assert _fresh(person).phone != other.phone


# --- how to reach me -----------------------------------------------------------------------------


def test_web_only_means_notices_on_the_site_and_nothing_sent(client, sms_outbox, mail_outbox):
    person = _logged_in(client)
    response = _post(client, "/my/account/reach", {"reach": "web"}, page="/my/account/reach")
    assert response.status_code == 302
    person = _fresh(person)
    assert person.web_only and reach_by(person) == Reach.web
    assert notify_person(person, "A visit was added to your rota.", "test") == "web"
    db.session.commit()
    assert db.session.scalar(sa.select(WebNotice).where(WebNotice.person_id == person.id)) is not None
    assert [t for t in sms_outbox if t.to == person.phone] == []
    assert [m for m in mail_outbox if m.to == [person.email]] == []


def test_texts_need_a_mobile_number(client):
    person = PersonFactory(phone=None, preferred_channel=ContactChannel.email)
    _logged_in(client, person)
    response = _post(client, "/my/account/reach", {"reach": "text"}, page="/my/account/reach")
    assert response.status_code == 422
    assert "Add a mobile number first" in _error_beside(response.get_data(as_text=True), "reach")
    assert _fresh(person).preferred_channel == ContactChannel.email


def test_choosing_email_turns_web_only_off(app):
    person = PersonFactory(web_only=True)
    account.set_reach(person, Reach.email)
    assert not person.web_only and person.preferred_channel == ContactChannel.email
    assert reach_by(person) == Reach.email


def test_reach_by_falls_back_and_must_reach_overrides_web_only(app):
    assert reach_by(PersonFactory.build(preferred_channel=ContactChannel.sms, phone=None, web_only=False)) == Reach.email
    assert reach_by(PersonFactory.build(preferred_channel=ContactChannel.email, email=None, web_only=False)) == Reach.text
    web = PersonFactory.build(preferred_channel=ContactChannel.sms, web_only=True)
    assert reach_by(web) == Reach.web and reach_by(web, must_reach=True) == Reach.text


# --- password --------------------------------------------------------------------------------------


def test_she_changes_her_password_and_other_devices_are_signed_out(app, client):
    person = _logged_in(client)
    phone = app.test_client()
    _logged_in(phone, person)
    response = _post(client, "/my/account/password",
                     {"current": PASSWORD, "password": "a new long password", "confirm": "a new long password"},
                     page="/my/account/password")
    assert response.status_code == 302
    assert client.get("/my/account/").status_code == 200  # this browser stays signed in
    assert phone.get("/my/account/").status_code == 302  # the other is signed out
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert login(client, person.email, "a new long password").status_code == 302


def test_a_wrong_current_password_is_refused_beside_the_field(client):
    person = _logged_in(client)
    response = _post(client, "/my/account/password",
                     {"current": "not my password", "password": "a new long password", "confirm": "a new long password"},
                     page="/my/account/password")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That is not your current password." in _error_beside(html, "current")
    assert "not my password" not in html  # a password is never sent back
    assert login(client.application.test_client(), person.email, PASSWORD).status_code == 302


# --- sign-in methods: a hook ------------------------------------------------------------------------


def test_sign_in_methods_list_password_email_and_mobile_and_can_be_extended(app):
    person = PersonFactory()
    keys = [m.key for m in account.sign_in_methods(person)]
    assert keys == ["password", "email", "phone"]

    def totp(p):
        return [account.SignInMethod("totp", "Authenticator app", "Set up")]

    account.sign_in_method_source(totp)
    try:
        assert [m.key for m in account.sign_in_methods(person)][-1] == "totp"
    finally:
        account._SOURCES.remove(totp)
    assert [m.key for m in account.sign_in_methods(PersonFactory(phone=None, password_hash=None))] == ["password", "email"]


# --- sessions and tokens ------------------------------------------------------------------------------


def test_she_sees_and_ends_her_other_session(app, client):
    person = _logged_in(client)
    phone = app.test_client()
    _logged_in(phone, person)
    html = client.get("/my/account/sessions").get_data(as_text=True)
    assert "(this device)" in html
    rows = db.session.scalars(sa.select(LoginSession).where(LoginSession.person_id == person.id).order_by(LoginSession.id)).all()
    assert len(rows) == 2
    response = _post(client, f"/my/account/sessions/{rows[1].id}/end", page="/my/account/sessions")
    assert response.status_code == 302
    assert phone.get("/my/account/").status_code == 302
    assert client.get("/my/account/").status_code == 200


def test_sign_out_everywhere_else_keeps_this_one(app, client):
    person = _logged_in(client)
    others = [app.test_client() for _ in range(2)]
    for other in others:
        _logged_in(other, person)
    _post(client, "/my/account/sessions/end-others", page="/my/account/sessions")
    assert all(other.get("/my/account/").status_code == 302 for other in others)
    assert client.get("/my/account/").status_code == 200


def test_she_cannot_see_or_end_another_persons_session_or_token(client):
    other = PersonFactory()
    theirs = LoginSessionFactory(person=other, device="Safari on iPhone")
    their_token = ApiTokenFactory(person=other, name="their secret script")
    _logged_in(client)
    html = client.get("/my/account/sessions").get_data(as_text=True)
    assert "Safari on iPhone" not in html and "their secret script" not in html
    assert _post(client, f"/my/account/sessions/{theirs.id}/end", page="/my/account/sessions").status_code == 404
    assert _post(client, f"/my/account/tokens/{their_token.id}/revoke", page="/my/account/sessions").status_code == 404
    db.session.expire_all()
    assert db.session.get(LoginSession, theirs.id).ended_at is None
    assert db.session.get(ApiToken, their_token.id).revoked_at is None


def test_she_lists_and_revokes_her_token(client):
    person = _logged_in(client)
    token = ApiTokenFactory(person=person, name="my spreadsheet")
    assert "my spreadsheet" in client.get("/my/account/sessions").get_data(as_text=True)
    assert _post(client, f"/my/account/tokens/{token.id}/revoke", page="/my/account/sessions").status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert "my spreadsheet" not in client.get("/my/account/sessions").get_data(as_text=True)


def test_a_contact_change_is_per_person(client, sms_outbox):
    """Her pending change is not somebody else's: another person's code page knows nothing of it."""
    other = PersonFactory()
    account.request_contact_change(other, ContactKind.phone, NEW_PHONE)
    db.session.commit()
    _logged_in(client)
    html = client.get("/my/account/phone").get_data(as_text=True)
    assert "900777" not in html
    response = _post(client, "/my/account/phone/code", {"code": "123456"}, page="/my/account/phone")
    assert "Ask for a code first" in _error_beside(response.get_data(as_text=True), "code")


# --- every notification path honours the choice ---------------------------------------------------


def test_notify_tell_texts_emails_or_leaves_a_notice_as_she_chose(app, sms_outbox, mail_outbox):
    from careteams import notify

    texter = PersonFactory(phone="+447700900601", preferred_channel=ContactChannel.sms)
    emailer = PersonFactory(phone="+447700900602", preferred_channel=ContactChannel.email)
    web = PersonFactory(phone="+447700900603", preferred_channel=ContactChannel.sms, web_only=True)
    for person in (texter, emailer, web):
        notify.tell(person, "Your hours were confirmed.", subject="Hours confirmed")
    db.session.commit()
    assert [t.to for t in sms_outbox] == [texter.phone]
    assert [m.to for m in mail_outbox] == [[emailer.email]]
    notices = db.session.scalars(sa.select(WebNotice.person_id)).all()
    assert notices == [web.id]


def test_the_teams_and_hours_notices_leave_a_web_only_person_a_notice_and_send_nothing(app, sms_outbox, mail_outbox):
    from careteams.hours.services.common import notify_person as hours_notify
    from careteams.teams.services.common import tell
    from tests.factories import TeamFactory

    web = PersonFactory(phone="+447700900604", web_only=True)
    team = TeamFactory()
    with app.test_request_context():
        tell(web, team, "You are invited", "You are invited to a team.")
    hours_notify(web, "Hours to confirm", "You have hours to confirm.")
    db.session.commit()
    assert list(sms_outbox) == [] and list(mail_outbox) == []
    bodies = db.session.scalars(sa.select(WebNotice.body).where(WebNotice.person_id == web.id)).all()
    assert len(bodies) == 2 and any("invited" in b for b in bodies)


def test_an_invitation_still_reaches_a_web_only_person(app, sms_outbox):
    from careteams.auth.services import send_invitation

    web = PersonFactory(phone="+447700900605", web_only=True, password_hash=None)
    with app.test_request_context():
        send_invitation(web, None, "Kirklees Care Co-op")
    db.session.commit()
    assert [t.to for t in sms_outbox] == [web.phone] and "/invite/" in sms_outbox[0].body


@pytest.mark.parametrize("path", ["/my/account/phone", "/my/account/email", "/my/account/password",
                                  "/my/account/sessions/end-others", "/my/account/tokens/1/revoke"])
def test_a_stranger_posting_is_sent_to_log_in(client, path):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(path, data={"csrf_token": token, "phone": NEW_PHONE, "email": "a@example.org"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"reach": "pigeon"}, "reach", "Choose one of the options."),
    ({"name": "x" * 201}, "name", "Enter 200 characters or fewer."),
])
def test_other_bad_input_is_refused_beside_the_field(client, data, field, message):
    _logged_in(client)
    path = f"/my/account/{field}"
    response = _post(client, path, data, page=path)
    assert response.status_code == 422
    assert message in _error_beside(response.get_data(as_text=True), field)
