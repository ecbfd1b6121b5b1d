"""Adding, changing and cancelling a team's visits on the web, for those the rota's
permissions allow (can_edit_rota, can_cancel_shift). Thin adapters: parse the form, call
one service inside `refused(form)`, commit once, redirect to the visit page.

Adding runs the rota's checks before saving (shifts.preview_shift, the checks the API
runs): a blocking finding stops the save and shows beside the form; warnings ask for a
tick ("I have read the warnings") and the save goes ahead once it is ticked. Times are
the team's wall clock (Europe/London); nothing in these forms is UTC."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from careteams.auth.current import current_actor
from careteams.extensions import db
from careteams.rota import rules
from careteams.rota.forms import CancelVisitForm, EditVisitForm, VisitForm, choices
from careteams.rota.pages.blueprint import bp
from careteams.rota.services import shifts
from careteams.web.forms import refused

# The services' field names, as these forms name them.
RENAME = {"starts_at": "start", "ends_at": "end", "duration_minutes": "length", "start_time": "start"}


@bp.app_template_global("may_add_visits")
def may_add_visits(team_id: int) -> bool:
    """The week and list views' "Add a visit" link, by the rota's own rule."""
    return shifts.may_add_visits(current_actor(), team_id)


@bp.app_template_global("visit_actions")
def visit_actions(shift_id: int) -> shifts.VisitActions:
    """The visit page's "Change" and "Cancel" links, by the rota's own rules."""
    return shifts.visit_actions(current_actor(), shift_id)


def _wall_times(form) -> dict:
    """The form's day and times as the service takes them: naive wall-clock times read in
    the team's zone, with the end or the true length in minutes."""
    if form.end.data is not None:
        starts, ends = rules.wall_end(form.day.data, form.start.data, form.end.data, form.kind.data)
        return {"starts_at": starts, "ends_at": ends}
    return {"starts_at": datetime.combine(form.day.data, form.start.data), "duration_minutes": form.length.data}


def _rename(form) -> dict:
    return {**RENAME, "ends_at": "end" if form.end.data is not None else "length"}


def _show_checks(form, outcome) -> None:
    """A refusal by the rota's checks names each check, beside the form."""
    checks = (outcome.error.details or {}).get("checks") if outcome.error else None
    form.form_errors.extend(f"Not allowed: {c['message']}" for c in checks or [])


# ---------------------------------------------------------------- add


@bp.route("/teams/<int:team_id>/rota/visits/new", methods=["GET", "POST"])
@login_required
def add_visit(team_id: int):
    actor = current_actor()
    team, tasks = shifts.new_visit(actor, team_id)
    form = VisitForm()
    form.tasks.choices = choices((t, t) for t in tasks)
    findings: list[rules.Finding] = []
    clock_note = None
    if form.day.data and form.is_submitted():
        changes = rules.clock_changes_between(team.zone, form.day.data, form.day.data + timedelta(days=1))
        clock_note = (changes[0], rules.ONE_OFF_CLOCK_WORDS) if changes else None
    if form.validate_on_submit():
        data = {**_wall_times(form), "kind": form.kind.data, "notes": form.notes.data or "",
                "break_minutes": form.break_minutes.data or 0, "tasks": list(form.tasks.data or [])}
        with refused(form, _rename(form)) as outcome:
            findings = shifts.preview_shift(actor, team_id, data)
        warnings = sorted({f.code for f in findings if not f.blocking})
        if not outcome.ok:
            findings = []
        elif any(f.blocking for f in findings):
            form.form_errors.append("The co-op's rota rules do not allow this visit. Change it and try again.")
        elif warnings and not (form.confirm.data and set(warnings) <= set((form.warned.data or "").split(","))):
            if form.warned.data:
                form.confirm.errors = ["Tick the box to say you have read the warnings, or change the visit."]
            form.confirm.data = False
            form.warned.data = ",".join(warnings)
        else:
            with refused(form, _rename(form)) as outcome:
                view = shifts.create_shift(actor, team_id, data)
            if outcome.ok:
                db.session.commit()
                flash(f"Visit added: {view.local_start:%A %-d %B, %H:%M}\u2013{view.local_end:%H:%M}.")
                return redirect(url_for("rota.team_visit", team_id=team.id, shift_id=view.id), code=303)
            _show_checks(form, outcome)
    return render_template("rota/visit_new.html", form=form, team=team, findings=findings,
                           has_tasks=bool(tasks), clock_note=clock_note), form.status


# ---------------------------------------------------------------- edit


@bp.route("/teams/<int:team_id>/rota/visits/<int:shift_id>/edit", methods=["GET", "POST"])
@login_required
def edit_visit(team_id: int, shift_id: int):
    actor = current_actor()
    visit = shifts.visit_to_edit(actor, team_id, shift_id)
    view = visit.view
    form = EditVisitForm(data={"day": view.local_start.date(), "start": view.local_start.time(),
                               "end": view.local_end.time(), "kind": view.kind.value, "notes": view.notes,
                               "break_minutes": view.break_minutes, "scope": "this",
                               "tasks": list(view.tasks or [])})
    # The plan's tasks; someone who may not read the plan is not offered them, and her
    # changes leave the visit's tasks as they are.
    form.tasks.choices = choices((t, t) for t in visit.plan_tasks)
    if not visit.in_series:
        del form.scope
    if form.validate_on_submit():
        scope = form.scope.data if visit.in_series else "this"
        times = _wall_times(form)
        changes = {"kind": form.kind.data, "notes": form.notes.data or "", "break_minutes": form.break_minutes.data or 0}
        if visit.plan_tasks:
            changes["tasks"] = list(form.tasks.data or [])
        if scope == "following" and form.day.data != view.local_start.date():
            form.day.errors = ["To move the day, change this visit only (the following visits keep their days)."]
        else:
            with refused(form, _rename(form)) as outcome:
                if scope == "following":
                    changes |= {"start_time": form.start.data, "duration_minutes": _minutes(times)}
                else:
                    changes |= {"starts_at": times["starts_at"], "ends_at": times.get("ends_at") or shifts.end_after(
                        times["starts_at"], times["duration_minutes"], view.zone)}
                shifts.update_shift(actor, shift_id, changes, scope=scope)
            if outcome.ok:
                db.session.commit()
                flash("The following visits were changed." if scope == "following" else "Visit changed.")
                return redirect(url_for("rota.team_visit", team_id=team_id, shift_id=shift_id), code=303)
            _show_checks(form, outcome)
    return render_template("rota/visit_edit.html", form=form, visit=visit), form.status


def _minutes(times: dict) -> int:
    """A series' length: the minutes given, or from the start to the end on the wall clock."""
    if times.get("duration_minutes"):
        return times["duration_minutes"]
    return int((times["ends_at"] - times["starts_at"]) / timedelta(minutes=1))

# ---------------------------------------------------------------- cancel


@bp.route("/teams/<int:team_id>/rota/visits/<int:shift_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_visit(team_id: int, shift_id: int):
    actor = current_actor()
    notice = shifts.cancel_notice(actor, team_id, shift_id)
    form = CancelVisitForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            shifts.cancel_shift(actor, shift_id, form.reason.data.strip())
        if outcome.ok:
            db.session.commit()
            flash("Visit cancelled." + (" We have told the worker who was booked." if notice.booked_name else ""))
            return redirect(url_for("rota.team_visit", team_id=team_id, shift_id=shift_id), code=303)
    return render_template("rota/visit_cancel.html", form=form, notice=notice), form.status
