"""The API document (/api/v1/openapi.json) tells the truth about errors.

flask-smorest documents what each view declares (its success response and the
422 of its arguments). This module adds, in one place, the error answers that
come from the app's shared layers rather than from the view itself:

- every operation: 422 (careteams.validation, the database refusing a value)
  and 503 (the database is away: careteams.errors);
- every operation that needs a logged-in person (all but PUBLIC_API): 401, and
  403 (the permission predicates of each domain);
- every operation with a path parameter, and every write: 404 (ids in the path
  or the body out of range, unknown or private);
- every write (POST, PUT, PATCH, DELETE): 400 (a body that is not JSON), 409
  (a conflict with the current state, or a database constraint) and 413 (a body
  over MAX_CONTENT_LENGTH);
- the token endpoint: 401 (wrong email or password) and 429 (login throttling).

A view documents any other error it can answer itself, e.g.
`@api_bp.alt_response(409, response="CONFLICT")` on a read that waits for a state.

Every error answer is the one envelope of careteams.errors, declared once as
the API's error schema (and its `default` response).
"""

from __future__ import annotations

import http

from apispec import BasePlugin
from flask_smorest import Api

from careteams import validation
from careteams.errors import ErrorEnvelopeSchema

# The only API calls that need no logged-in person (everything else is 401 first,
# before any input is parsed): careteams.app checks requests against this set.
PUBLIC_API = {("GET", "/api/v1/openapi.json"), ("POST", "/api/v1/tokens")}
LOGIN_API = {("POST", "/api/v1/tokens")}
WRITES = {"post", "put", "patch", "delete"}
BEARER = "bearerAuth"


def error_codes(method: str, path: str) -> list[int]:
    """The error status codes an operation can answer with, besides its own."""
    method = method.lower()
    key = (method.upper(), path)
    codes = [422, 503]
    if key not in PUBLIC_API:
        codes += [401, 403]
    if "{" in path or method in WRITES:
        codes.append(404)
    if method in WRITES:
        codes += [400, 409, 413]
    if key in LOGIN_API:
        codes += [401, 429]
    return sorted(set(codes))


class ErrorResponsesPlugin(BasePlugin):
    """An apispec plugin: adds error_codes() to each operation, as references to
    the error responses flask-smorest registers (one per HTTP status, each with
    the API's ERROR_SCHEMA), and the bearer-token requirement where it applies."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method not in {"get", "put", "post", "delete", "patch", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            present = {str(code) for code in responses}
            for code in error_codes(method, path):
                if str(code) not in present:
                    responses[str(code)] = http.HTTPStatus(code).name
            if (method.upper(), path) not in PUBLIC_API:
                operation.setdefault("security", [{BEARER: []}])


class CareteamsApi(Api):
    """flask-smorest's Api, minus its error handlers (careteams.errors owns the
    envelope), with the envelope as its documented error schema."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _init_spec(self, *args, extra_plugins=None, **kwargs):
        super()._init_spec(*args, extra_plugins=[*(extra_plugins or ()), ErrorResponsesPlugin()], **kwargs)
        self.ma_plugin.map_to_openapi_type(validation.Decimal, "string", "decimal")
        self.spec.components.security_scheme(BEARER, {
            "type": "http", "scheme": "bearer",
            "description": "A personal API token from POST /api/v1/tokens."})

    def _register_error_handlers(self):
        pass
