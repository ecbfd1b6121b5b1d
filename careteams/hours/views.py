"""Hours JSON API and pages: thin adapters (parse, call one service, commit once, dump)."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_login import login_required

from careteams.auth.current import current_actor
from careteams.db import utcnow
from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.hours import api_bp, bp, rules
from careteams.hours import services as svc
from careteams.hours.schemas import (
    AdjustSchema,
    CommentSchema,
    CoopPayRateSchema,
    EntryLogSchema,
    EntrySchema,
    EntryUpdateSchema,
    FairPaySchema,
    FiguresQuerySchema,
    FunderSchema,
    FundersSchema,
    MonthQuerySchema,
    ResolveSchema,
    RunCreateSchema,
    RunSchema,
    SettingsSchema,
    TeamTermsSchema,
    WorkerRateSchema,
)

# ---------------------------------------------------------------- API: entries


@api_bp.route("/me/timesheets")
class MyTimesheets(MethodView):
    @api_bp.response(200, EntrySchema(many=True))
    def get(self):
        """My timesheet entries, newest first."""
        return svc.my_entries(current_actor())


@api_bp.route("/me/fair-pay")
class MyFairPay(MethodView):
    @api_bp.arguments(MonthQuerySchema, location="query")
    def get(self, query: dict):
        """My effective hourly pay this month (after the co-op's deduction) against the legal minimum."""
        month = query.get("month") or utcnow().date()
        rows = svc.my_fair_pay(current_actor(), month)
        return {"months": [{"cooperative_id": r["cooperative_id"], "month": r["month"].isoformat(),
                            **FairPaySchema().dump(r["result"])} for r in rows]}


@api_bp.route("/teams/<int:team_id>/timesheets")
class TeamTimesheets(MethodView):
    @api_bp.arguments(EntryLogSchema)
    @api_bp.response(201, EntrySchema)
    def post(self, data: dict, team_id: int):
        """Log support that was not on the rota (the worker); it starts pending."""
        entry = svc.log_entry(current_actor(), team_id, data)
        db.session.commit()
        return entry


@api_bp.route("/timesheets/to-confirm")
class ToConfirm(MethodView):
    @api_bp.response(200, EntrySchema(many=True))
    def get(self):
        """Submitted hours waiting for me (leader or Hours checker)."""
        return svc.entries_to_confirm(current_actor())


@api_bp.route("/timesheets/<int:entry_id>")
class Timesheet(MethodView):
    @api_bp.response(200, EntrySchema)
    def get(self, entry_id: int):
        """One entry (its worker, the team's checkers, the co-op's facilitators)."""
        return svc.get_entry(current_actor(), entry_id)

    @api_bp.arguments(EntryUpdateSchema)
    @api_bp.response(200, EntrySchema)
    def patch(self, changes: dict, entry_id: int):
        """The worker corrects a pending entry."""
        entry = svc.update_entry(current_actor(), entry_id, changes)
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


_action("submit", svc.submit_entry, doc="The worker submits the entry.")
_action("confirm", svc.confirm_entry, doc="The leader or an Hours checker confirms (never their own hours).")
_action("adjust", svc.propose_adjustment, AdjustSchema, doc="A checker proposes other figures.")
_action("accept", svc.accept_adjustment, doc="The worker accepts the proposed figures.")
_action("reject", lambda a, i, d: svc.reject_adjustment(a, i, d["comment"]), CommentSchema,
        doc="The worker rejects the proposal: it becomes a dispute.")
_action("dispute", lambda a, i, d: svc.dispute_entry(a, i, d["comment"]), CommentSchema,
        doc="A checker disputes the entry, with a comment for a facilitator.")
_action("resolve", svc.resolve_dispute, ResolveSchema, doc="A facilitator settles a dispute.")
_action("correct", svc.correct_entry, EntryUpdateSchema,
        doc="A correction of confirmed hours: a new linked entry, confirmed by both sides again.")


# ---------------------------------------------------------------- API: rates, funders, settings


@api_bp.route("/cooperatives/<int:cooperative_id>/hours-settings")
class HoursSettingsView(MethodView):
    @api_bp.arguments(SettingsSchema)
    @api_bp.response(200, SettingsSchema)
    def put(self, changes: dict, cooperative_id: int):
        """Change the co-op's pay settings (admins)."""
        row = svc.update_settings(current_actor(), cooperative_id, changes)
        db.session.commit()
        return row


@api_bp.route("/cooperatives/<int:cooperative_id>/pay-rates")
class CoopPayRates(MethodView):
    @api_bp.arguments(CoopPayRateSchema)
    @api_bp.response(201, CoopPayRateSchema)
    def post(self, data: dict, cooperative_id: int):
        """Add a pay rate for employed workers in an area band from a date (admins)."""
        row = svc.set_coop_pay_rate(current_actor(), cooperative_id, data)
        db.session.commit()
        return row


@api_bp.route("/worker-rates")
class WorkerRates(MethodView):
    @api_bp.arguments(WorkerRateSchema)
    @api_bp.response(201, WorkerRateSchema)
    def post(self, data: dict):
        """An independent worker's usual rate (themselves) or one agreed with a team (facilitators)."""
        row = svc.set_worker_rate(current_actor(), data)
        db.session.commit()
        return row


@api_bp.route("/teams/<int:team_id>/funders")
class TeamFunders(MethodView):
    @api_bp.response(200, FunderSchema(many=True))
    def get(self, team_id: int):
        """Who pays for the team's support."""
        return svc.team_funders(current_actor(), team_id)

    @api_bp.arguments(FundersSchema)
    @api_bp.response(200, FunderSchema(many=True))
    def put(self, data: dict, team_id: int):
        """Replace the team's funders; shares add up to 100 (facilitators)."""
        rows = svc.set_funders(current_actor(), team_id, data["funders"])
        db.session.commit()
        return rows


@api_bp.route("/teams/<int:team_id>/hours-terms")
class TeamTerms(MethodView):
    @api_bp.arguments(TeamTermsSchema)
    @api_bp.response(200, TeamTermsSchema)
    def put(self, data: dict, team_id: int):
        """Set the team's area band (facilitators)."""
        row = svc.set_team_terms(current_actor(), team_id, data["area_band"])
        db.session.commit()
        return row


# ---------------------------------------------------------------- API: runs, disputes, figures


def _report_payload(report: svc.RunReport) -> dict:
    return {
        "run": RunSchema().dump(report.run),
        "totals": report.totals,
        "payroll": [{**row, "quantity": str(row["quantity"])} for row in report.payroll],
        "statements": [{**s, "lines": [{**line, "quantity": str(line["quantity"])} for line in s["lines"]]}
                       for s in report.statements],
        "invoices": report.invoices,
        "fair_pay": [{"person_id": r.person_id, "name": r.name, "employed": r.employed, "age_band": r.band,
                      **FairPaySchema().dump(r.result)} for r in report.fair_pay],
    }


@api_bp.route("/cooperatives/<int:cooperative_id>/pay-runs")
class PayRuns(MethodView):
    @api_bp.response(200, RunSchema(many=True))
    def get(self, cooperative_id: int):
        """The co-op's runs (facilitators)."""
        return svc.list_runs(current_actor(), cooperative_id)

    @api_bp.arguments(RunCreateSchema)
    def post(self, data: dict, cooperative_id: int):
        """Make and close the run for a period; asking again returns the same run."""
        outcome = svc.close_run(current_actor(), cooperative_id, data["period_start"])
        db.session.commit()
        payload = _report_payload(svc.run_report(current_actor(), outcome.run.id))
        payload["held_back"] = [{"entry_id": i, "reason": why} for i, why in outcome.held_back]
        return payload, 201 if outcome.created else 200


@api_bp.route("/pay-runs/<int:run_id>")
class PayRunView(MethodView):
    def get(self, run_id: int):
        """A run's payroll, statements, invoices and fair-pay check."""
        return _report_payload(svc.run_report(current_actor(), run_id))


@api_bp.route("/cooperatives/<int:cooperative_id>/timesheet-disputes")
class Disputes(MethodView):
    @api_bp.response(200, EntrySchema(many=True))
    def get(self, cooperative_id: int):
        """Entries in dispute (facilitators)."""
        return svc.disputes(current_actor(), cooperative_id)


@api_bp.route("/cooperatives/<int:cooperative_id>/hours-figures")
class Figures(MethodView):
    @api_bp.arguments(FiguresQuerySchema, location="query")
    def get(self, query: dict, cooperative_id: int):
        """Per month: hours delivered, active teams and workers, turnover, share confirmed without dispute."""
        rows = svc.figures(current_actor(), cooperative_id, query["first"], query["last"])
        return {"months": [{k: (str(v) if not isinstance(v, (int, str)) else v) for k, v in r.items()} for r in rows]}


# ---------------------------------------------------------------- pages


@bp.app_template_filter("localtime")
def localtime(value, zone: str, fmt: str) -> str:
    """An aware UTC time shown on the team's clock."""
    return value.astimezone(ZoneInfo(zone)).strftime(fmt) if value else ""


def _done(message: str, target: str, **values):
    db.session.commit()
    flash(message)
    return redirect(url_for(target, **values), code=303)


@bp.route("/my/hours")
@login_required
def my_hours_page():
    actor = current_actor()
    return render_template("hours/my_hours.html", entries=svc.my_entries(actor), teams=svc.teams_to_log_in(actor),
                           fair_pay=svc.my_fair_pay(actor, utcnow().date()), money=rules.pounds)


def _minutes(name: str, most: int) -> int:
    raw = (request.form.get(name) or "0").strip()
    if not raw.isdigit() or int(raw) > most:
        raise ValidationError(details={"fields": {name: [f"Whole minutes from 0 to {most}."]}})
    return int(raw)


@bp.route("/my/hours/log", methods=["POST"])
@login_required
def log_hours_page():
    try:
        team_id = int(request.form.get("team_id") or "")
        day = date.fromisoformat(request.form.get("day") or "")
    except ValueError:
        raise ValidationError(details={"fields": {"day": ["Choose the team and the day."]}}) from None
    start, end = _clock("start"), _clock("end")
    zone = svc.zone_of_team(current_actor(), team_id)
    started, ended = _local_times(day, start, end, zone)
    svc.log_entry(current_actor(), team_id, {
        "started_at": started, "ended_at": ended, "break_minutes": _minutes("break_minutes", 240),
        "travel_minutes": _minutes("travel_minutes", 600), "note": (request.form.get("note") or "")[:280]})
    return _done("Logged. Submit it when you are ready.", "hours.my_hours_page")


@bp.route("/my/hours/<int:entry_id>/<action>", methods=["POST"])
@login_required
def my_hours_action(entry_id: int, action: str):
    actor = current_actor()
    if action == "submit":
        svc.submit_entry(actor, entry_id)
    elif action == "accept":
        svc.accept_adjustment(actor, entry_id)
    elif action == "reject":
        svc.reject_adjustment(actor, entry_id, _comment())
    else:
        raise ValidationError(details={"fields": {"action": ["Unknown action."]}})
    return _done("Thank you: your hours are updated.", "hours.my_hours_page")


def _comment() -> str:
    comment = (request.form.get("comment") or "").strip()
    if not comment or len(comment) > 500:
        raise ValidationError("Please say why (up to 500 characters).",
                              details={"fields": {"comment": ["Please say why (up to 500 characters)."]}})
    return comment


def _local_times(day: date, start: time, end: time, zone: str):
    try:
        return rules.local_times(day, (start.hour, start.minute), (end.hour, end.minute), zone)
    except ValueError as exc:
        raise ValidationError(details={"fields": {"start": [str(exc)]}}) from None


def _clock(name: str) -> time:
    try:
        return time.fromisoformat(request.form.get(name) or "")
    except ValueError:
        raise ValidationError(details={"fields": {name: ["Use a time like 10:05."]}}) from None


@bp.route("/hours/to-confirm")
@login_required
def to_confirm_page():
    return render_template("hours/to_confirm.html", entries=svc.entries_to_confirm(current_actor()),
                           zone_of=lambda e: ZoneInfo(e.team.zone))


@bp.route("/hours/to-confirm/<int:entry_id>/<action>", methods=["POST"])
@login_required
def to_confirm_action(entry_id: int, action: str):
    actor = current_actor()
    if action == "confirm":
        svc.confirm_entry(actor, entry_id)
    elif action == "dispute":
        svc.dispute_entry(actor, entry_id, _comment())
    elif action == "adjust":
        entry = svc.get_entry(actor, entry_id)
        day = entry.started_at.astimezone(ZoneInfo(entry.team.zone)).date()
        start, end = _clock("start"), _clock("end")
        started, ended = _local_times(day, start, end, entry.team.zone)
        svc.propose_adjustment(actor, entry_id, {"started_at": started, "ended_at": ended,
                                                 "note": (request.form.get("note") or "")[:280]})
    else:
        raise ValidationError(details={"fields": {"action": ["Unknown action."]}})
    return _done("Thank you: the hours are updated.", "hours.to_confirm_page")


@bp.route("/cooperatives/<int:cooperative_id>/hours/disputes")
@login_required
def disputes_page(cooperative_id: int):
    return render_template("hours/disputes.html", entries=svc.disputes(current_actor(), cooperative_id),
                           cooperative_id=cooperative_id)


@bp.route("/cooperatives/<int:cooperative_id>/hours/disputes/<int:entry_id>", methods=["POST"])
@login_required
def resolve_page(cooperative_id: int, entry_id: int):
    outcome = request.form.get("outcome")
    if outcome not in ("confirm", "void"):
        raise ValidationError(details={"fields": {"outcome": ["Choose confirm or void."]}})
    svc.resolve_dispute(current_actor(), entry_id, {"outcome": outcome, "note": (request.form.get("note") or "")[:500]})
    return _done("The dispute is settled.", "hours.disputes_page", cooperative_id=cooperative_id)


@bp.route("/cooperatives/<int:cooperative_id>/hours/runs", methods=["GET", "POST"])
@login_required
def runs_page(cooperative_id: int):
    actor = current_actor()
    if request.method == "POST":
        try:
            start = date.fromisoformat(request.form.get("period_start") or "")
        except ValueError:
            raise ValidationError(details={"fields": {"period_start": ["Use a date like 2026-10-01."]}}) from None
        outcome = svc.close_run(actor, cooperative_id, start)
        for entry_id, why in outcome.held_back:
            flash(f"Entry {entry_id} was held back: {why}.")
        return _done("The run is made." if outcome.created else "That period's run was already made.",
                     "hours.run_page", run_id=outcome.run.id)
    return render_template("hours/runs.html", runs=svc.list_runs(actor, cooperative_id), cooperative_id=cooperative_id)


@bp.route("/hours/runs/<int:run_id>")
@login_required
def run_page(run_id: int):
    return render_template("hours/run.html", report=svc.run_report(current_actor(), run_id), money=rules.pounds)


@bp.route("/hours/runs/<int:run_id>/payroll.csv")
@login_required
def payroll_csv(run_id: int):
    report = svc.run_report(current_actor(), run_id)
    return Response(svc.payroll_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=payroll-{report.run.period_start}.csv"})


def _invoice(run_id: int, team_id: int, funder_id: int):
    report = svc.run_report(current_actor(), run_id)
    return report, svc.invoice_for(report, team_id, funder_id or None)


@bp.route("/hours/runs/<int:run_id>/invoices/<int:team_id>/<int:funder_id>.csv")
@login_required
def invoice_csv(run_id: int, team_id: int, funder_id: int):
    report, invoice = _invoice(run_id, team_id, funder_id)
    return Response(svc.invoice_csv(report, invoice), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=invoice-{run_id}-{team_id}-{funder_id}.csv"})


@bp.route("/hours/runs/<int:run_id>/invoices/<int:team_id>/<int:funder_id>")
@login_required
def invoice_page(run_id: int, team_id: int, funder_id: int):
    report, invoice = _invoice(run_id, team_id, funder_id)
    return render_template("hours/invoice.html", report=report, invoice=invoice, money=rules.pounds)


@bp.route("/cooperatives/<int:cooperative_id>/hours/figures")
@login_required
def figures_page(cooperative_id: int):
    today = utcnow().date()
    first = date(today.year - 1, today.month, 1)
    rows = svc.figures(current_actor(), cooperative_id, first, today)
    peak = max((r["hours_delivered"] for r in rows), default=0) or 1
    return render_template("hours/figures.html", rows=rows, peak=peak, cooperative_id=cooperative_id)


