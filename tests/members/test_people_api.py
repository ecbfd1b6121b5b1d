"""Inviting people: clear 4xx errors in one envelope, and nothing written on error."""

from __future__ import annotations

import pytest

from careteams.members.models import Person, StaffRoleName
from tests.factories import CooperativeFactory, PersonFactory, StaffRoleFactory
from tests.helpers import count


@pytest.fixture
def coop(app):
    return CooperativeFactory()


@pytest.fixture
def facilitator(coop):
    return StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person


def post_person(client, headers, coop, payload):
    return client.post(f"/api/v1/cooperatives/{coop.slug}/people", json=payload, headers=headers)


def assert_envelope(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_facilitator_invites_person_who_gets_a_link(client, coop, facilitator, auth_headers, mail_outbox):
    response = post_person(client, auth_headers(facilitator), coop, {"name": "Nia Patel", "email": "Nia@Example.org", "phone": "07700 900 555"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["email"] == "nia@example.org"
    assert body["phone"] == "+447700900555"
    assert len(mail_outbox) == 1
    assert "/invite/" in mail_outbox[0].body
    assert mail_outbox[0].to == ["nia@example.org"]


def test_invite_by_text_goes_to_the_phone(client, coop, facilitator, auth_headers, sms_outbox):
    response = post_person(client, auth_headers(facilitator), coop,
                           {"name": "Sid", "phone": "+44 7700 900556", "preferred_channel": "sms"})
    assert response.status_code == 201
    assert [t.to for t in sms_outbox] == ["+447700900556"]
    assert "/invite/" in sms_outbox[0].body


@pytest.mark.parametrize("payload, field", [
    ({"name": "A", "email": "not-an-email"}, "email"),
    ({"name": "A", "phone": "12345"}, "phone"),
    ({"name": "A", "phone": "call me maybe"}, "phone"),
    ({"name": "A"}, "email"),
    ({"name": "   ", "email": "a@example.org"}, "name"),
    ({"email": "a@example.org"}, "name"),
    ({"name": "A", "preferred_channel": "sms", "email": "a@example.org"}, "phone"),
    ({"name": "A", "email": "a@example.org", "preferred_channel": "pigeon"}, "preferred_channel"),
])
def test_malformed_person_is_422_with_field_details_and_nothing_written(client, coop, facilitator, auth_headers, payload, field):
    headers = auth_headers(facilitator)
    before = count(Person)
    error = assert_envelope(post_person(client, headers, coop, payload), 422, "validation_error")
    assert field in error["details"]["fields"]
    assert count(Person) == before


def test_duplicate_email_or_phone_is_409_and_nothing_written(client, coop, facilitator, auth_headers, mail_outbox):
    PersonFactory(email="taken@example.org", phone="+447700900777")
    headers = auth_headers(facilitator)
    before = count(Person)
    error = assert_envelope(post_person(client, headers, coop, {"name": "B", "email": "TAKEN@example.org"}), 409, "duplicate_person")
    assert "email" in error["details"]["fields"]
    error = assert_envelope(post_person(client, headers, coop, {"name": "B", "email": "new@example.org", "phone": "07700900777"}), 409, "duplicate_person")
    assert "phone" in error["details"]["fields"]
    assert count(Person) == before
    assert mail_outbox == []


def test_non_json_body_is_a_422_not_a_500(client, coop, facilitator, auth_headers):
    response = client.post(f"/api/v1/cooperatives/{coop.slug}/people", data="{not json", headers={**auth_headers(facilitator), "Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


def test_wrong_password_is_401_envelope(client):
    PersonFactory(email="pat@example.org")
    response = client.post("/api/v1/tokens", json={"email": "pat@example.org", "password": "wrong password"})
    error = assert_envelope(response, 401, "invalid_credentials")
    assert "password" not in error["details"]


def test_unknown_email_gets_the_same_401(client):
    response = client.post("/api/v1/tokens", json={"email": "nobody@example.org", "password": "whatever it is"})
    assert_envelope(response, 401, "invalid_credentials")


def test_api_without_credentials_is_401(client, coop):
    assert_envelope(client.get("/api/v1/me"), 401, "unauthorized")
    assert_envelope(client.post(f"/api/v1/cooperatives/{coop.slug}/people", json={"name": "x", "email": "x@example.org"},
                                headers={"Authorization": "Bearer ct_forged"}), 401, "unauthorized")
