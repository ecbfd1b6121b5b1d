"""Issue 17: log in with an email or a mobile number; reset by text or email; one-time
sign-in codes (by text or email) and links (by email). No account enumeration."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.auth import services as auth
from careteams.auth.enums import LinkPurpose
from careteams.auth.models import LoginSession, OneTimeLink
from careteams.auth.rules import login_identifier
from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import ContactChannel
from tests.factories import PASSWORD, PersonFactory
from tests.helpers import csrf_from, login

NUMBER = "+447700900321"
CODE_TEXT = re.compile(r"^Your careteams sign-in code is (\d{6})\. It works once, for 10 minutes\.$")


@pytest.fixture
def nora(app):
    """Invited by her mobile number: no email at all."""
    return PersonFactory(name="Nora Quinn", email=None, phone=NUMBER, preferred_channel=ContactChannel.sms)


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def _post(client, path: str, data: dict, **kwargs):
    csrf = csrf_from(client.get(path, **kwargs).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": csrf}, **kwargs)


def _ask_code(client, identifier: str, address: str | None = None):
    # Session protection ties a login to its address: only tests of limits use another one.
    return _post(client, "/login/code", {"email": identifier}, **({"environ_base": {"REMOTE_ADDR": address}} if address else {}))


def _enter_code(client, code: str, address: str | None = None):
    return _post(client, "/login/code/enter", {"code": code}, **({"environ_base": {"REMOTE_ADDR": address}} if address else {}))


def _code_from(text: str) -> str:
    match = CODE_TEXT.match(text)
    assert match, f"not the sign-in text: {text!r}"
    return match.group(1)


def _sign_in_links() -> list[OneTimeLink]:
    return list(db.session.scalars(sa.select(OneTimeLink).where(OneTimeLink.purpose == LinkPurpose.sign_in)))


# --- the pure rule ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["07700 900321", "07700900321", "+44 7700 900321", "+447700900321",
                                   "0044 7700 900321", "(07700) 900-321", " 07700 900 321 "])
def test_any_uk_mobile_format_is_one_number(typed):
    assert login_identifier(typed) == ("phone", NUMBER)


def test_an_email_is_trimmed_and_lower_cased():
    assert login_identifier("  Nora@Example.ORG ") == ("email", "nora@example.org")


@pytest.mark.parametrize("typed", ["", "   ", "nora at home", "nora@", "@example.org", "12", "nora@example"])
def test_neither_email_nor_number_is_a_plain_error(typed):
    with pytest.raises(ValueError) as error:
        login_identifier(typed)
    assert "Enter" in str(error.value)


# --- password login -----------------------------------------------------------------


def test_login_with_email_still_works(client):
    person = PersonFactory()
    assert login(client, person.email.upper(), PASSWORD).status_code == 302
    assert _logged_in(client)


@pytest.mark.parametrize("typed", ["07700 900321", "+44 7700 900321", "0044 7700 900321", "07700900321", "+447700900321"])
def test_nora_logs_in_with_her_number_in_any_format(client, nora, typed):
    response = login(client, typed, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _logged_in(client)


def test_the_login_field_asks_for_email_or_mobile(client):
    html = client.get("/login").get_data(as_text=True)
    assert "Email or mobile number" in html and 'autocomplete="username"' in html
    assert 'href="/login/code"' in html


def test_unknown_number_says_the_same_as_a_wrong_password(client, nora):
    unknown = login(client, "07700 900999", PASSWORD)
    wrong = login(app_client := client.application.test_client(), "07700 900321", "not her password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Email or mobile number or password is wrong." in unknown.get_data(as_text=True)
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", unknown.get_data(as_text=True)) == strip.sub("", wrong.get_data(as_text=True))
    assert not _logged_in(client) and not _logged_in(app_client)


def test_something_neither_email_nor_number_is_said_beside_the_field(client):
    response = login(client, "nora at 0", PASSWORD)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in html and "For a mobile number, type it like 07700 900123." in html
    assert 'value="nora at 0"' in html and PASSWORD not in html


def test_an_inactive_person_cannot_log_in_by_number(client):
    PersonFactory(email=None, phone=NUMBER, active=False)
    assert login(client, "07700 900321", PASSWORD).status_code == 401


def test_every_format_of_a_number_shares_one_login_budget(client, app, monkeypatch, nora):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT", "3 per hour")
    statuses = [login(client, typed, "a wrong guess").status_code
                for typed in ("07700 900321", "+44 7700 900321", "0044 7700 900321", "07700900321")]
    assert statuses == [401, 401, 401, 429]


# --- password reset by text or email ------------------------------------------------------


def test_reset_by_text_for_a_mobile_number(client, nora, sms_outbox, mail_outbox):
    assert _post(client, "/reset", {"email": "07700 900321"}).status_code == 200
    assert len(sms_outbox) == 1 and sms_outbox[0].to == NUMBER and mail_outbox == []
    token = re.search(r"/reset/(\S+)", sms_outbox[0].body).group(1)
    done = _post(client, f"/reset/{token}", {"password": "a brand new password", "confirm": "a brand new password"})
    assert done.status_code == 302 and _logged_in(client)
    other = client.application.test_client()
    assert login(other, "+44 7700 900321", "a brand new password").status_code == 302


def test_reset_by_email_for_an_email_even_when_texts_are_preferred(client, sms_outbox, mail_outbox):
    person = PersonFactory(preferred_channel=ContactChannel.sms)
    assert _post(client, "/reset", {"email": person.email}).status_code == 200
    assert len(mail_outbox) == 1 and mail_outbox[0].to == [person.email] and len(sms_outbox) == 0
    assert "/reset/" in mail_outbox[0].body


def test_reset_for_an_unknown_number_says_the_same_and_sends_nothing(client, nora, sms_outbox, mail_outbox):
    known = _post(client, "/reset", {"email": "07700 900321"}).get_data(as_text=True)
    unknown = _post(client, "/reset", {"email": "07700 900999"}).get_data(as_text=True)
    assert "If that address has an account" in unknown
    assert re.sub(r'value="[^"]*"', "", known) == re.sub(r'value="[^"]*"', "", unknown)
    assert len(sms_outbox) == 1 and sms_outbox[0].to == NUMBER and mail_outbox == []


def test_reset_refuses_something_that_is_neither(client, sms_outbox):
    response = _post(client, "/reset", {"email": "not a number"})
    assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)
    assert len(sms_outbox) == 0


# --- one-time sign-in codes -------------------------------------------------------------


def test_code_by_text_signs_nora_in_once(client, nora, sms_outbox, mail_outbox):
    asked = _ask_code(client, "07700 900321")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/login/code/enter")
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "If we know that address, we have sent a code" in page
    assert len(sms_outbox) == 1 and sms_outbox[0].to == NUMBER and mail_outbox == []
    code = _code_from(sms_outbox[0].body)
    link = _sign_in_links()[0]
    assert code not in (link.code_hash or "") and len(link.code_hash) == 64  # only a keyed hash is kept
    signed_in = _enter_code(client, code)
    assert signed_in.status_code == 302 and _logged_in(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)
                             .where(LoginSession.person_id == nora.id, LoginSession.ended_at.is_(None))) == 1
    # Reused: refused in another browser, with the one message.
    other = client.application.test_client()
    with other.session_transaction() as session:
        session["sign_in_for"] = "07700 900321"
    again = _enter_code(other, code)
    assert again.status_code == 401 and auth.WRONG_CODE in again.get_data(as_text=True)
    assert not _logged_in(other)


def test_code_by_email_has_a_code_and_a_link(client, mail_outbox, sms_outbox):
    person = PersonFactory(preferred_channel=ContactChannel.sms)
    _ask_code(client, person.email.upper())
    assert len(mail_outbox) == 1 and len(sms_outbox) == 0
    body = mail_outbox[0].body
    code = re.search(r"Your careteams sign-in code is (\d{6})\.", body).group(1)
    assert re.search(r"/login/link/\S+", body)
    assert _enter_code(client, code).status_code == 302 and _logged_in(client)


def test_the_text_carries_nothing_but_the_code(client, nora, sms_outbox):
    _ask_code(client, "07700 900321")
    assert CODE_TEXT.match(sms_outbox[0].body) and len(sms_outbox[0].body) < 80


def test_an_expired_code_is_refused(client, nora, sms_outbox, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    _ask_code(client, "07700 900321")
    code = _code_from(sms_outbox[0].body)
    time_machine.shift(timedelta(minutes=10, seconds=1))
    response = _enter_code(client, code)
    assert response.status_code == 401 and auth.WRONG_CODE in response.get_data(as_text=True)
    assert not _logged_in(client)


def test_a_code_works_until_just_before_ten_minutes(client, nora, sms_outbox, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    _ask_code(client, "07700 900321")
    code = _code_from(sms_outbox[0].body)
    time_machine.shift(timedelta(minutes=9, seconds=59))
    assert _enter_code(client, code).status_code == 302


def test_five_wrong_codes_kill_the_code(client, nora, sms_outbox):
    _ask_code(client, "07700 900321")
    code = _code_from(sms_outbox[0].body)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = _enter_code(client, wrong)
        html = response.get_data(as_text=True)
        assert response.status_code == 401 and auth.WRONG_CODE in html and 'id="code-error"' in html
    assert _sign_in_links()[0].wrong_tries == 5
    dead = _enter_code(client, code)  # the right code, too late
    assert dead.status_code == 401 and not _logged_in(client)


def test_a_new_code_ends_the_old_one(client, nora, sms_outbox):
    _ask_code(client, "07700 900321")
    first = _code_from(sms_outbox[0].body)
    _ask_code(client, "07700 900321")
    second = _code_from(sms_outbox[1].body)
    if first != second:
        assert _enter_code(client, first).status_code == 401
    assert _enter_code(client, second).status_code == 302


def test_a_code_that_is_not_six_digits_is_said_beside_the_field(client, nora, sms_outbox):
    _ask_code(client, "07700 900321")
    response = _enter_code(client, "12ab")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Enter the 6 numbers of the code" in html and 'value="12ab"' in html
    assert _sign_in_links()[0].wrong_tries == 0  # not a guess


def test_spaces_in_a_typed_code_are_fine(client, nora, sms_outbox):
    _ask_code(client, "07700 900321")
    code = _code_from(sms_outbox[0].body)
    assert _enter_code(client, f"{code[:3]} {code[3:]}").status_code == 302


def test_unknown_account_gets_the_same_page_and_nothing_is_sent(client, nora, sms_outbox, mail_outbox):
    known_client, unknown_client = client, client.application.test_client()
    known = _ask_code(known_client, "07700 900321")
    unknown = _ask_code(unknown_client, "07700 900999", address="192.0.2.11")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    strip = re.compile(r'value="[^"]*"')
    known_page = strip.sub("", known_client.get(known.headers["Location"]).get_data(as_text=True))
    unknown_page = strip.sub("", unknown_client.get(unknown.headers["Location"]).get_data(as_text=True))
    assert known_page == unknown_page
    assert [text.to for text in sms_outbox] == [NUMBER] and mail_outbox == []
    # Typing a code for the unknown number says what a wrong code says.
    response = _enter_code(unknown_client, "123456", address="192.0.2.11")
    assert response.status_code == 401 and auth.WRONG_CODE in response.get_data(as_text=True)


def test_unknown_email_gets_nothing_either(client, mail_outbox, sms_outbox):
    assert _ask_code(client, "nobody-here@example.org").status_code == 302
    assert mail_outbox == [] and len(sms_outbox) == 0 and _sign_in_links() == []


def test_an_inactive_person_gets_no_code(client, sms_outbox):
    PersonFactory(email=None, phone=NUMBER, active=False)
    _ask_code(client, "07700 900321")
    assert len(sms_outbox) == 0


def test_asking_for_codes_is_rate_limited_the_same_for_known_and_unknown(client, app, monkeypatch, nora, sms_outbox):
    monkeypatch.setitem(app.config, "SIGN_IN_CODE_RATE_LIMIT", "3 per 15 minutes")
    answers = {}
    for typed in ("07700 900321", "07700 900999"):
        statuses = [_ask_code(client, variant, address=f"198.51.100.{i}").status_code
                    for i, variant in enumerate((typed, typed.replace("07700", "+44 7700"), typed.replace(" ", "")), 1)]
        throttled = _ask_code(client, typed, address="198.51.100.9")
        assert statuses == [302, 302, 302] and throttled.status_code == 429
        answers[typed] = throttled.get_data(as_text=True).replace(typed, "NUMBER")
    assert answers["07700 900321"] == answers["07700 900999"]
    assert len(sms_outbox) == 3  # each code may cost a text: no more than the budget


def test_typing_codes_is_rate_limited(client, app, monkeypatch, nora, sms_outbox):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "SIGN_IN_CODE_TRIES", 100)
    _ask_code(client, "07700 900321")
    statuses = [_enter_code(client, "000000").status_code for _ in range(4)]
    assert statuses[-1] == 429


def test_the_enter_page_without_asking_first_sends_you_to_ask(client):
    response = client.get("/login/code/enter")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login/code")


def test_the_code_pages_are_accessible_html(client, nora):
    page = client.get("/login/code").get_data(as_text=True)
    assert '<label for="email">Email or mobile number</label>' in page and 'autocomplete="username"' in page
    _ask_code(client, "07700 900321")
    enter = client.get("/login/code/enter").get_data(as_text=True)
    assert '<label for="code">Sign-in code</label>' in enter
    assert 'autocomplete="one-time-code"' in enter and 'inputmode="numeric"' in enter


def test_the_session_is_new_after_a_code(client, nora, sms_outbox):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    _ask_code(client, "07700 900321")
    _enter_code(client, _code_from(sms_outbox[0].body))
    with client.session_transaction() as session:
        assert "planted" not in session and "sign_in_for" not in session


# --- one-time sign-in links (by email) -------------------------------------------------


def _emailed_link(client, mail_outbox, person) -> str:
    _ask_code(client, person.email)
    return re.search(r"http://[^\s]+(/login/link/\S+)", mail_outbox[-1].body).group(1)


def test_the_emailed_link_signs_in_once_on_a_press(client, mail_outbox):
    person = PersonFactory(preferred_channel=ContactChannel.email)
    path = _emailed_link(client, mail_outbox, person)
    page = client.get(path)
    assert page.status_code == 200 and not _logged_in(client)  # opening it (a mail scanner) spends nothing
    assert _post(client, path, {}).status_code == 302 and _logged_in(client)
    other = client.application.test_client()
    assert other.get(path).status_code == 404  # used
    assert not _logged_in(other)


def test_an_expired_link_is_refused(client, mail_outbox, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    person = PersonFactory(preferred_channel=ContactChannel.email)
    path = _emailed_link(client, mail_outbox, person)
    time_machine.shift(timedelta(minutes=10, seconds=1))
    assert client.get(path).status_code == 404
    assert not _logged_in(client)


def test_a_link_whose_code_was_guessed_wrong_five_times_is_dead(client, mail_outbox):
    person = PersonFactory(preferred_channel=ContactChannel.email)
    path = _emailed_link(client, mail_outbox, person)
    code = re.search(r"code is (\d{6})", mail_outbox[-1].body).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        _enter_code(client, wrong)
    assert client.get(path).status_code == 404


def test_a_made_up_link_is_refused(client):
    assert client.get("/login/link/not-a-real-token").status_code == 404


def test_invitation_and_reset_links_do_not_sign_in_as_links(client, app, nora):
    with app.test_request_context():
        token = auth.send_invitation(nora, None, "Co-op")
    assert client.get(f"/login/link/{token}").status_code == 404

