"""The one validation layer every schema, path and webhook goes through.

No input produces a 500: whatever a client sends is refused as a 4xx before it
can reach the database, which refuses more than Python does (PostgreSQL's
`integer` is 32 bits, its text cannot hold NUL, and no driver can encode a lone
surrogate; Python's dates end at year 9999, so a date there cannot move a day on).

- **Schemas** use `from careteams.validation import fields` instead of
  marshmallow's: the same names, with String (Str, Email, Url), Integer (Int),
  Date, DateTime and AwareDateTime replaced by safe kinds. Integers stay within
  PostgreSQL's `integer`; strings carry no NUL byte and no lone surrogate; dates
  fall in years 1900-9000 (a field may narrow that with its own `validate=`);
  decimals are sent, received and documented as strings.
  tests/core/test_input_layer.py walks every schema in the OpenAPI document and
  fails on a field of marshmallow's unsafe kind.
- **Paths**: `<int:...>` is bounded to PostgreSQL's `integer` (beyond it: 404),
  and string segments with NUL or a lone surrogate match nothing (404).
- **Every request** (register_request_guard, run before any other hook, the rate
  limiter's included): bodies over MAX_CONTENT_LENGTH are 413; JSON that does not
  parse, or is nested deeper than MAX_JSON_DEPTH, is 400; an API body that is not
  a JSON object is 422; a NUL or lone surrogate in any query, form or JSON string
  (keys too) is 422 naming the field. The SMS webhook gets the same 4xx.
"""

from __future__ import annotations

import datetime as dt
import types

from flask import Flask, request
from marshmallow import ValidationError as SchemaError
from marshmallow import fields as _mfields
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter
from werkzeug.routing import ValidationError as NoMatch

from careteams.errors import ValidationError

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
MIN_YEAR = 1900
MAX_YEAR = 9000
MAX_CONTENT_LENGTH = 1024 * 1024
MAX_JSON_DEPTH = 20


def string_problem(value: str) -> str | None:
    """Why this string cannot be stored, or None."""
    if "\x00" in value:
        return "Must not contain a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (no lone surrogates)."
    return None


class _SafeStringMixin:
    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if isinstance(result, str) and (problem := string_problem(result)):
            raise SchemaError(problem)
        return result


class String(_SafeStringMixin, _mfields.String):
    """A string without NUL bytes or lone surrogates."""


class Email(_SafeStringMixin, _mfields.Email):
    """An email address without NUL bytes or lone surrogates."""


class Url(_SafeStringMixin, _mfields.Url):
    """A URL without NUL bytes or lone surrogates."""


class Integer(_mfields.Integer):
    """An integer that fits PostgreSQL's `integer` (ids, counts, pence)."""

    def _validated(self, value):
        result = super()._validated(value)
        if result is not None and not INT_MIN <= result <= INT_MAX:
            raise SchemaError(f"Must be between {INT_MIN} and {INT_MAX}.")
        return result


def _check_year(value):
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise SchemaError(f"Must be between the years {MIN_YEAR} and {MAX_YEAR}.")
    return value


class Date(_mfields.Date):
    """A date in years 1900-9000."""

    def _deserialize(self, value, attr, data, **kwargs):
        return _check_year(super()._deserialize(value, attr, data, **kwargs))


class DateTime(_mfields.DateTime):
    """A datetime in years 1900-9000."""

    def _deserialize(self, value, attr, data, **kwargs):
        return _check_year(super()._deserialize(value, attr, data, **kwargs))


class AwareDateTime(_mfields.AwareDateTime):
    """A timezone-aware datetime in years 1900-9000."""

    def _deserialize(self, value, attr, data, **kwargs):
        return _check_year(super()._deserialize(value, attr, data, **kwargs))


class NaiveDateTime(_mfields.NaiveDateTime):
    """A naive datetime in years 1900-9000."""

    def _deserialize(self, value, attr, data, **kwargs):
        return _check_year(super()._deserialize(value, attr, data, **kwargs))


class Decimal(_mfields.Decimal):
    """A decimal sent and documented as a string ("12.5"), never a float; the
    API document gives its type as string, format decimal (careteams.apidoc)."""

    PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

    def __init__(self, *args, **kwargs):
        kwargs["as_string"] = True
        kwargs.setdefault("metadata", {}).setdefault("pattern", self.PATTERN)
        super().__init__(*args, **kwargs)


SAFE = {
    "Decimal": Decimal,
    "String": String, "Str": String, "Email": Email, "Url": Url, "URL": Url,
    "Integer": Integer, "Int": Integer,
    "Date": Date, "DateTime": DateTime, "AwareDateTime": AwareDateTime, "NaiveDateTime": NaiveDateTime,
}
# UNSAFE: marshmallow's own kinds that a schema must not use (the safe ones subclass them).
UNSAFE = (_mfields.String, _mfields.Integer, _mfields.Date, _mfields.DateTime)

# `from careteams.validation import fields`: marshmallow's fields with the safe kinds.
fields = types.SimpleNamespace(**({name: getattr(_mfields, name) for name in _mfields.__all__} | SAFE))


def is_safe(field: _mfields.Field) -> bool:
    """False for a String, Integer, Date or DateTime field of marshmallow's own, unchecked kind."""
    if field.dump_only:
        return True  # never read from a request (e.g. careteams.errors' envelope)
    if isinstance(field, UNSAFE):
        return isinstance(field, tuple(SAFE.values()))
    return True


# Path converters ------------------------------------------------------------------


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` within PostgreSQL's `integer`: a larger id matches nothing (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class SafeStringConverter(UnicodeConverter):
    """A path segment with NUL or a lone surrogate matches nothing (404)."""

    def to_python(self, value):
        if string_problem(value):
            raise NoMatch()
        return value


class SafePathConverter(PathConverter):
    def to_python(self, value):
        if string_problem(value):
            raise NoMatch()
        return value


def register_converters(app: Flask) -> None:
    """Before any route is added: every route's ids and slugs are bounded."""
    app.url_map.converters.update(int=BoundedIntConverter, default=SafeStringConverter,
                                  string=SafeStringConverter, path=SafePathConverter)


# The request guard ----------------------------------------------------------------


def _json_depth_ok(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _first_bad_string(value, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        problem = string_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (problem := string_problem(key)):
                return (path or "body", problem)
            if found := _first_bad_string(item, name):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := _first_bad_string(item, f"{path}.{index}" if path else str(index)):
                return found
    return None


def _refuse(field: str, problem: str):
    raise ValidationError(details={"fields": {field or "body": [problem]}})


def check_request() -> None:
    """Refuse, as a 4xx, any input the database or the calendar could not hold."""
    for key, value in request.args.items(multi=True):
        if problem := string_problem(key) or string_problem(value):
            _refuse(key if not string_problem(key) else "query", problem)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if problem := string_problem(key) or string_problem(value):
                _refuse(key if not string_problem(key) else "form", problem)
    if request.is_json and request.content_length != 0 and request.get_data(cache=True):
        try:
            data = request.get_json()
        except RecursionError:
            raise BadRequest("The JSON body is nested too deeply.") from None
        if not _json_depth_ok(data, MAX_JSON_DEPTH):
            raise BadRequest(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
        if request.path.startswith("/api/") and not isinstance(data, dict):
            raise ValidationError("The body must be a JSON object.", details={"fields": {"body": ["Must be a JSON object."]}})
        if found := _first_bad_string(data, ""):
            _refuse(*found)


def register_request_guard(app: Flask) -> None:
    """Run check_request before every other before_request hook (the rate
    limiter's key functions read the body too)."""
    app.config.setdefault("MAX_CONTENT_LENGTH", MAX_CONTENT_LENGTH)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)


def check_year(value: dt.date | None) -> dt.date | None:
    """For code outside schemas (forms, query parsing): the same year bounds, as a 422."""
    try:
        return _check_year(value)
    except SchemaError as error:
        raise ValidationError(str(error.messages[0] if isinstance(error.messages, list) else error.messages)) from None
