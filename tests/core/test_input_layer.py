"""No input produces a 500 (issue 14): the one validation layer, careteams/validation.py.

Each class of input the fuzzer found has a test here, plus a walk over every
schema in the OpenAPI document (a new schema with marshmallow's own String,
Integer, Date or DateTime fails it) and a hypothesis fuzzer over every operation.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, class_registry
from marshmallow import fields as mfields

from careteams.extensions import api, db
from careteams.validation import is_safe
from tests.factories import TeamFactory

BIG = 2**31
NUL = "a\x00b"
SURROGATE = "a\ud800b"


@pytest.fixture
def leader(app, auth_headers):
    team = TeamFactory()
    db.session.flush()
    return team, auth_headers(team.leader)


def _fields_of(schema: Schema):
    for name, field in schema.fields.items():
        yield name, field
        inner = getattr(field, "inner", None)
        if inner is not None:
            yield f"{name}[]", inner
        if isinstance(field, mfields.Nested) and isinstance(field.schema, Schema):
            yield from ((f"{name}.{n}", f) for n, f in _fields_of(field.schema))


def test_every_api_schema_uses_the_safe_field_kinds(app):
    """A schema in the API document with an unchecked String/Integer/Date/DateTime fails here."""

    api.spec.to_dict()  # every schema the API document names is imported and registered

    seen = 0
    unsafe = []
    for name, classes in class_registry._registry.items():
        if "." not in name:
            continue
        for cls in classes:
            if not cls.__module__.startswith("careteams."):
                continue
            seen += 1
            for field_name, field in _fields_of(cls()):
                if not is_safe(field):
                    unsafe.append(f"{name}.{field_name}: {type(field).__name__}")
    assert seen > 50
    assert unsafe == []


def test_a_path_id_beyond_postgresql_integer_is_404(client, leader):
    _, headers = leader
    for value in (BIG, 2**63, 10**30):
        response = client.get(f"/api/v1/teams/{value}", headers=headers)
        assert response.status_code == 404, value
        assert response.get_json()["error"]["code"] == "not_found"


def test_a_body_integer_beyond_range_is_422_naming_the_field(client, leader):
    team, headers = leader
    for value in (BIG, 2**63):
        response = client.post(f"/api/v1/teams/{team.id}/invitations", headers=headers,
                               json={"person_id": value, "role": "family"})
        assert response.status_code == 422
        assert "person_id" in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_nul_and_surrogates_in_a_json_string_are_422_with_the_field(client, leader, bad):
    _, headers = leader
    response = client.post("/api/v1/tokens", json={"email": bad, "password": "x"})
    assert response.status_code == 422
    assert "email" in response.get_json()["error"]["details"]["fields"]


def test_nul_in_a_query_string_is_422_with_the_field(client, leader):
    team, headers = leader
    response = client.get(f"/api/v1/teams/{team.id}?q=a%00b", headers=headers)
    assert response.status_code == 422
    assert "q" in response.get_json()["error"]["details"]["fields"]


def test_nul_in_a_path_slug_is_404(client, leader):
    _, headers = leader
    response = client.get("/api/v1/no%00such", headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize("body", ["[1]", "1", '"x"', "null"])
def test_non_object_json_to_the_token_endpoint_is_422_not_a_500(client, body):
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_deeply_nested_json_is_400_with_the_envelope(client):
    for body in ("[" * 100_000 + "]" * 100_000, "[" * 50 + "]" * 50):
        response = client.post("/api/v1/tokens", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_request"


def test_an_oversized_body_is_413(client):
    response = client.post("/api/v1/tokens", data="x" * (2 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413


def test_edge_dates_in_a_body_are_422(client, leader, app):
    from careteams.validation import fields

    class S(Schema):
        day = fields.Date()
        at = fields.AwareDateTime()

    for value in ({"day": "9999-12-31"}, {"day": "0001-01-01"}, {"at": "9999-12-31T23:00:00+00:00"}):
        errors = S().validate(value)
        assert errors and set(errors) == set(value)
    assert S().validate({"day": "2026-01-01", "at": "2026-01-01T10:00:00+00:00"}) == {}


def test_sms_webhook_refuses_a_long_message_sid_and_nul_as_4xx(client):
    long_sid = client.post("/sms/inbound", data={"MessageSid": "S" * 100, "From": "+447700900123",
                                                 "To": "+447700900000", "Body": "HELP"})
    nul = client.post("/sms/inbound", data={"MessageSid": "SM1", "From": "+447700900123",
                                            "To": "+447700900000", "Body": NUL})
    for response in (long_sid, nul):
        assert 400 <= response.status_code < 500


# The fuzzer ------------------------------------------------------------------------

EDGE_INTS = st.sampled_from([BIG, -BIG - 1, 2**63, 10**20, -1, 0, 1])
EDGE_STRINGS = st.sampled_from([NUL, SURROGATE, "\x00", "9999-12-31", "0001-01-01",
                                "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00Z", "x" * 5000, ""])
EDGE_VALUES = st.one_of(EDGE_INTS, EDGE_STRINGS, st.none(), st.lists(EDGE_INTS, max_size=2))


def _operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operations.append((method.upper(), path, operation, spec))
    return operations


def _body_properties(operation, spec):
    schema = (operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
    if not schema:
        return None
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_fuzz_every_operation_as_a_leader_never_5xx(app, leader, data):
    team, headers = leader
    client = app.test_client()
    operations = _operations(app)
    method, path, operation, spec = data.draw(st.sampled_from(operations))
    url = re.sub(r"{[^}]+}", lambda _: str(data.draw(st.one_of(EDGE_INTS, st.just(team.id)))), path)
    query = {p["name"]: data.draw(EDGE_STRINGS | EDGE_INTS.map(str))
             for p in operation.get("parameters", []) if p.get("in") == "query"}
    props = _body_properties(operation, spec)
    body = {name: data.draw(EDGE_VALUES) for name in props} if props is not None else None
    # Percent-encoded as a client would send it: the test client cannot encode a lone
    # surrogate itself (it raised UnicodeEncodeError before any request was made).
    query_string = urlencode(query, errors="surrogatepass")
    with db.session.begin_nested():
        response = client.open(url, method=method, query_string=query_string, json=body, headers=headers)
    assert response.status_code < 500, (method, url, query, body, response.get_data(as_text=True)[:300])
