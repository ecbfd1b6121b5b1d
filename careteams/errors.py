"""One error family and one JSON envelope: {"error": {"code", "message", "details"}}.

Services raise AppError subclasses (never abort()). JSON clients get the envelope;
people in a browser get a friendly page with the same message.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from marshmallow import Schema, fields
from marshmallow import ValidationError as MarshmallowValidationError
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ErrorBodySchema(Schema):
    # dump_only: the envelope is only ever sent, never read (validation.is_safe).
    code = fields.String(required=True, dump_only=True, metadata={"description": "A stable machine-readable code, e.g. `not_found`."})
    message = fields.String(required=True, dump_only=True, metadata={"description": "A sentence for people."})
    details = fields.Dict(required=True, dump_only=True, metadata={
        "description": "More about the error; `fields` maps each invalid field to its messages (422)."})


class ErrorEnvelopeSchema(Schema):
    """The one JSON error envelope, as documented: the API's default error response
    (careteams.apidoc). `envelope()` below builds exactly this shape."""

    error = fields.Nested(ErrorBodySchema, required=True, dump_only=True)


def _session():
    # The app's SQLAlchemy session, found through the app: careteams.extensions
    # builds the Api with ErrorEnvelopeSchema, so this module cannot import it.
    return current_app.extensions["sqlalchemy"].session


class AppError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be understood."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        self.details = details or {}


class ValidationError(AppError):
    status = 422
    code = "validation_error"
    message = "Some of what was sent is not valid."


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "Please log in."


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do that."


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "That conflicts with the current state."


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    message = "Too many attempts. Please wait a little and try again."


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def envelope(status: int, code: str, message: str, details: dict | None = None):
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    else:
        response = render_template("error.html", status=status, code=code, message=message, details=details or {})
    return response, status


def ensure(allowed: bool, *, not_found: bool = False) -> None:
    """Raise Forbidden (or NotFound, where existence itself is private) unless allowed."""
    if not allowed:
        raise NotFound() if not_found else Forbidden()


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    503: "unavailable",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


RETRY_AFTER_SECONDS = 30
DB_AWAY_MESSAGE = "We cannot reach our database just now. Nothing you sent was saved. Please try again in a minute."
# One GSM-7 segment; Twilio does not deliver a reply from a 503, but the body says
# what happened to anyone reading the webhook's log.
DB_AWAY_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
                 "Sorry, we could not read your text just now. Please send it again in a few minutes."
                 "</Message></Response>")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        _session().rollback()
        return envelope(error.status, error.code, error.message, error.details)

    @app.errorhandler(MarshmallowValidationError)
    def handle_schema_error(error: MarshmallowValidationError):
        _session().rollback()
        return envelope(422, "validation_error", ValidationError.message, {"fields": error.normalized_messages()})

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        # A constraint the database enforces beat the application's own check:
        # somebody else changed the same thing at the same moment.
        _session().rollback()
        log.info("integrity error mapped to 409: %s", type(error.orig).__name__)
        return envelope(409, "conflict", "That conflicts with a change made at the same time. Please reload and try again.")

    @app.errorhandler(DataError)
    def handle_data_error(error: DataError):
        # The last line of defence behind careteams.validation: a value the
        # database refused (too long, out of range) is the client's input, not our fault.
        _session().rollback()
        log.warning("data error mapped to 422 on %s: %s", request.endpoint, type(error.orig).__name__)
        return envelope(422, "validation_error", "A value sent is too long or out of range.")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(PoolTimeoutError)
    def handle_database_away(error: Exception):
        # The database cannot be reached (restarted, failed over, out of
        # connections; on SQLite, locked past the busy timeout): nothing was
        # committed, so the client may simply try again.
        try:
            _session().rollback()
        except Exception:  # the connection is gone; the rollback cannot reach it either
            log.warning("rollback failed while the database was away", exc_info=True)
        log.warning("database unavailable on %s %s: %s", request.method, request.endpoint, type(error).__name__)
        if request.path.startswith("/sms/"):
            response = Response(DB_AWAY_TWIML, status=503, mimetype="text/xml")
        else:
            response, _ = envelope(503, "unavailable", DB_AWAY_MESSAGE)
            response = app.make_response((response, 503))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        if status == 422 and "messages" in data:
            # webargs (used by flask-smorest) reports schema errors per location.
            messages = data["messages"]
            fields = {}
            for location_errors in messages.values():
                if isinstance(location_errors, dict):
                    fields.update(location_errors)
            return envelope(422, "validation_error", ValidationError.message, {"fields": fields})
        code = HTTP_CODES.get(status, "error")
        if status == 429:
            return envelope(429, code, RateLimited.message)
        if status == 400 and "CSRF" in (error.description or ""):
            return envelope(400, "csrf_failed", "This form has expired. Please go back, reload the page and try again.")
        return envelope(status, code, error.description or error.name)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        _session().rollback()
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        return envelope(500, "internal_error", "Something went wrong on our side. Nothing you sent was saved.")
