"""Issue 14: login throttling counts per account across addresses, on every login route."""

from __future__ import annotations

import pytest

from tests.factories import PersonFactory
from tests.helpers import csrf_from


@pytest.fixture
def per_account_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT", "5 per hour")


def _web_attempt(client, email: str, address: str):
    env = {"REMOTE_ADDR": address}
    token = csrf_from(client.get("/login", environ_base=env).get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": "a wrong guess", "csrf_token": token}, environ_base=env)


def _api_attempt(client, email: str, address: str):
    return client.post("/api/v1/tokens", json={"email": email, "password": "a wrong guess", "name": "x"},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("attempt", [_web_attempt, _api_attempt], ids=["web", "api"])
def test_one_account_is_throttled_across_many_addresses(client, per_account_limit, attempt):
    person = PersonFactory()
    statuses = [attempt(client, person.email, f"198.51.100.{i}").status_code for i in range(1, 7)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429


def test_web_and_api_share_one_account_budget(client, per_account_limit):
    person = PersonFactory()
    statuses = [_web_attempt(client, person.email, f"198.51.100.{i}").status_code for i in range(1, 4)]
    statuses += [_api_attempt(client, person.email.upper(), f"203.0.113.{i}").status_code for i in range(1, 4)]
    assert statuses == [401] * 5 + [429]


def test_other_accounts_are_not_held_up(client, per_account_limit):
    targeted, other = PersonFactory(), PersonFactory()
    for i in range(1, 7):
        _web_attempt(client, targeted.email, f"198.51.100.{i}")
    assert _web_attempt(client, other.email, "198.51.100.1").status_code == 401


@pytest.mark.parametrize("attempt", [_web_attempt, _api_attempt], ids=["web", "api"])
def test_throttled_answer_does_not_say_whether_the_account_exists(client, per_account_limit, attempt):
    person = PersonFactory()
    answers = {}
    for email in (person.email, "nobody-here@example.org"):
        for i in range(1, 6):
            attempt(client, email, f"192.0.2.{i}")
        answer = attempt(client, email, "192.0.2.99")
        assert answer.status_code == 429
        answers[email] = answer.get_data(as_text=True).replace(email, "EMAIL")
    assert answers[person.email] == answers["nobody-here@example.org"]
