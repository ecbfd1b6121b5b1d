"""Marshmallow schemas for the rota API (no database, no permissions)."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, validate, validates_schema

from careteams.rota.enums import ShiftKind
from careteams.rota.rules import CHECK_CODES
from careteams.validation import fields

KINDS = [k.value for k in ShiftKind]


class ShiftCreateSchema(Schema):
    starts_at = fields.DateTime(required=True, metadata={"description": "ISO 8601; without an offset it is the team's wall clock"})
    ends_at = fields.DateTime(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    required_skills = fields.List(fields.String(validate=validate.Length(1, 60)), load_default=list,
                                  validate=validate.Length(max=20))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    break_minutes = fields.Integer(load_default=0, validate=validate.Range(0, 240))
    is_trial = fields.Boolean(load_default=False)
    tasks = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                        validate=validate.Length(max=30),
                        metadata={"description": "Lines of the current support plan's routines, personal care or outcomes"})


class ShiftUpdateSchema(Schema):
    scope = fields.String(load_default="this", validate=validate.OneOf(["this", "following"]))
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    start_time = fields.Time()
    duration_minutes = fields.Integer(validate=validate.Range(1, 24 * 60))
    rrule = fields.String(validate=validate.Length(1, 300))
    kind = fields.String(validate=validate.OneOf(KINDS))
    required_skills = fields.List(fields.String(validate=validate.Length(1, 60)), validate=validate.Length(max=20))
    notes = fields.String(validate=validate.Length(max=2000))
    break_minutes = fields.Integer(validate=validate.Range(0, 240))
    tasks = fields.List(fields.String(validate=validate.Length(1, 200)), validate=validate.Length(max=30),
                        metadata={"description": "Tasks from the current support plan (replaces the visit's tasks)"})

    @validates_schema
    def _scope_fields(self, data, **kwargs):
        if data.get("scope") == "this" and {"start_time", "duration_minutes", "rrule"} & set(data):
            raise ValidationError("Use starts_at and ends_at to move one visit.", field_name="scope")


class SeriesCreateSchema(Schema):
    rrule = fields.String(required=True, validate=validate.Length(1, 300),
                          metadata={"description": "RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR"})
    first_date = fields.Date(required=True)
    start_time = fields.Time(required=True, metadata={"description": "Local wall-clock time in the team's zone"})
    duration_minutes = fields.Integer(required=True, validate=validate.Range(1, 24 * 60))
    ends_on = fields.Date(load_default=None, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    required_skills = fields.List(fields.String(validate=validate.Length(1, 60)), load_default=list)
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    break_minutes = fields.Integer(load_default=0, validate=validate.Range(0, 240))
    tasks = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                        validate=validate.Length(max=30),
                        metadata={"description": "Lines of the current support plan's routines, personal care or outcomes"})

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("ends_on") and data.get("first_date") and data["ends_on"] < data["first_date"]:
            raise ValidationError("Must be on or after the first date.", field_name="ends_on")


class SeriesSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    rrule = fields.String()
    first_date = fields.Date()
    start_time = fields.Time()
    duration_minutes = fields.Integer()
    ends_on = fields.Date(allow_none=True)
    kind = fields.String()
    tasks = fields.List(fields.String())


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class OfferCreateSchema(Schema):
    wave_size = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 500))


class OutsideOfferSchema(Schema):
    """No fields: the rota's rules choose who is offered, never the caller (issue 14).
    Any field sent (person_ids included) is a 422 unknown field."""


class OutsideOfferSentSchema(Schema):
    """How many workers this wave reached: nothing about who, or about anyone left out."""

    offered = fields.Integer(required=True)


class BookSchema(Schema):
    person_id = fields.Integer(required=True)


class FindingSchema(Schema):
    code = fields.String()
    message = fields.String()
    blocking = fields.Boolean()


class ShiftSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    team_name = fields.String()
    series_id = fields.Integer(allow_none=True)
    occurrence_date = fields.Date(allow_none=True)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    local_start = fields.DateTime(metadata={"description": "In the team's zone, with its offset"})
    local_end = fields.DateTime()
    zone = fields.String()
    duration_minutes = fields.Integer(metadata={"description": "True length, computed in UTC"})
    kind = fields.String()
    required_skills = fields.List(fields.String())
    break_minutes = fields.Integer()
    notes = fields.String()
    tasks = fields.List(fields.String(), metadata={"description": "Tasks from the support plan"})
    status = fields.String()
    is_trial = fields.Boolean()
    booked_person_id = fields.Integer(allow_none=True)
    booked_person_name = fields.String(allow_none=True)
    cover_requested = fields.Boolean()
    arrived_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    notice_minutes = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    warnings = fields.List(fields.Nested(FindingSchema))


class WorkerHoursSchema(Schema):
    person_id = fields.Integer()
    name = fields.String()
    hours_this_week = fields.Float()
    average_weekly_hours = fields.Float(metadata={"description": "Over the 17 weeks ending this week"})


class RotaWeekSchema(Schema):
    team_id = fields.Integer()
    week_start = fields.Date()
    zone = fields.String()
    shifts = fields.List(fields.Nested(ShiftSchema))
    workers = fields.List(fields.Nested(WorkerHoursSchema))


class RotaQuerySchema(Schema):
    # Any week a rota could hold; beyond the calendar's edge the week's bounds overflow.
    week = fields.Date(load_default=None, allow_none=True,
                       validate=validate.Range(min=date(1900, 1, 1), max=date(9000, 12, 31),
                                               error="Give a week between 1900 and 9000."))


class OfferBriefSchema(Schema):
    id = fields.Integer()
    shift_id = fields.Integer()
    person_id = fields.Integer()
    code = fields.String()
    status = fields.String()
    wave = fields.Integer()
    is_cover = fields.Boolean()
    expires_at = fields.AwareDateTime(allow_none=True)


class OfferSchema(OfferBriefSchema):
    shift = fields.Nested(ShiftSchema)


class OfferResultSchema(Schema):
    outcome = fields.String()
    message = fields.String()
    shift_id = fields.Integer(allow_none=True)
    warnings = fields.List(fields.Nested(FindingSchema))


class ChecksQuerySchema(Schema):
    person_id = fields.Integer(load_default=None, allow_none=True)


class SwapCreateSchema(Schema):
    shift_id = fields.Integer(required=True)
    other_shift_id = fields.Integer(required=True)


class SwapAnswerSchema(Schema):
    agree = fields.Boolean(required=True)


class SwapDecisionSchema(Schema):
    approve = fields.Boolean(required=True)


class SwapSchema(Schema):
    id = fields.Integer()
    shift_id = fields.Integer()
    other_shift_id = fields.Integer()
    requested_by_id = fields.Integer()
    partner_id = fields.Integer()
    status = fields.String()


class FeedCreateSchema(Schema):
    team_id = fields.Integer(load_default=None, allow_none=True)


class FeedSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    url = fields.String(metadata={"description": "Secret: shown once"})


class RotaSettingsSchema(Schema):
    blocking_checks = fields.List(fields.String(validate=validate.OneOf(CHECK_CODES)))
    allow_short_personal_care = fields.Boolean()
    travel_speed_kmh = fields.Integer(validate=validate.Range(1, 200))
    offer_wave_size = fields.Integer(validate=validate.Range(0, 500))
    offer_ttl_minutes = fields.Integer(validate=validate.Range(1, 7 * 24 * 60))
    missed_visit_minutes = fields.Integer(validate=validate.Range(1, 240))
    horizon_weeks = fields.Integer(validate=validate.Range(1, 52))


class RotaSettingsChangeSchema(RotaSettingsSchema):
    pass
