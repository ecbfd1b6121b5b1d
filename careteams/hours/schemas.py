"""Hours input and output schemas (no database, no permissions). Money is dumped as
integer pence; percentages and quantities as strings of Decimals, never floats."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, validate, validates_schema

from careteams.hours.models import AreaBand, FunderKind
from careteams.hours.rules import EntryKind, hours_2dp
from careteams.validation import fields

Aware = fields.AwareDateTime  # an offset is required: "10:00" alone would be ambiguous
Minutes = lambda hi=24 * 60: fields.Integer(validate=validate.Range(0, hi))  # noqa: E731
Money = lambda: fields.Integer(required=True, validate=validate.Range(1, 100_000_00))  # noqa: E731


class EntryLogSchema(Schema):
    started_at = Aware(required=True)
    ended_at = Aware(required=True)
    kind = fields.String(load_default=EntryKind.visit.value,
                         validate=validate.OneOf([EntryKind.visit, EntryKind.overnight, EntryKind.sleep_in]))
    break_minutes = Minutes(240)
    travel_minutes = Minutes(600)
    waiting_minutes = Minutes(600)
    mileage = fields.Decimal(places=1, validate=validate.Range(0, 1000), as_string=True)
    note = fields.String(validate=validate.Length(max=280))

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("started_at") and data.get("ended_at") and data["ended_at"] <= data["started_at"]:
            raise ValidationError("The end must be after the start.", field_name="ended_at")


class EntryUpdateSchema(Schema):
    started_at = Aware()
    ended_at = Aware()
    break_minutes = Minutes(240)
    travel_minutes = Minutes(600)
    waiting_minutes = Minutes(600)
    mileage = fields.Decimal(places=1, validate=validate.Range(0, 1000), as_string=True)
    note = fields.String(validate=validate.Length(max=280))


class AdjustSchema(Schema):
    started_at = Aware()
    ended_at = Aware()
    break_minutes = Minutes(240)
    travel_minutes = Minutes(600)
    note = fields.String(validate=validate.Length(max=280))


class CommentSchema(Schema):
    comment = fields.String(required=True, validate=validate.Length(1, 500))


class EntryFiguresSchema(Schema):
    """An entry's figures at one step of its history (times in UTC, ISO 8601)."""

    started_at = fields.String()
    ended_at = fields.String()
    break_minutes = fields.Integer()
    travel_minutes = fields.Integer()


class EntryEventSchema(Schema):
    """One step in an entry's history: who, on which side, what they said, the figures."""

    id = fields.Integer()
    entry_id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    role = fields.String(metadata={"description": "worker, checker, facilitator or clock"})
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.Method("_actor_name", metadata={"type": "string", "nullable": True})
    words = fields.String(allow_none=True)
    figures_before = fields.Nested(EntryFiguresSchema, allow_none=True)
    figures_after = fields.Nested(EntryFiguresSchema, allow_none=True)
    other_entry_id = fields.Integer(allow_none=True)

    def _actor_name(self, event) -> str | None:
        return event.actor.name if event.actor is not None else None


class ResolveSchema(AdjustSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["confirm", "void"]))


class EntrySchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    person_id = fields.Integer()
    shift_id = fields.Integer(allow_none=True)
    kind = fields.String()
    status = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime()
    break_minutes = fields.Integer()
    travel_minutes = fields.Integer()
    waiting_minutes = fields.Integer()
    mileage = fields.Decimal(as_string=True)
    note = fields.String()
    proposed_started_at = fields.DateTime(allow_none=True)
    proposed_ended_at = fields.DateTime(allow_none=True)
    proposed_break_minutes = fields.Integer(allow_none=True)
    proposed_travel_minutes = fields.Integer(allow_none=True)
    proposal_note = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    confirmed_by_id = fields.Integer(allow_none=True)
    auto_confirmed = fields.Boolean()
    disputed_at = fields.DateTime(allow_none=True)
    dispute_comment = fields.String(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    corrects_id = fields.Integer(allow_none=True)


class SettingsSchema(Schema):
    auto_confirm_hours = fields.Integer(validate=validate.Range(1, 24 * 30))
    charge_percent = fields.Decimal(places=2, validate=validate.Range(0, 100), as_string=True)
    deduction_percent = fields.Decimal(places=2, validate=validate.Range(0, 99), as_string=True)
    sleep_in_allowance_pence = fields.Integer(validate=validate.Range(0, 100_000))
    cancellation_notice_hours = fields.Integer(validate=validate.Range(0, 24 * 14))
    cancellation_pay_percent = fields.Decimal(places=2, validate=validate.Range(0, 100), as_string=True)
    mileage_pence_per_mile = fields.Integer(validate=validate.Range(0, 500))
    pay_frequency = fields.String(validate=validate.OneOf(["weekly", "monthly"]))


class CoopPayRateSchema(Schema):
    id = fields.Integer(dump_only=True)
    area_band = fields.Enum(AreaBand, by_value=True, required=True)
    effective_from = fields.Date(required=True)
    hourly_rate_pence = Money()
    night_enhancement_pence = fields.Integer(load_default=0, validate=validate.Range(0, 10_000))
    bank_holiday_enhancement_pence = fields.Integer(load_default=0, validate=validate.Range(0, 10_000))


class WorkerRateSchema(Schema):
    id = fields.Integer(dump_only=True)
    cooperative_id = fields.Integer(load_default=None)
    team_id = fields.Integer(load_default=None)
    person_id = fields.Integer(required=True)
    effective_from = fields.Date(required=True)
    hourly_rate_pence = Money()

    @validates_schema
    def _where(self, data, **kwargs):
        if data.get("team_id") is None and data.get("cooperative_id") is None:
            raise ValidationError("Give the team (an agreed rate) or the co-op (your usual rate).",
                                  field_name="cooperative_id")


class FunderSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.Enum(FunderKind, by_value=True, required=True)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    share_percent = fields.Integer(required=True, validate=validate.Range(1, 100))


class FundersSchema(Schema):
    funders = fields.List(fields.Nested(FunderSchema), required=True, validate=validate.Length(1, 5))


class TeamTermsSchema(Schema):
    area_band = fields.Enum(AreaBand, by_value=True, required=True)


class RunCreateSchema(Schema):
    period_start = fields.Date(required=True)


class RunSchema(Schema):
    id = fields.Integer()
    cooperative_id = fields.Integer()
    frequency = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    closed_at = fields.DateTime()


class FairPaySchema(Schema):
    pay_pence = fields.Integer()
    working_minutes = fields.Integer()
    minimum_pence = fields.Integer()
    effective_pence_per_hour = fields.Decimal(as_string=True)
    below = fields.Boolean()
    arithmetic = fields.String()


class MonthFairPaySchema(FairPaySchema):
    cooperative_id = fields.Integer()
    month = fields.String(metadata={"description": "The month's first day (ISO date)."})


class MyFairPaySchema(Schema):
    months = fields.List(fields.Nested(MonthFairPaySchema))


class RunFairPaySchema(FairPaySchema):
    person_id = fields.Integer()
    name = fields.String()
    employed = fields.Boolean()
    age_band = fields.String()


class RunReportSchema(Schema):
    """A run's report: lines and totals as the pay rules give them (money in
    integer pence, quantities as decimal strings)."""

    run = fields.Nested(RunSchema)
    totals = fields.Dict()
    payroll = fields.List(fields.Dict())
    statements = fields.List(fields.Dict())
    invoices = fields.List(fields.Dict())
    fair_pay = fields.List(fields.Nested(RunFairPaySchema))
    held_back = fields.List(fields.Dict())


class FiguresSchema(Schema):
    """Per month: figures as integers or decimal strings."""

    months = fields.List(fields.Dict())


class FiguresQuerySchema(Schema):
    first = fields.Date(required=True)
    last = fields.Date(required=True)

    @validates_schema
    def _span(self, data, **kwargs):
        if data["last"] < data["first"] or (data["last"] - data["first"]).days > 3 * 366:
            raise ValidationError("Give at most three years, first before last.", field_name="last")


class MonthQuerySchema(Schema):
    month = fields.Date(load_default=None)


# ---------------------------------------------------------------- money for the person it concerns


class FundingSchema(Schema):
    name = fields.String()
    kind = fields.String()
    label = fields.String()
    is_self = fields.Boolean(metadata={"description": "The supported member's own (self-funded) share."})


class VisitChargeSchema(Schema):
    entry_id = fields.Integer()
    day = fields.Date(data_key="date")
    start = fields.String()
    end = fields.String()
    worker = fields.String()
    hours = fields.Decimal(as_string=True)
    rate_pence = fields.Integer(allow_none=True)
    enhancements_pence = fields.Integer()
    travel_mileage_pence = fields.Integer()
    shares = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Funder name -> that funder's share in pence."})
    total_pence = fields.Integer()
    corrects = fields.Boolean()


class MoneyPeriodSchema(Schema):
    run_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date(metadata={"description": "Exclusive."})
    hours = fields.Decimal(as_string=True)
    visits = fields.List(fields.Nested(VisitChargeSchema))
    funder_totals = fields.Dict(keys=fields.String(), values=fields.Integer())
    total_pence = fields.Integer()


class TeamMoneySchema(Schema):
    """Every invoice for a team's support, per closed run and per visit (pence)."""

    team_id = fields.Function(lambda m: m.team.id)
    funders = fields.List(fields.Nested(FundingSchema))
    periods = fields.List(fields.Nested(MoneyPeriodSchema))


class PayRunSummarySchema(Schema):
    run_id = fields.Integer()
    cooperative_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    hours = fields.Function(lambda s: str(hours_2dp(s.minutes)))
    pay_pence = fields.Integer()
    url = fields.String()


class VisitPaySchema(Schema):
    entry_id = fields.Integer()
    team = fields.String()
    day = fields.Date(data_key="date")
    start = fields.String()
    end = fields.String()
    hours = fields.Decimal(as_string=True)
    travel_hours = fields.Decimal(as_string=True)
    miles = fields.Decimal(as_string=True)
    hours_pence = fields.Integer()
    travel_pence = fields.Integer()
    enhancements_pence = fields.Integer()
    mileage_pence = fields.Integer()
    gross_pence = fields.Integer()
    deduction_pence = fields.Integer()
    pay_pence = fields.Integer()
    corrects = fields.Boolean()


class StatementSchema(Schema):
    """A worker's statement (independent) or payslip lines (employed) in one run."""

    run_id = fields.Function(lambda s: s.run.id)
    period_start = fields.Function(lambda s: s.run.period_start.isoformat())
    period_end = fields.Function(lambda s: s.run.period_end.isoformat())
    person_id = fields.Integer()
    name = fields.String()
    employed = fields.Boolean()
    deduction_percent = fields.Decimal(as_string=True)
    visits = fields.List(fields.Nested(VisitPaySchema))
    pay_pence = fields.Function(lambda s: s.total("pay_pence"))
    deduction_total_pence = fields.Function(lambda s: s.total("deduction_pence"))
    fair_pay = fields.Nested(FairPaySchema, allow_none=True)
