"""Login sessions recorded server-side, API token expiry, last seen/used times (issue 14).

A session is a row (auth.models.LoginSession); the cookie and the "keep me logged
in" cookie carry "<person id>:<key>" and count only while the row is live.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface

from careteams.auth import services as auth
from careteams.auth.enums import SessionEnd
from careteams.auth.models import ApiToken, LoginSession
from careteams.auth.rules import device_name
from careteams.db import utcnow
from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.members.models import ContactChannel
from tests.factories import PASSWORD, CooperativeFactory, PersonFactory, StaffRoleFactory
from tests.helpers import csrf_from, login

NEW_PASSWORD = "a brand new long password"  # noqa: S105
SIGNED_OUT_EVERYWHERE = "You have been signed out everywhere else and your API tokens were revoked"


def _logout(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})


def _copy_cookie(source, target, name: str) -> None:
    cookie = source.get_cookie(name)
    assert cookie is not None, f"no {name} cookie to copy"
    target.set_cookie(name, cookie.value)


def _fresh(model, row_id):
    """The row as committed by the requests (not the test session's copy)."""
    db.session.expire_all()
    return db.session.get(model, row_id)


def _token(client, person, **extra):
    return client.post("/api/v1/tokens", json={"email": person.email, "password": PASSWORD, **extra})


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def _rows(person) -> list[LoginSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(LoginSession).where(LoginSession.person_id == person.id).order_by(LoginSession.id)))


# --- logout ends this session, and only this one ----------------------------------


def test_a_copied_session_cookie_is_refused_after_logout(app, client):
    person = PersonFactory()
    login(client, person.email, PASSWORD)
    thief = app.test_client()
    _copy_cookie(client, thief, "session")
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    _logout(client)
    assert client.get("/").status_code == 302
    assert thief.get("/").status_code == 302  # ...and not after logout
    [row] = _rows(person)
    assert row.ended_reason == SessionEnd.logout and row.ended_at is not None


def test_logging_out_one_browser_leaves_the_others_logged_in(app, client):
    person = PersonFactory()
    phone = app.test_client()
    login(client, person.email, PASSWORD)
    login(phone, person.email, PASSWORD)
    _logout(client)
    assert client.get("/").status_code == 302
    assert phone.get("/").status_code == 200
    assert [r.ended_at is None for r in _rows(person)] == [False, True]


def test_logging_in_again_in_the_same_browser_ends_the_session_it_replaces(app, client):
    person = PersonFactory()
    login(client, person.email, PASSWORD)
    old_copy = app.test_client()
    _copy_cookie(client, old_copy, "session")
    login(client, person.email, PASSWORD)
    assert client.get("/").status_code == 200
    assert old_copy.get("/").status_code == 302
    assert [r.ended_at is None for r in _rows(person)] == [False, True]


def test_the_cookie_names_the_session_whose_key_is_stored_only_as_a_hash(client):
    person = PersonFactory()
    login(client, person.email, PASSWORD)
    [row] = _rows(person)
    serializer = SecureCookieSessionInterface().get_signing_serializer(client.application)
    person_id, key = serializer.loads(client.get_cookie("session").value)["_user_id"].split(":")
    assert int(person_id) == person.id and len(key) >= 40
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() != key


def test_remember_cookie_of_an_ended_session_does_not_log_in(app, client):
    # flask-login issue #685: a "keep me logged in" cookie must die with its session.
    person = PersonFactory()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": person.email, "password": PASSWORD, "remember": "y", "csrf_token": csrf})
    before = app.test_client()
    _copy_cookie(client, before, "remember_token")
    assert before.get("/").status_code == 200  # the remember cookie alone logs in while the session lives
    after = app.test_client()
    _copy_cookie(client, after, "remember_token")
    _logout(client)
    assert after.get("/").status_code == 302


def test_a_made_up_or_malformed_session_id_logs_nobody_in(app):
    person = PersonFactory()
    with app.test_request_context():
        for user_id in (f"{person.id}:", f"{person.id}:1", f"{person.id}", "x:y", f"{person.id}:{'a' * 43}"):
            assert auth.person_for_login_session(user_id) is None


def test_a_key_with_another_persons_id_in_front_is_refused(app):
    mine, theirs = PersonFactory(), PersonFactory()
    with app.test_request_context():
        auth.start_login_session(mine, "curl/8")
        key = mine.login_session_key
        assert auth.person_for_login_session(f"{theirs.id}:{key}") is None
        assert auth.person_for_login_session(f"{mine.id}:{key}") == mine


def test_a_deactivated_person_is_logged_out(client):
    person = PersonFactory()
    login(client, person.email, PASSWORD)
    person.active = False
    assert client.get("/").status_code == 302


# --- a new password ends every session and revokes every token ---------------------


def _live_elsewhere(app, person):
    """A browser logged in elsewhere and a bearer token, both working."""
    browser = app.test_client()
    login(browser, person.email, PASSWORD)
    created = _token(app.test_client(), person)
    assert created.status_code == 201
    headers = _bearer(created.get_json()["token"])
    assert browser.get("/").status_code == 200
    assert browser.get("/api/v1/me", headers=headers).status_code == 200
    return browser, headers


def _set_password_on(client, path: str):
    csrf = csrf_from(client.get(path).get_data(as_text=True))
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf})
    assert done.status_code == 302
    return client.get(done.headers["Location"])


def _assert_all_ended(app, person, browser, headers):
    assert browser.get("/").status_code == 302
    refused = app.test_client().get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"
    db.session.expire_all()
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.person_id == person.id)).all()
    assert tokens and all(t.revoked_at is not None for t in tokens)


def test_password_reset_ends_every_session_revokes_tokens_and_says_so(app, client, mail_outbox):
    person = PersonFactory(preferred_channel=ContactChannel.email)
    browser, headers = _live_elsewhere(app, person)
    csrf = csrf_from(client.get("/reset").get_data(as_text=True))
    client.post("/reset", data={"email": person.email, "csrf_token": csrf})
    link = re.search(r"http://[^\s]+/reset/(\S+)", mail_outbox[0].body).group(1)
    home = _set_password_on(client, f"/reset/{link}")
    assert home.status_code == 200 and SIGNED_OUT_EVERYWHERE in home.get_data(as_text=True)
    _assert_all_ended(app, person, browser, headers)
    assert client.get("/").status_code == 200  # the browser that set it is logged in afresh
    rows = _rows(person)
    assert [r.ended_reason for r in rows] == [SessionEnd.password_set, None]


def test_accepting_an_invitation_ends_every_session_and_revokes_tokens(app, client):
    # An invitation sent to someone who already has an account (and so sessions and tokens).
    coop = CooperativeFactory()
    facilitator = StaffRoleFactory(cooperative=coop).person
    person = PersonFactory(preferred_channel=ContactChannel.email)
    browser, headers = _live_elsewhere(app, person)
    with app.test_request_context():
        token = auth.send_invitation(person, facilitator, coop.name)
    home = _set_password_on(client, f"/invite/{token}")
    assert SIGNED_OUT_EVERYWHERE in home.get_data(as_text=True)
    _assert_all_ended(app, person, browser, headers)
    assert client.get("/").status_code == 200


def test_setting_a_password_in_a_browser_logged_in_as_someone_else_ends_that_session(app, client):
    someone, newcomer = PersonFactory(), PersonFactory(password_hash=None)
    login(client, someone.email, PASSWORD)
    with app.test_request_context():
        token = auth.send_invitation(newcomer, None, "Co-op")
    _set_password_on(client, f"/invite/{token}")
    assert [r.ended_reason for r in _rows(someone)] == [SessionEnd.logout]
    assert [r.ended_at is None for r in _rows(newcomer)] == [True]


def test_changing_a_password_ends_every_session_and_revokes_tokens(app):
    # No change-password page yet (the accounts issue); the one service every path uses.
    person = PersonFactory()
    browser, headers = _live_elsewhere(app, person)
    auth.set_password(person, NEW_PASSWORD)
    db.session.commit()
    _assert_all_ended(app, person, browser, headers)
    assert login(app.test_client(), person.email, NEW_PASSWORD).status_code == 302


def test_a_refused_new_password_ends_nothing(app):
    person = PersonFactory()
    browser, headers = _live_elsewhere(app, person)
    with pytest.raises(ValidationError):
        auth.set_password(person, "short")
    assert browser.get("/").status_code == 200
    assert browser.get("/api/v1/me", headers=headers).status_code == 200


# --- idle limit -----------------------------------------------------------------------


def test_a_session_idle_past_the_limit_is_over(app, client, time_machine):
    app.config["LOGIN_SESSION_IDLE_LIMIT"] = timedelta(hours=2)
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    login(client, person.email, PASSWORD)
    time_machine.shift(timedelta(hours=1, minutes=59))
    assert client.get("/").status_code == 200  # and this visit counts as activity...
    time_machine.shift(timedelta(hours=1, minutes=59))
    assert client.get("/").status_code == 200  # ...so the limit runs from here
    time_machine.shift(timedelta(hours=2, minutes=1))
    assert client.get("/").status_code == 302


def test_the_idle_limit_defaults_to_fourteen_days(app):
    assert app.config["LOGIN_SESSION_IDLE_LIMIT"] == timedelta(days=14)


def test_a_remember_cookie_of_an_idle_session_does_not_log_in(app, client, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": person.email, "password": PASSWORD, "remember": "y", "csrf_token": csrf})
    later = app.test_client()
    _copy_cookie(client, later, "remember_token")
    time_machine.shift(timedelta(days=14, minutes=1))
    assert later.get("/").status_code == 302


# --- API tokens expire -----------------------------------------------------------------


def test_a_token_lasts_ninety_days_by_default(client, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    created = _token(client, person)
    assert created.status_code == 201
    token = db.session.get(ApiToken, created.get_json()["id"])
    assert token.expires_at == utcnow() + timedelta(days=90)
    assert created.get_json()["expires_at"] is not None


def test_an_expired_token_is_401_with_the_envelope(client, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    created = _token(client, person, expires_in_days=1)
    headers = _bearer(created.get_json()["token"])
    time_machine.shift(timedelta(hours=23, minutes=59))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    time_machine.shift(timedelta(minutes=1))
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"


def test_expired_tokens_are_not_listed(client, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    _token(client, person, expires_in_days=1, name="short")
    live = _bearer(_token(client, person, expires_in_days=30, name="long").get_json()["token"])
    time_machine.shift(timedelta(days=2))
    assert [t["name"] for t in client.get("/api/v1/tokens", headers=live).get_json()] == ["long"]


@pytest.mark.parametrize("days", [0, -1, 366, 2**31 - 1, "ten", 1.5])
def test_expires_in_days_outside_1_to_365_is_422(client, days):
    person = PersonFactory()
    response = _token(client, person, expires_in_days=days)
    assert response.status_code == 422
    assert "expires_in_days" in str(response.get_json()["error"]["details"])


@pytest.mark.parametrize("days", [1, 365])
def test_expires_in_days_at_the_bounds_is_accepted(client, days, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    response = _token(client, person, expires_in_days=days)
    assert response.status_code == 201
    assert db.session.get(ApiToken, response.get_json()["id"]).expires_at == utcnow() + timedelta(days=days)


# --- last used / last seen: written, committed, at most once a minute -------------------


def test_token_last_used_at_is_written_and_throttled(client, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    created = _token(client, person)
    headers, token_id = _bearer(created.get_json()["token"]), created.get_json()["id"]
    assert _fresh(ApiToken, token_id).last_used_at is None
    first = utcnow()
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # a GET: commits nothing itself
    assert _fresh(ApiToken, token_id).last_used_at == first
    time_machine.shift(timedelta(seconds=59))
    client.get("/api/v1/me", headers=headers)
    assert _fresh(ApiToken, token_id).last_used_at == first  # not written again within the minute
    time_machine.shift(timedelta(seconds=1))
    client.get("/api/v1/me", headers=headers)
    assert _fresh(ApiToken, token_id).last_used_at == first + timedelta(minutes=1)
    listed = client.get("/api/v1/tokens", headers=headers).get_json()
    assert listed[0]["last_used_at"] is not None


def test_token_last_used_at_is_kept_when_the_request_fails(client, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    created = _token(client, person)
    headers, token_id = _bearer(created.get_json()["token"]), created.get_json()["id"]
    assert client.delete("/api/v1/tokens/999999", headers=headers).status_code == 404
    assert _fresh(ApiToken, token_id).last_used_at == utcnow()


def test_session_last_seen_at_is_written_and_throttled(client, time_machine):
    person = PersonFactory()
    time_machine.move_to(utcnow(), tick=False)
    login(client, person.email, PASSWORD)
    [row] = _rows(person)
    start = row.last_seen_at
    time_machine.shift(timedelta(seconds=30))
    client.get("/")
    assert _rows(person)[0].last_seen_at == start  # within the minute: no write
    time_machine.shift(timedelta(seconds=31))
    client.get("/")
    assert _rows(person)[0].last_seen_at == start + timedelta(seconds=61)


# --- the device label ---------------------------------------------------------------------


@pytest.mark.parametrize(("agent", "label"), [
    ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "Firefox on Linux"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "Edge on Windows"),
    ("curl/8.4.0", "Unknown device"),
    ("", "Unknown device"),
    (None, "Unknown device"),
])
def test_device_label_names_a_browser_and_system_only(agent, label):
    assert device_name(agent) == label


def test_login_records_the_device(client):
    person = PersonFactory()
    client.get("/login", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": csrf},
                headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
    assert [r.device for r in _rows(person)] == ["Firefox on Linux"]


# --- migration 0014: tokens made before expiry existed --------------------------------------


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """An empty database of this test's own (migrations run in it from scratch)."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrate.sqlite'}"
        return
    base = sa.engine.make_url(database_url)
    name = f"{base.database}_mig14"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migration_gives_existing_tokens_ninety_days_from_when_they_were_made(scratch_database_url):
    import flask_migrate

    from tests.conftest import make_app

    made = utcnow().replace(microsecond=123000) - timedelta(days=10)
    scratch = make_app(scratch_database_url)
    with scratch.app_context():
        flask_migrate.upgrade(revision="0013")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO person (id, name, email, active, preferred_channel, session_version, created_at)"
                                 " VALUES (1, 'Old Token', 'old@example.org', :t, 'email', 1, :made)"),
                         {"t": True, "made": made.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else made})
            conn.execute(sa.text("INSERT INTO api_token (person_id, name, token_hash, prefix, created_at)"
                                 " VALUES (1, 'old', :hash, 'ct_old', :made)"),
                         {"hash": "f" * 64, "made": made.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else made})
        flask_migrate.upgrade(revision="0014")
        # Only the column: the whole ApiToken row joins today's person columns, which 0014 has not.
        expires_at = db.session.scalars(sa.select(ApiToken.expires_at)).one()
        assert expires_at == made + timedelta(days=90)
        db.session.remove()
        flask_migrate.downgrade(revision="0013")  # and back
        db.session.remove()
        db.engine.dispose()
