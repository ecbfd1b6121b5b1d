"""Hours pages: my hours, hours to confirm, disputes, runs, invoices and figures.
Thin adapters: read the form, call one service, commit once, redirect."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from careteams.auth.current import current_actor
from careteams.db import utcnow
from careteams.errors import ValidationError, ensure
from careteams.extensions import db
from careteams.hours import forms, rules
from careteams.hours import permissions as perm
from careteams.hours.enums import AreaBand, EntryKind
from careteams.hours.schemas import (
    CoopPayRateSchema,
    FundersSchema,
    TeamTermsSchema,
    WorkerRateSchema,
)
from careteams.hours.services import fair_pay, figures, money, rates, runs, timesheets
from careteams.matching import permissions as matching_perm
from careteams.matching.services.facilitator import matching_figures_by_month
from careteams.members.models import Cooperative
from careteams.teams.services.access import get_visible_team
from careteams.web import charts
from careteams.web.forms import PageForm, load, plain, refused

bp = Blueprint("hours", __name__)


@bp.app_template_filter("localtime")
def localtime(value, zone: str, fmt: str) -> str:
    """An aware UTC time shown on the team's clock."""
    return value.astimezone(ZoneInfo(zone)).strftime(fmt) if value else ""


@bp.app_template_global("can_set_team_terms")
def can_set_team_terms(access) -> bool:
    """For the team page and the money page: link to the team's funders by hours' own rule."""
    return perm.can_set_team_terms(access)


def _done(message: str, target: str, **values):
    db.session.commit()
    flash(message)
    return redirect(url_for(target, **values), code=303)


def _entry_forms(bound: tuple[int, str, PageForm] | None = None):
    """A template helper: the form for one entry's action, with ids unique on the page;
    the refused one (bound) keeps what was typed and its errors."""
    def form_for(entry, action: str) -> PageForm:
        if bound and bound[:2] == (entry.id, action):
            return bound[2]
        return ENTRY_FORMS[action](formdata=None).suffix_ids(entry.id)
    return form_for


ENTRY_FORMS: dict[str, type[PageForm]] = {"adjust": forms.AdjustForm, "dispute": forms.DisputeForm,
                                         "reject": forms.RejectForm, "resolve": forms.ResolveForm}


def _log_form(actor) -> tuple[forms.LogHoursForm, list]:
    teams = timesheets.teams_to_log_in(actor)
    form = forms.LogHoursForm()
    form.team_id.choices = [SelectChoice(t.id, f"{t.display_name}'s team") for t in teams]
    return form, teams


def _my_hours(actor, log_form, teams, bound=None, status: int = 200):
    entries = timesheets.my_entries(actor)
    return render_template("hours/my_hours.html", entries=entries, teams=teams, log_form=log_form,
                           form_for=_entry_forms(bound), fair_pay=fair_pay.my_fair_pay(actor, utcnow().date()),
                           money=rules.pounds, expected=money.expected_pay_for_entries(actor, entries)), status


@bp.route("/my/hours")
@login_required
def my_hours_page():
    actor = current_actor()
    return _my_hours(actor, *_log_form(actor))


@bp.route("/my/hours/log", methods=["POST"])
@login_required
def log_hours_page():
    actor = current_actor()
    form, teams = _log_form(actor)
    if form.validate_on_submit():
        # The day's own check (a date far off) names started_at; the rest name the end.
        with refused(form, rename={"started_at": "day", "ended_at": "end"}) as outcome:
            zone = timesheets.zone_of_team(actor, form.team_id.data)
            started, ended = _local_times(form.day.data, form.start.data, form.end.data, zone)
            timesheets.log_entry(actor, form.team_id.data, {
                "started_at": started, "ended_at": ended, "break_minutes": form.break_minutes.data or 0,
                "travel_minutes": form.travel_minutes.data or 0, "note": (form.note.data or "").strip()})
        if outcome.ok:
            return _done("Logged. Submit it when you are ready.", "hours.my_hours_page")
    return _my_hours(actor, form, teams, status=form.status)


@bp.route("/my/hours/<int:entry_id>/<action>", methods=["POST"])
@login_required
def my_hours_action(entry_id: int, action: str):
    actor = current_actor()
    if action == "submit":
        timesheets.submit_entry(actor, entry_id)
    elif action == "accept":
        timesheets.accept_adjustment(actor, entry_id)
    elif action == "reject":
        timesheets.get_entry(actor, entry_id)  # 404 before any talk about the form
        form = forms.RejectForm().suffix_ids(entry_id)
        if form.validate_on_submit():
            with refused(form) as outcome:
                timesheets.reject_adjustment(actor, entry_id, form.comment.data.strip())
            if outcome.ok:
                return _done("Thank you: your hours are updated.", "hours.my_hours_page")
        return _my_hours(actor, *_log_form(actor), bound=(entry_id, action, form), status=form.status)
    else:
        raise ValidationError(details={"fields": {"action": ["Unknown action."]}})
    return _done("Thank you: your hours are updated.", "hours.my_hours_page")


def _local_times(day: date, start: time, end: time, zone: str):
    try:
        return rules.local_times(day, (start.hour, start.minute), (end.hour, end.minute), zone)
    except ValueError as exc:
        raise ValidationError(details={"fields": {"start": [str(exc)]}}) from None


def _to_confirm(actor, bound=None, status: int = 200):
    return render_template("hours/to_confirm.html", entries=timesheets.entries_to_confirm(actor),
                           disputed=timesheets.disputes_in_my_teams(actor),
                           zone_of=lambda e: ZoneInfo(e.team.zone), form_for=_entry_forms(bound)), status


@bp.route("/hours/to-confirm")
@login_required
def to_confirm_page():
    return _to_confirm(current_actor())


@bp.route("/hours/to-confirm/<int:entry_id>/<action>", methods=["POST"])
@login_required
def to_confirm_action(entry_id: int, action: str):
    actor = current_actor()
    if action == "confirm":
        timesheets.confirm_entry(actor, entry_id)
        return _done("Thank you: the hours are updated.", "hours.to_confirm_page")
    if action not in ("dispute", "adjust"):
        raise ValidationError(details={"fields": {"action": ["Unknown action."]}})
    entry = timesheets.get_entry(actor, entry_id)  # 404 before any talk about the form
    form = ENTRY_FORMS[action]().suffix_ids(entry_id)
    if form.validate_on_submit():
        with refused(form, rename={"started_at": "start", "ended_at": "end"}) as outcome:
            if action == "dispute":
                timesheets.dispute_entry(actor, entry_id, form.comment.data.strip())
            else:
                day = entry.started_at.astimezone(ZoneInfo(entry.team.zone)).date()
                started, ended = _local_times(day, form.start.data, form.end.data, entry.team.zone)
                timesheets.propose_adjustment(actor, entry_id, {"started_at": started, "ended_at": ended,
                                                                "note": (form.note.data or "").strip()})
        if outcome.ok:
            return _done("Thank you: the hours are updated.", "hours.to_confirm_page")
    return _to_confirm(actor, bound=(entry_id, action, form), status=form.status)


def _disputes(actor, cooperative_id: int, bound=None, status: int = 200):
    return render_template("hours/disputes.html", entries=timesheets.disputes(actor, cooperative_id),
                           cooperative_id=cooperative_id, form_for=_entry_forms(bound)), status


@bp.route("/cooperatives/<int:cooperative_id>/hours/disputes")
@login_required
def disputes_page(cooperative_id: int):
    return _disputes(current_actor(), cooperative_id)


@bp.route("/cooperatives/<int:cooperative_id>/hours/disputes/<int:entry_id>", methods=["POST"])
@login_required
def resolve_page(cooperative_id: int, entry_id: int):
    actor = current_actor()
    timesheets.get_entry(actor, entry_id)  # 404 before any talk about the form
    form = forms.ResolveForm().suffix_ids(entry_id)
    if form.validate_on_submit():
        with refused(form) as outcome:
            timesheets.resolve_dispute(actor, entry_id, {"outcome": form.outcome.data, "note": form.note.data or ""})
        if outcome.ok:
            return _done("The dispute is settled.", "hours.disputes_page", cooperative_id=cooperative_id)
    return _disputes(actor, cooperative_id, bound=(entry_id, "resolve", form), status=form.status)


@bp.route("/cooperatives/<int:cooperative_id>/hours/runs", methods=["GET", "POST"])
@login_required
def runs_page(cooperative_id: int):
    actor = current_actor()
    form = forms.PayRunForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            made = runs.close_run(actor, cooperative_id, form.period_start.data)
        if outcome.ok:
            for entry_id, why in made.held_back:
                flash(f"Entry {entry_id} was held back: {why}.")
            return _done("The run is made." if made.created else "That period's run was already made.",
                         "hours.run_page", run_id=made.run.id)
    return render_template("hours/runs.html", runs=runs.list_runs(actor, cooperative_id), cooperative_id=cooperative_id,
                           form=form), form.status


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


# ---------------------------------------------------------------- the co-op's figures (issue 18)
# One page for facilitators and admins (hours.permissions.can_run_pay, like pay runs); its
# matching section shows only where matching.permissions.can_view_fairness allows (facilitators).
# The figures come from hours.services.figures and matching's matching_figures_by_month; the
# charts, the tables and the CSV are drawn from the same Chart objects.


def _one_dp(value) -> str:
    return f"{Decimal(value):.1f}"


def _percent(value) -> str:
    return f"{Decimal(value):.1f}%"


def _whole_percent(value) -> str:
    return f"{value}%"


def _or_none(fmt):
    return lambda value: "none" if value is None else fmt(value)


def _figures_view(cooperative_id: int):
    """(coop, form, view): the chosen months' charts in `view`; None where the form refused the months."""
    actor = current_actor()
    coop = figures.figures_cooperative(actor, cooperative_id)
    form = forms.FiguresRangeForm(request.args)
    today = utcnow().astimezone(ZoneInfo(coop.timezone)).date()
    chosen = form.months(date(today.year, today.month, 1))
    if chosen is None:
        return coop, form, None
    first, last = chosen
    months = rules.month_starts(first, last)
    rows, total = figures.figures_with_total(actor, cooperative_id, first, last)
    labels = [money.month_label(m) for m in months]
    axis = [f"{m:%b %y}" for m in months]

    def chart(key: str, title: str, desc: str, *series) -> charts.Chart:
        return charts.Chart(chart_id=f"figures-{key}", title=title, desc=desc + " The table below gives the same figures.",
                            categories=labels, axis_labels=axis, series=list(series))

    found = {
        "hours": chart("hours", "Hours of support delivered", "Bars for the hours of support confirmed each month.",
                       charts.series("Hours", [r["hours_delivered"] for r in rows], _one_dp)),
        "active": chart("active", "Active teams and workers",
                        "Bars for the teams and the workers with confirmed hours each month.",
                        charts.series("Active teams", [r["active_teams"] for r in rows]),
                        charts.series("Active workers", [r["active_workers"] for r in rows])),
        "turnover": chart("turnover", "Worker turnover",
                          "Bars for the workers who left each month and the month's turnover scaled to a year.",
                          charts.series("Leavers", [r["leavers"] for r in rows]),
                          charts.series("Turnover (a year)", [r["turnover_annualised_percent"] for r in rows], _percent)),
        "undisputed": chart("undisputed", "Hours confirmed without dispute",
                            "Bars for the share of each month's confirmed hours that were never disputed.",
                            charts.series("Confirmed without dispute", [r["confirmed_without_dispute_percent"]
                                                                        for r in rows], _percent)),
    }
    matching_total = None
    if matching_perm.can_view_fairness(actor, cooperative_id):
        matched, matching_total = matching_figures_by_month(actor, coop, months)
        success = [m["success_percent"] for m in matched]
        median = [m["median_days_vacancy_to_join"] for m in matched]
        # A month with nothing decided (or nobody joined) says "none", not 0.
        found["matching"] = chart(
            "matching", "Matching success and days from vacancy to start",
            "Bars for the mutual matches decided each month, the share of them that became team members, "
            "and the median days from the vacancy to the worker joining.",
            charts.series("Mutual matches decided", [m["mutual_matches_decided"] for m in matched]),
            charts.Series("Matching success", [v or 0 for v in success], [_or_none(_whole_percent)(v) for v in success]),
            charts.Series("Median days to start", [Decimal(str(v or 0)) for v in median],
                          [_or_none(_one_dp)(v) for v in median]))
    view = {"first": first, "last": last, "months": len(months), "charts": found, "total": total,
            "comparison": rules.turnover_comparison(total["turnover_annualised_percent"]),
            "matching_total": matching_total, "range_args": {"from_month": f"{first:%Y-%m}", "to_month": f"{last:%Y-%m}"}}
    return coop, form, view


@bp.route("/cooperatives/<int:cooperative_id>/hours/figures")
@login_required
def figures_page(cooperative_id: int):
    coop, form, view = _figures_view(cooperative_id)
    return render_template("hours/figures.html", coop=coop, form=form, view=view, cooperative_id=cooperative_id,
                           max_months=forms.MAX_FIGURE_MONTHS), form.status, {"Cache-Control": "private, no-store"}


@bp.route("/cooperatives/<int:cooperative_id>/hours/figures.csv")
@login_required
def figures_csv(cooperative_id: int):
    coop, form, view = _figures_view(cooperative_id)
    if view is None:  # the page says why, beside the months
        return figures_page(cooperative_id)
    return _csv(charts.charts_csv(list(view["charts"].values())),
                f"figures-{coop.slug}-{view['first']:%Y-%m}-to-{view['last']:%Y-%m}.csv")


# ---------------------------------------------------------------- one entry: its history, the dispute as a conversation

ENTRY_PAGE_FORMS: dict[str, type[PageForm]] = {"answer": forms.AnswerForm, "reply": forms.ReplyForm,
                                              "settle": forms.SettleForm}


def _settle_defaults(entry) -> dict:
    zone = ZoneInfo(entry.team.zone)
    return {"start": entry.started_at.astimezone(zone).time(), "end": entry.ended_at.astimezone(zone).time(),
            "break_minutes": entry.break_minutes, "travel_minutes": entry.travel_minutes}


def _entry_page(actor, entry_id: int, bound: tuple[str, PageForm] | None = None, status: int = 200):
    view = timesheets.entry_view(actor, entry_id)
    entry = view["entry"]
    page_forms = {"answer": forms.AnswerForm(formdata=None), "reply": forms.ReplyForm(formdata=None),
                  "settle": forms.SettleForm(formdata=None, **_settle_defaults(entry))}
    if bound:
        page_forms[bound[0]] = bound[1]
    return render_template("hours/entry.html", **view, forms=page_forms, refused=bool(bound)), status


@bp.route("/hours/entries/<int:entry_id>")
@login_required
def entry_page(entry_id: int):
    return _entry_page(current_actor(), entry_id)


@bp.route("/hours/entries/<int:entry_id>/<action>", methods=["POST"])
@login_required
def entry_action(entry_id: int, action: str):
    actor = current_actor()
    entry = timesheets.get_entry(actor, entry_id)  # 404 before any talk about the form
    if action == "confirm":
        timesheets.confirm_entry(actor, entry_id)
        return _done("Thank you: the hours are confirmed.", "hours.entry_page", entry_id=entry_id)
    if action not in ENTRY_PAGE_FORMS:
        raise ValidationError(details={"fields": {"action": ["Unknown action."]}})
    form = ENTRY_PAGE_FORMS[action]()
    if form.validate_on_submit():
        with refused(form, rename={"started_at": "start", "ended_at": "end"}) as outcome:
            if action == "answer":
                timesheets.answer_dispute(actor, entry_id, {"comment": form.comment.data})
            elif action == "reply":
                timesheets.reply_to_dispute(actor, entry_id, {"comment": form.comment.data})
            else:
                timesheets.resolve_dispute(actor, entry_id, _settled_figures(entry, form))
        if outcome.ok:
            said = {"answer": "Your answer is sent.", "reply": "Your reply is sent.", "settle": "The dispute is settled."}
            return _done(said[action], "hours.entry_page", entry_id=entry_id)
    return _entry_page(actor, entry_id, bound=(action, form), status=form.status)


def _settled_figures(entry, form: forms.SettleForm) -> dict:
    """The settle form's times on the team's clock, on the entry's day. Only a night's
    entry may end the next morning; a visit's end before its start is a mistake."""
    zone = entry.team.zone
    if form.end.data <= form.start.data and entry.kind not in (EntryKind.overnight, EntryKind.sleep_in):
        raise ValidationError(details={"fields": {"end": ["The end must be after the start."]}})
    day = entry.started_at.astimezone(ZoneInfo(zone)).date()
    started, ended = _local_times(day, form.start.data, form.end.data, zone)
    return {"outcome": "confirm", "started_at": started, "ended_at": ended,
            "break_minutes": form.break_minutes.data or 0, "travel_minutes": form.travel_minutes.data or 0,
            "note": form.note.data or ""}


# ---------------------------------------------------------------- money for the person it concerns


def _csv(body: str, filename: str) -> Response:
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}",
                                                        "Cache-Control": "private, no-store"})


@bp.route("/teams/<int:team_id>/money")
@login_required
def team_money_page(team_id: int):
    actor = current_actor()
    data = money.team_money(actor, team_id)
    _, access = get_visible_team(actor, team_id)
    chart = charts.Chart(
        chart_id="team-money-chart", title="Hours and cost per month",
        desc="Bars for the hours of support invoiced each month and what they cost in total (all funders); "
             "the table below gives the same figures.",
        categories=[money.month_label(m) for m, _h, _c in data.monthly()],
        series=[charts.series("Hours", [h for _m, h, _c in data.monthly()]),
                charts.series("Cost", [c for _m, _h, c in data.monthly()], rules.pounds)],
        empty_text="No invoices yet.")
    return render_template("hours/team_money.html", data=data, chart=chart, money=rules.pounds,
                           may_set_funders=perm.can_set_team_terms(access)), 200, {
        "Cache-Control": "private, no-store"}


@bp.route("/teams/<int:team_id>/money.csv")
@login_required
def team_money_csv(team_id: int):
    data = money.team_money(current_actor(), team_id)
    return _csv(money.team_money_csv(data), f"money-team-{team_id}.csv")


@bp.route("/my/pay")
@login_required
def my_pay_page():
    summaries = money.my_pay(current_actor())
    monthly = money.monthly_pay(summaries)
    chart = charts.Chart(
        chart_id="my-pay-chart", title="Hours and pay per month",
        desc="Bars for the hours you were paid for each month (visits and travel) and what you were paid; "
             "the table below gives the same figures.",
        categories=[money.month_label(m) for m, _h, _p in monthly],
        series=[charts.series("Hours", [h for _m, h, _p in monthly]),
                charts.series("Pay", [p for _m, _h, p in monthly], rules.pounds)],
        empty_text="No pay runs have paid you yet.")
    return render_template("hours/my_pay.html", summaries=summaries, chart=chart, money=rules.pounds), 200, {
        "Cache-Control": "private, no-store"}


@bp.route("/hours/runs/<int:run_id>/statements/<int:person_id>")
@login_required
def statement_page(run_id: int, person_id: int):
    st = money.statement(current_actor(), run_id, person_id)
    return render_template("hours/statement.html", st=st, money=rules.pounds, hours=rules.hours_2dp), 200, {
        "Cache-Control": "private, no-store"}


@bp.route("/hours/runs/<int:run_id>/statements/<int:person_id>.csv")
@login_required
def statement_csv(run_id: int, person_id: int):
    st = money.statement(current_actor(), run_id, person_id)
    return _csv(money.statement_csv(st), f"statement-{st.run.period_start}-{person_id}.csv")


# ---------------------------------------------------------------- the co-op's pay rates (admins)


PAY_RATE_FIELDS = {"hourly_rate_pence": "hourly_rate", "night_enhancement_pence": "night_enhancement",
                   "bank_holiday_enhancement_pence": "bank_holiday_enhancement"}


def _pay_rate_data(form: forms.PayRateForm) -> dict:
    """The form's pounds as the API's pence; amounts that are not pounds and pence are refused beside their field."""
    data = {"area_band": form.area_band.data, "effective_from": form.effective_from.data.isoformat()}
    wrong: dict[str, list[str]] = {}
    for api_name, field_name in PAY_RATE_FIELDS.items():
        typed = form[field_name].data
        if not typed:
            continue
        try:
            data[api_name] = rules.pence_from_pounds(typed)
        except ValueError as exc:
            wrong[field_name] = [str(exc)]
    if wrong:
        raise ValidationError(details={"fields": wrong})
    return load(CoopPayRateSchema(), data)


@bp.route("/cooperatives/<int:cooperative_id>/hours/pay-rates", methods=["GET", "POST"])
@login_required
def pay_rates_page(cooperative_id: int):
    actor = current_actor()
    rows = rates.coop_pay_rates(actor, cooperative_id)  # admins only: 403/404 before any form
    form = forms.PayRateForm()
    if form.validate_on_submit():
        with refused(form, rename=PAY_RATE_FIELDS) as outcome:
            rates.set_coop_pay_rate(actor, cooperative_id, _pay_rate_data(form))
        if outcome.ok:
            return _done("The pay rate is added.", "hours.pay_rates_page", cooperative_id=cooperative_id)
    coop = db.session.get(Cooperative, cooperative_id)
    today = utcnow().astimezone(ZoneInfo(coop.timezone)).date()
    return render_template("hours/pay_rates.html", coop=coop, form=form, today=today, band_words=forms.AREA_BAND_WORDS,
                           by_band=rules.rates_by_band(rows, [b.value for b in AreaBand], today),
                           money=rules.pounds), form.status


# ---------------------------------------------------------------- a team's funders and area band (facilitators)


def _funders_page(actor, team_id: int, funders_form=None, band_form=None, rate_form=None, status: int = 200):
    team, access = get_visible_team(actor, team_id)
    current = rates.team_funders(actor, team_id)  # facilitators and the team's checkers
    band = rates.team_area_band(actor, team_id)
    agreed, workers = rates.team_agreed_rates(actor, team_id)
    rate_form = rate_form or forms.AgreedRateForm(formdata=None)
    rate_form.person_id.choices = [(person_id, name) for person_id, name in workers]
    if funders_form is None:
        filled = {}
        for i, f in enumerate(current, start=1):
            filled.update({f"kind_{i}": f.kind.value, f"name_{i}": f.name, f"share_{i}": f.share_percent})
        funders_form = forms.FundersForm(formdata=None, data=filled)
    band_form = band_form or forms.AreaBandForm(formdata=None, area_band=band.value)
    return render_template("hours/funders.html", team=team, funders=current, band=band,
                           may_change=perm.can_set_team_terms(access), funders_form=funders_form, band_form=band_form,
                           agreed=agreed, workers=workers, rate_form=rate_form, money=rules.pounds,
                           band_words=forms.AREA_BAND_WORDS, kind_words=forms.FUNDER_KIND_WORDS), status


@bp.route("/teams/<int:team_id>/funders")
@login_required
def funders_page(team_id: int):
    return _funders_page(current_actor(), team_id)


MISSING = {"Missing data for required field.", "Field may not be null."}
FUNDER_MISSING = {"kind": "Choose the kind of funder.", "name": "Enter the funder's name.",
                  "share_percent": "Enter the funder's share, like 50."}


def _funder_words(api_name: str, message: str, label: str) -> str:
    if message in MISSING and api_name in FUNDER_MISSING:
        return FUNDER_MISSING[api_name]
    return plain(message, label)


def _place_funder_errors(form: forms.FundersForm, rows: list[tuple[int, dict]], error: ValidationError) -> None:
    """The API's messages per funder ("funders": {0: {"share_percent": [...]}}) beside that row's field;
    the total (shares must add up to 100) beside every share typed."""
    fields = (error.details or {}).get("fields") or {}
    value = fields.get("funders")
    names = {"kind": "kind", "name": "name", "share_percent": "share"}
    if isinstance(value, dict):
        for index, messages in value.items():
            number = rows[int(index)][0]
            for api_name, said in (messages.items() if isinstance(messages, dict) else [("name", messages)]):
                field = form[f"{names.get(api_name, 'name')}_{number}"]
                field.errors = list(field.errors) + [_funder_words(api_name, m, field.label.text) for m in said]
    elif value:
        for number, _ in rows[:1]:
            field = form[f"share_{number}"]
            field.errors = list(field.errors) + ["The shares must add up to 100."]
    if not value:
        form.form_errors.append(error.message)


@bp.route("/teams/<int:team_id>/funders", methods=["POST"])
@login_required
def set_funders_page(team_id: int):
    actor = current_actor()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_set_team_terms(access))
    form = forms.FundersForm()
    if form.validate_on_submit():
        rows = form.filled()
        if not rows:
            form.form_errors.append("Enter at least one funder.")
            form.kind_1.errors = ["Choose the kind of funder."]
        else:
            try:
                data = load(FundersSchema(), {"funders": [r for _, r in rows]})
                rates.set_funders(actor, team_id, data["funders"])
            except ValidationError as error:
                db.session.rollback()
                _place_funder_errors(form, rows, error)
            else:
                return _done("The funders are saved.", "hours.funders_page", team_id=team_id)
    return _funders_page(actor, team_id, funders_form=form, status=form.status)


@bp.route("/teams/<int:team_id>/agreed-rates", methods=["POST"])
@login_required
def agree_rate_page(team_id: int):
    """A rate agreed with one of the team's independent workers (the API's POST /worker-rates with a team)."""
    actor = current_actor()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_set_team_terms(access))
    form = forms.AgreedRateForm()
    _, workers = rates.team_agreed_rates(actor, team_id)
    form.person_id.choices = [(person_id, name) for person_id, name in workers]
    if form.validate_on_submit():
        try:
            pence = rules.pence_from_pounds(form.hourly_rate.data)
        except ValueError as exc:
            form.hourly_rate.errors = [str(exc)]
        else:
            with refused(form, rename={"hourly_rate_pence": "hourly_rate"}) as outcome:
                rates.set_worker_rate(actor, load(WorkerRateSchema(), {
                    "team_id": team_id, "person_id": form.person_id.data,
                    "effective_from": form.effective_from.data.isoformat(), "hourly_rate_pence": pence}))
            if outcome.ok:
                return _done("The agreed rate is saved.", "hours.funders_page", team_id=team_id)
    return _funders_page(actor, team_id, rate_form=form, status=form.status)


@bp.route("/teams/<int:team_id>/area-band", methods=["POST"])
@login_required
def set_area_band_page(team_id: int):
    actor = current_actor()
    form = forms.AreaBandForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            rates.set_team_terms(actor, team_id, load(TeamTermsSchema(), {"area_band": form.area_band.data})["area_band"])
        if outcome.ok:
            return _done("The team's area band is saved.", "hours.funders_page", team_id=team_id)
    return _funders_page(actor, team_id, band_form=form, status=form.status)
