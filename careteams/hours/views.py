"""Hours JSON API: thin adapters (parse, call one service, commit once, dump)."""

from __future__ import annotations

from decimal import Decimal

from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from careteams.auth.current import current_actor
from careteams.db import utcnow
from careteams.extensions import db
from careteams.hours.schemas import (
    AdjustSchema,
    CommentSchema,
    CoopPayRateSchema,
    EntryEventSchema,
    EntryLogSchema,
    EntrySchema,
    EntryUpdateSchema,
    FairPaySchema,
    FiguresQuerySchema,
    FiguresSchema,
    FunderSchema,
    FundersSchema,
    MonthQuerySchema,
    MyFairPaySchema,
    PayRunSummarySchema,
    ResolveSchema,
    RunCreateSchema,
    RunReportSchema,
    RunSchema,
    SettingsSchema,
    StatementSchema,
    TeamMoneySchema,
    TeamTermsSchema,
    WorkerRateSchema,
)
from careteams.hours.services import fair_pay, figures, money, rates, runs, timesheets

api_bp = ApiBlueprint("hours_api", __name__, url_prefix="/api/v1", description="Hours: timesheets, rates, runs")


# ---------------------------------------------------------------- API: entries


@api_bp.route("/me/timesheets")
class MyTimesheets(MethodView):
    @api_bp.response(200, EntrySchema(many=True))
    def get(self):
        """My timesheet entries, newest first."""
        return timesheets.my_entries(current_actor())


@api_bp.route("/me/fair-pay")
class MyFairPay(MethodView):
    @api_bp.arguments(MonthQuerySchema, location="query")
    @api_bp.response(200, MyFairPaySchema)
    def get(self, query: dict):
        """My effective hourly pay this month (after the co-op's deduction) against the legal minimum."""
        month = query.get("month") or utcnow().date()
        rows = fair_pay.my_fair_pay(current_actor(), month)
        return {"months": [{"cooperative_id": r["cooperative_id"], "month": r["month"].isoformat(),
                            **FairPaySchema().dump(r["result"])} for r in rows]}


@api_bp.route("/teams/<int:team_id>/timesheets")
class TeamTimesheets(MethodView):
    @api_bp.arguments(EntryLogSchema)
    @api_bp.response(201, EntrySchema)
    def post(self, data: dict, team_id: int):
        """Log support that was not on the rota (the worker); it starts pending."""
        entry = timesheets.log_entry(current_actor(), team_id, data)
        db.session.commit()
        return entry


@api_bp.route("/timesheets/to-confirm")
class ToConfirm(MethodView):
    @api_bp.response(200, EntrySchema(many=True))
    def get(self):
        """Submitted hours waiting for me (leader or Hours checker)."""
        return timesheets.entries_to_confirm(current_actor())


@api_bp.route("/timesheets/<int:entry_id>")
class Timesheet(MethodView):
    @api_bp.response(200, EntrySchema)
    def get(self, entry_id: int):
        """One entry (its worker, the team's checkers, the co-op's facilitators)."""
        return timesheets.get_entry(current_actor(), entry_id)

    @api_bp.arguments(EntryUpdateSchema)
    @api_bp.response(200, EntrySchema)
    def patch(self, changes: dict, entry_id: int):
        """The worker corrects a pending entry."""
        entry = timesheets.update_entry(current_actor(), entry_id, changes)
        db.session.commit()
        return entry


def _action(name: str, call, schema=None, doc: str = ""):
    """One POST route per action on an entry: /timesheets/<id>/<name>."""

    class Action(MethodView):
        if schema is None:
            @api_bp.response(200, EntrySchema)
            def post(self, entry_id: int):
                entry = call(current_actor(), entry_id)
                db.session.commit()
                return entry
        else:
            @api_bp.arguments(schema)
            @api_bp.response(200, EntrySchema)
            def post(self, data: dict, entry_id: int):
                entry = call(current_actor(), entry_id, data)
                db.session.commit()
                return entry

    Action.post.__doc__ = doc
    Action.__name__ = f"Timesheet{name.title().replace('-', '')}"
    api_bp.route(f"/timesheets/<int:entry_id>/{name}")(Action)


_action("submit", timesheets.submit_entry, doc="The worker submits the entry.")
_action("confirm", timesheets.confirm_entry, doc="The leader or an Hours checker confirms (never their own hours).")
_action("adjust", timesheets.propose_adjustment, AdjustSchema, doc="A checker proposes other figures.")
_action("accept", timesheets.accept_adjustment, doc="The worker accepts the proposed figures.")
_action("reject", lambda a, i, d: timesheets.reject_adjustment(a, i, d["comment"]), CommentSchema,
        doc="The worker rejects the proposal: it becomes a dispute.")
_action("dispute", lambda a, i, d: timesheets.dispute_entry(a, i, d["comment"]), CommentSchema,
        doc="A checker disputes the entry, with a comment for a facilitator.")
_action("resolve", timesheets.resolve_dispute, ResolveSchema, doc="A facilitator settles a dispute.")
_action("answer", timesheets.answer_dispute, CommentSchema,
        doc="The worker answers a dispute about their hours (the checker who disputed them is told).")
_action("reply", timesheets.reply_to_dispute, CommentSchema,
        doc="The leader or an Hours checker replies to the worker's answer (the worker is told).")


@api_bp.route("/timesheets/<int:entry_id>/history")
class TimesheetHistory(MethodView):
    @api_bp.response(200, EntryEventSchema(many=True))
    def get(self, entry_id: int):
        """The entry's history, oldest first: every step, who took it, what they said, the figures."""
        return timesheets.entry_history(current_actor(), entry_id)


_action("correct", timesheets.correct_entry, EntryUpdateSchema,
        doc="A correction of confirmed hours: a new linked entry, confirmed by both sides again.")


# ---------------------------------------------------------------- API: rates, funders, settings


@api_bp.route("/cooperatives/<int:cooperative_id>/hours-settings")
class HoursSettingsView(MethodView):
    @api_bp.arguments(SettingsSchema)
    @api_bp.response(200, SettingsSchema)
    def put(self, changes: dict, cooperative_id: int):
        """Change the co-op's pay settings (admins)."""
        row = rates.update_settings(current_actor(), cooperative_id, changes)
        db.session.commit()
        return row


@api_bp.route("/cooperatives/<int:cooperative_id>/pay-rates")
class CoopPayRates(MethodView):
    @api_bp.arguments(CoopPayRateSchema)
    @api_bp.response(201, CoopPayRateSchema)
    def post(self, data: dict, cooperative_id: int):
        """Add a pay rate for employed workers in an area band from a date (admins)."""
        row = rates.set_coop_pay_rate(current_actor(), cooperative_id, data)
        db.session.commit()
        return row


@api_bp.route("/worker-rates")
class WorkerRates(MethodView):
    @api_bp.arguments(WorkerRateSchema)
    @api_bp.response(201, WorkerRateSchema)
    def post(self, data: dict):
        """An independent worker's usual rate (themselves) or one agreed with a team (facilitators)."""
        row = rates.set_worker_rate(current_actor(), data)
        db.session.commit()
        return row


@api_bp.route("/teams/<int:team_id>/funders")
class TeamFunders(MethodView):
    @api_bp.response(200, FunderSchema(many=True))
    def get(self, team_id: int):
        """Who pays for the team's support."""
        return rates.team_funders(current_actor(), team_id)

    @api_bp.arguments(FundersSchema)
    @api_bp.response(200, FunderSchema(many=True))
    def put(self, data: dict, team_id: int):
        """Replace the team's funders; shares add up to 100 (facilitators)."""
        rows = rates.set_funders(current_actor(), team_id, data["funders"])
        db.session.commit()
        return rows


@api_bp.route("/teams/<int:team_id>/hours-terms")
class TeamTerms(MethodView):
    @api_bp.arguments(TeamTermsSchema)
    @api_bp.response(200, TeamTermsSchema)
    def put(self, data: dict, team_id: int):
        """Set the team's area band (facilitators)."""
        row = rates.set_team_terms(current_actor(), team_id, data["area_band"])
        db.session.commit()
        return row


# ---------------------------------------------------------------- API: runs, disputes, figures


def _plain(row: dict) -> dict:
    """Decimals (quantities, hours, miles) as strings, never floats."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}


def _report_payload(report: runs.RunReport) -> dict:
    return {
        "run": report.run,  # dumped by RunReportSchema
        "totals": report.totals,
        "payroll": [_plain(row) for row in report.payroll],
        "statements": [{**s, "lines": [_plain(line) for line in s["lines"]]} for s in report.statements],
        "invoices": [{**i, "lines": [_plain(line) for line in i["lines"]]} for i in report.invoices],
        "fair_pay": [{"person_id": r.person_id, "name": r.name, "employed": r.employed, "age_band": r.band,
                      **FairPaySchema().dump(r.result)} for r in report.fair_pay],
        "held_back": report.held_back,
    }


@api_bp.route("/cooperatives/<int:cooperative_id>/pay-runs")
class PayRuns(MethodView):
    @api_bp.response(200, RunSchema(many=True))
    def get(self, cooperative_id: int):
        """The co-op's runs (facilitators)."""
        return runs.list_runs(current_actor(), cooperative_id)

    @api_bp.arguments(RunCreateSchema)
    @api_bp.response(201, RunReportSchema)
    @api_bp.alt_response(200, schema=RunReportSchema, description="The run already made for that period.")
    def post(self, data: dict, cooperative_id: int):
        """Make and close the run for a period; asking again returns the same run."""
        outcome = runs.close_run(current_actor(), cooperative_id, data["period_start"])
        db.session.commit()
        return _report_payload(runs.run_report(current_actor(), outcome.run.id)), 201 if outcome.created else 200


@api_bp.route("/pay-runs/<int:run_id>")
class PayRunView(MethodView):
    @api_bp.response(200, RunReportSchema)
    def get(self, run_id: int):
        """A run's payroll, statements, invoices and fair-pay check."""
        return _report_payload(runs.run_report(current_actor(), run_id))


@api_bp.route("/cooperatives/<int:cooperative_id>/timesheet-disputes")
class Disputes(MethodView):
    @api_bp.response(200, EntrySchema(many=True))
    def get(self, cooperative_id: int):
        """Entries in dispute (facilitators)."""
        return timesheets.disputes(current_actor(), cooperative_id)


@api_bp.route("/cooperatives/<int:cooperative_id>/hours-figures")
class Figures(MethodView):
    @api_bp.arguments(FiguresQuerySchema, location="query")
    @api_bp.response(200, FiguresSchema)
    def get(self, query: dict, cooperative_id: int):
        """Per month: hours delivered, active teams and workers, turnover, share confirmed without dispute."""
        rows = figures.figures(current_actor(), cooperative_id, query["first"], query["last"])
        return {"months": [{k: (str(v) if not isinstance(v, (int, str)) else v) for k, v in r.items()} for r in rows]}


# ---------------------------------------------------------------- API: money for the person it concerns


@api_bp.route("/teams/<int:team_id>/money")
class TeamMoneyView(MethodView):
    @api_bp.response(200, TeamMoneySchema)
    def get(self, team_id: int):
        """Every invoice for the team's support, per visit and per funder (the supported member,
        her arrangers, a `see_money` hat)."""
        return money.team_money(current_actor(), team_id)


@api_bp.route("/me/pay")
class MyPay(MethodView):
    @api_bp.response(200, PayRunSummarySchema(many=True))
    def get(self):
        """The runs that paid me, newest first, with my hours and pay in each."""
        return money.my_pay(current_actor())


@api_bp.route("/pay-runs/<int:run_id>/statements/<int:person_id>")
class StatementView(MethodView):
    @api_bp.response(200, StatementSchema)
    def get(self, run_id: int, person_id: int):
        """A worker's statement or payslip lines in one run (hers, or the co-op's pay staff)."""
        return money.statement(current_actor(), run_id, person_id)
