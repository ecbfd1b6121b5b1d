"""Hours pages: my hours, hours to confirm, disputes, runs, invoices and figures.
Thin adapters: read the form, call one service, commit once, redirect."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import login_required

from careteams.auth.current import current_actor
from careteams.db import utcnow
from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.services import fair_pay, figures, runs, timesheets

bp = Blueprint("hours", __name__)


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
    return render_template("hours/my_hours.html", entries=timesheets.my_entries(actor), teams=timesheets.teams_to_log_in(actor),
                           fair_pay=fair_pay.my_fair_pay(actor, utcnow().date()), money=rules.pounds)


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
    zone = timesheets.zone_of_team(current_actor(), team_id)
    started, ended = _local_times(day, start, end, zone)
    timesheets.log_entry(current_actor(), team_id, {
        "started_at": started, "ended_at": ended, "break_minutes": _minutes("break_minutes", 240),
        "travel_minutes": _minutes("travel_minutes", 600), "note": (request.form.get("note") or "")[:280]})
    return _done("Logged. Submit it when you are ready.", "hours.my_hours_page")


@bp.route("/my/hours/<int:entry_id>/<action>", methods=["POST"])
@login_required
def my_hours_action(entry_id: int, action: str):
    actor = current_actor()
    if action == "submit":
        timesheets.submit_entry(actor, entry_id)
    elif action == "accept":
        timesheets.accept_adjustment(actor, entry_id)
    elif action == "reject":
        timesheets.reject_adjustment(actor, entry_id, _comment())
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
    return render_template("hours/to_confirm.html", entries=timesheets.entries_to_confirm(current_actor()),
                           zone_of=lambda e: ZoneInfo(e.team.zone))


@bp.route("/hours/to-confirm/<int:entry_id>/<action>", methods=["POST"])
@login_required
def to_confirm_action(entry_id: int, action: str):
    actor = current_actor()
    if action == "confirm":
        timesheets.confirm_entry(actor, entry_id)
    elif action == "dispute":
        timesheets.dispute_entry(actor, entry_id, _comment())
    elif action == "adjust":
        entry = timesheets.get_entry(actor, entry_id)
        day = entry.started_at.astimezone(ZoneInfo(entry.team.zone)).date()
        start, end = _clock("start"), _clock("end")
        started, ended = _local_times(day, start, end, entry.team.zone)
        timesheets.propose_adjustment(actor, entry_id, {"started_at": started, "ended_at": ended,
                                                 "note": (request.form.get("note") or "")[:280]})
    else:
        raise ValidationError(details={"fields": {"action": ["Unknown action."]}})
    return _done("Thank you: the hours are updated.", "hours.to_confirm_page")


@bp.route("/cooperatives/<int:cooperative_id>/hours/disputes")
@login_required
def disputes_page(cooperative_id: int):
    return render_template("hours/disputes.html", entries=timesheets.disputes(current_actor(), cooperative_id),
                           cooperative_id=cooperative_id)


@bp.route("/cooperatives/<int:cooperative_id>/hours/disputes/<int:entry_id>", methods=["POST"])
@login_required
def resolve_page(cooperative_id: int, entry_id: int):
    outcome = request.form.get("outcome")
    if outcome not in ("confirm", "void"):
        raise ValidationError(details={"fields": {"outcome": ["Choose confirm or void."]}})
    timesheets.resolve_dispute(current_actor(), entry_id, {"outcome": outcome, "note": (request.form.get("note") or "")[:500]})
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
        outcome = runs.close_run(actor, cooperative_id, start)
        for entry_id, why in outcome.held_back:
            flash(f"Entry {entry_id} was held back: {why}.")
        return _done("The run is made." if outcome.created else "That period's run was already made.",
                     "hours.run_page", run_id=outcome.run.id)
    return render_template("hours/runs.html", runs=runs.list_runs(actor, cooperative_id), cooperative_id=cooperative_id)


@bp.route("/hours/runs/<int:run_id>")
@login_required
def run_page(run_id: int):
    return render_template("hours/run.html", report=runs.run_report(current_actor(), run_id), money=rules.pounds)


@bp.route("/hours/runs/<int:run_id>/payroll.csv")
@login_required
def payroll_csv(run_id: int):
    report = runs.run_report(current_actor(), run_id)
    return Response(runs.payroll_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=payroll-{report.run.period_start}.csv"})


def _invoice(run_id: int, team_id: int, funder_id: int):
    report = runs.run_report(current_actor(), run_id)
    return report, runs.invoice_for(report, team_id, funder_id or None)


@bp.route("/hours/runs/<int:run_id>/invoices/<int:team_id>/<int:funder_id>.csv")
@login_required
def invoice_csv(run_id: int, team_id: int, funder_id: int):
    report, invoice = _invoice(run_id, team_id, funder_id)
    return Response(runs.invoice_csv(report, invoice), mimetype="text/csv",
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
    rows = figures.figures(current_actor(), cooperative_id, first, today)
    peak = max((r["hours_delivered"] for r in rows), default=0) or 1
    return render_template("hours/figures.html", rows=rows, peak=peak, cooperative_id=cooperative_id)
