"""The API document's promises, checked fast on both databases (schemathesis checks
them against real answers on PostgreSQL: test_schemathesis.py)."""

from __future__ import annotations

import pytest

ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_the_error_envelope_is_declared_once_as_the_default_error_response(document, client):
    components = document["components"]
    assert components["schemas"]["ErrorEnvelope"]["required"] == ["error"]
    body = components["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"code", "message", "details"}
    assert components["responses"]["DEFAULT_ERROR"]["content"]["application/json"]["schema"] == ERROR_REF
    # and it is what the app sends
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert set(answer.get_json()) == {"error"}
    assert set(answer.get_json()["error"]) == {"code", "message", "details"}


def test_every_operation_lists_the_error_codes_it_can_answer(document):
    count = 0
    for method, path, operation in _operations(document):
        count += 1
        codes = set(operation["responses"])
        assert {"422", "503", "default"} <= codes, (method, path)
        public = (method, path) in {("get", "/api/v1/openapi.json"), ("post", "/api/v1/tokens")}
        assert public or {"401", "403"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method != "get":
            assert {"400", "404", "409", "413"} <= codes, (method, path)
        for code in codes - {"default"}:
            if code.startswith(("4", "5")):
                response = document["components"]["responses"][operation["responses"][code]["$ref"].split("/")[-1]]
                assert response["content"]["application/json"]["schema"] == ERROR_REF, (method, path, code)
    assert count > 100
    tokens = document["paths"]["/api/v1/tokens"]["post"]["responses"]
    assert {"401", "429"} <= set(tokens)
    assert "429" not in document["paths"]["/api/v1/me"]["get"]["responses"]


def test_authenticated_operations_declare_the_bearer_token(document):
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/api/v1/tokens"]["post"]


def test_decimals_are_documented_as_the_strings_they_are_sent_as(document):
    schemas = document["components"]["schemas"]
    for name in ("Entry", "EntryLog"):
        mileage = schemas[name]["properties"]["mileage"]
        assert mileage["type"] == "string" and mileage["format"] == "decimal", name
    decimals = [(name, prop) for name, schema in schemas.items()
                for prop, spec in schema.get("properties", {}).items() if spec.get("format") == "decimal"]
    assert decimals and all(schemas[n]["properties"][p]["type"] == "string" for n, p in decimals)


@pytest.mark.parametrize(("schema", "field"), [
    ("Token", "last_used_at"), ("Notification", "read_at"), ("Hat", "ended_at"),
    ("TeamMember", "ended_on"), ("WorkerProfile", "date_of_birth"), ("Person", "phone"),
])
def test_output_fields_that_may_be_null_say_so(document, schema, field):
    assert document["components"]["schemas"][schema]["properties"][field].get("nullable") is True


def test_hours_operations_document_their_answers(document):
    paths = document["paths"]
    for path, method in (("/api/v1/me/fair-pay", "get"), ("/api/v1/pay-runs/{run_id}", "get"),
                         ("/api/v1/cooperatives/{cooperative_id}/hours-figures", "get"),
                         ("/api/v1/cooperatives/{cooperative_id}/pay-runs", "post")):
        responses = paths[path][method]["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success and all("content" in responses[code] for code in success), (method, path)
