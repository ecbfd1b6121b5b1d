"""Input and output schemas for matching (no DB lookups, no auth)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, post_load, validate, validates_schema

from careteams.geo import PostcodeField
from careteams.matching import rules
from careteams.matching.enums import CheckKind, EmploymentType, VacancyStatus
from careteams.matching.rules import Action, CheckInAnswer
from careteams.validation import fields


class WindowField(fields.Field):
    """A weekly window: {"weekday": 0-6, "start": "09:00", "end": "12:30"} (or a "Monday 09:00-12:30" string)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                parsed = rules.parse_windows(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
            if len(parsed) != 1:
                raise ValidationError("Give one window, like 'Monday 09:00-12:30'.")
            return parsed[0]
        if not isinstance(value, dict):
            raise ValidationError("Give a weekday, a start and an end.")
        try:
            day = int(value["weekday"])
            text = f"{rules.WEEKDAYS[day]} {value['start']}-{value['end']}"
        except (KeyError, ValueError, TypeError, IndexError):
            raise ValidationError("Give a weekday (0 = Monday to 6 = Sunday), a start and an end like 09:00.") from None
        try:
            return rules.parse_windows(text)[0]
        except (ValueError, IndexError) as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        day, start, end = (value.weekday, value.start_minute, value.end_minute) if hasattr(value, "weekday") else value
        return {"weekday": day, "start": f"{start // 60:02d}:{start % 60:02d}", "end": f"{end // 60:02d}:{end % 60:02d}",
                "label": rules.format_window((day, start, end))}


def _words(max_items: int = 20):
    return fields.List(fields.String(validate=validate.Length(min=1, max=60)), load_default=list,
                       validate=validate.Length(max=max_items))


class _Place(Schema):
    # People give a postcode; its point comes from the geocoder (careteams/geo.py). An
    # integration that already knows the point may still send latitude and longitude
    # (used as given, no geocoder call); no page ever asks for them.
    postcode = PostcodeField(load_default=None, allow_none=True,
                             metadata={"description": "A UK postcode, like HX7 8AB."})
    latitude = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False,
                            metadata={"description": "For integrations only: people give a postcode."})
    longitude = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False,
                             metadata={"description": "For integrations only: people give a postcode."})
    district = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=8))

    @validates_schema
    def _point(self, data, **kwargs):
        if ("latitude" in data) != ("longitude" in data) or (
                (data.get("latitude") is None) != (data.get("longitude") is None)):
            raise ValidationError("Give both latitude and longitude, or neither (a postcode is enough).", "latitude")


class WorkerProfileInSchema(_Place):
    employment_type = fields.Enum(EmploymentType, required=True)
    hourly_rate_pence = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100_000))
    date_of_birth = fields.Date(load_default=None, allow_none=True)
    opt_out_48h_signed_on = fields.Date(load_default=None, allow_none=True)
    skill_ids = fields.List(fields.Integer(), load_default=list)
    languages = _words()
    interests = _words()
    windows = fields.List(WindowField(), load_default=list, validate=validate.Length(max=50))
    travel_km = fields.Integer(required=True, validate=validate.Range(min=0, max=200))
    available = fields.Boolean(load_default=True)

    class Meta:
        ordered = True

    @validates_schema
    def _rate(self, data, **kwargs):
        errors = {}
        if not data.get("postcode") and data.get("latitude") is None:
            errors["postcode"] = ["Enter your postcode, like HX7 8AB."]
        if data.get("employment_type") == EmploymentType.independent and not data.get("hourly_rate_pence"):
            errors["hourly_rate_pence"] = ["Independent workers give their usual hourly rate."]
        if errors:
            raise ValidationError(errors)


class SkillSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()


class SkillInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))


class SkillChangeSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=80))
    active = fields.Boolean()


class CheckSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(CheckKind)
    name = fields.String()
    reference = fields.String()
    checked_on = fields.Date()
    expires_on = fields.Date(allow_none=True)


class CheckInSchema(Schema):
    kind = fields.Enum(CheckKind, required=True)
    name = fields.String(load_default="", validate=validate.Length(max=80))
    reference = fields.String(load_default="", validate=validate.Length(max=60),
                              metadata={"description": "The certificate's or document's number, as seen."})
    checked_on = fields.Date(required=True)
    expires_on = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("expires_on") and data.get("checked_on") and data["expires_on"] <= data["checked_on"]:
            raise ValidationError("The expiry comes after the date of the check.", "expires_on")
        if data.get("kind") == CheckKind.training and not (data.get("name") or "").strip():
            raise ValidationError("Name the training item.", "name")


class WorkerProfileSchema(Schema):
    id = fields.Integer()
    person_id = fields.Integer()
    employment_type = fields.Enum(EmploymentType)
    hourly_rate_pence = fields.Integer(allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    opt_out_48h_signed_on = fields.Date(allow_none=True)
    skills = fields.List(fields.Nested(SkillSchema))
    languages = fields.List(fields.String())
    interests = fields.List(fields.String())
    windows = fields.List(WindowField())
    postcode = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    # True while the postcode waits for the geocoder: not suggested until then.
    geocode_pending = fields.Boolean()
    district = fields.String(allow_none=True)
    travel_km = fields.Integer()
    available = fields.Boolean()
    checks = fields.List(fields.Nested(CheckSchema))


class EqualityDataSchema(Schema):
    ethnicity = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    gender = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    age_band = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(["16-24", "25-34", "35-49", "50-64", "65+", "prefer not to say"]))
    disability = fields.String(load_default=None, allow_none=True,
                               validate=validate.OneOf(["yes", "no", "prefer not to say"]))


class MatchingSettingsSchema(Schema):
    review_required = fields.Boolean()
    introduction_stale_days = fields.Integer(validate=validate.Range(min=1, max=365))
    check_warning_days = fields.Integer(validate=validate.Range(min=0, max=365))
    required_training = fields.List(fields.String(validate=validate.Length(min=1, max=80)),
                                    validate=validate.Length(max=20))


class VacancyInSchema(_Place):
    needs = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    what_matters = fields.String(load_default="", validate=validate.Length(max=4000))
    required_skill_ids = fields.List(fields.Integer(), load_default=list)
    nice_skill_ids = fields.List(fields.Integer(), load_default=list)
    languages = _words()
    interests = _words()
    windows = fields.List(WindowField(), required=True, validate=validate.Length(min=1, max=50))

    @post_load
    def _strip(self, data, **kwargs):
        if "needs" in data and not data["needs"].strip():
            raise ValidationError("Say what help is needed.", "needs")
        return data


class VacancyChangeSchema(VacancyInSchema):
    status = fields.Enum(VacancyStatus)


class MatchStartSchema(Schema):
    person_id = fields.Integer(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class AskSchema(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class MatchActionSchema(Schema):
    action = fields.Enum(Action, required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    on = fields.Date(load_default=None, allow_none=True)


class CheckInAnswerSchema(Schema):
    answer = fields.Enum(CheckInAnswer, required=True)


class NotificationSchema(Schema):
    id = fields.Integer()
    body = fields.String()
    match_id = fields.Integer(allow_none=True)
    vacancy_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
