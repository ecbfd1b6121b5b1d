"""Offering a visit on the web: to the team in a wave, booking a team worker directly,
the consent to offer it outside the team and the outside wave (a count only; also a
facilitator's, on a visit the rota escalated to facilitators), and
recurring visits. Thin adapters: parse with a form, call one service, commit once,
redirect; a refused form is shown again on the visit page with what was chosen and
the reason beside the field (careteams.web.forms.refused)."""

from __future__ import annotations

from types import SimpleNamespace

from flask import flash, redirect, render_template, url_for
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from careteams.auth.current import current_actor
from careteams.extensions import db
from careteams.rota import rules
from careteams.rota.forms import (
    BookVisitForm,
    ConsentOutsideForm,
    OfferVisitForm,
    OutsideOfferForm,
    SeriesForm,
    choices,
)
from careteams.rota.pages.blueprint import bp
from careteams.rota.services import offering, offers, series, shifts, visits
from careteams.web.forms import refused

# ---------------------------------------------------------------- the visit page's forms


def _forms(actions: offering.OfferingActions, **given) -> SimpleNamespace:
    """The offering forms for the visit page: fresh ones, or those given (a refused one)."""
    offer = given.get("offer") or OfferVisitForm(formdata=None, wave_size=actions.wave_size)
    book = given.get("book") or BookVisitForm(formdata=None)
    book.person_id.choices = [SelectChoice(str(pid), name) for pid, name in actions.bookable]
    return SimpleNamespace(actions=actions, offer=offer, book=book,
                           consent=given.get("consent") or ConsentOutsideForm(formdata=None),
                           outside=given.get("outside") or OutsideOfferForm(formdata=None))


@bp.app_template_global("offering_forms")
def offering_forms(visit) -> SimpleNamespace:
    """For rota/_offer_actions.html on a fresh visit page."""
    return _forms(offering.visit_actions(current_actor(), visit.team.id, visit.view.id))


def _refused_page(team_id: int, shift_id: int, status: int, keep: int | None = None, **given):
    """The visit page again, with the refused form as it was sent."""
    actor = current_actor()
    forms = _forms(offering.visit_actions(actor, team_id, shift_id, keep=keep), **given)
    return render_template("rota/visit.html", visit=visits.team_visit(actor, team_id, shift_id),
                           offer_forms=forms), status


def _back(team_id: int, shift_id: int, message: str):
    db.session.commit()
    flash(message)
    return redirect(url_for("rota.team_visit", team_id=team_id, shift_id=shift_id) + "#offering", code=303)


def _people(n: int, what: str = "worker") -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@bp.route("/teams/<int:team_id>/rota/visits/<int:shift_id>/offer", methods=["POST"])
@login_required
def offer_visit(team_id: int, shift_id: int):
    actor = current_actor()
    offering.visit_actions(actor, team_id, shift_id)  # 404 unless the visit is the team's
    form = OfferVisitForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            sent = offers.offer_shift(actor, shift_id, form.wave_size.data)
        if outcome.ok:
            if not sent:
                return _back(team_id, shift_id, "Nobody else in the team can take this visit now. "
                                                "The circle is told if nobody takes it.")
            names = offering.names_of([o.person_id for o in sent])
            return _back(team_id, shift_id, f"Offered to {_people(len(sent))} of the team: {', '.join(names)}.")
    return _refused_page(team_id, shift_id, form.status, offer=form)


@bp.route("/teams/<int:team_id>/rota/visits/<int:shift_id>/book", methods=["POST"])
@login_required
def book_visit(team_id: int, shift_id: int):
    actor = current_actor()
    offering.visit_actions(actor, team_id, shift_id)
    form = BookVisitForm()
    form.person_id.choices = []  # validate_choice is off: book_directly decides
    chosen = form.person_id.data if (form.person_id.data or "").isdigit() else None
    if form.validate_on_submit():
        with refused(form) as outcome:
            result = offers.book_directly(actor, shift_id, int(form.person_id.data))
        if outcome.ok and result.outcome == "booked":
            return _back(team_id, shift_id, f"Booked: {result.shift.booked_person.name}.")
        if outcome.ok:
            # Refused by the rota (its checks, a clash, someone faster): say why beside the choice.
            db.session.rollback()
            form.person_id.errors = [result.message] + [f.message for f in result.findings if f.blocking]
            form.refusal_status = 422 if result.outcome == "blocked" else 409
    return _refused_page(team_id, shift_id, form.status, keep=int(chosen) if chosen and len(chosen) < 19 else None,
                         book=form)


@bp.route("/teams/<int:team_id>/rota/visits/<int:shift_id>/outside/consent", methods=["POST"])
@login_required
def outside_consent(team_id: int, shift_id: int):
    actor = current_actor()
    offering.visit_actions(actor, team_id, shift_id)
    form = ConsentOutsideForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            offers.consent_outside_offer(actor, shift_id)
        if outcome.ok:
            return _back(team_id, shift_id, "You agreed to offer this visit to workers of the co-op "
                                            "outside the team.")
    return _refused_page(team_id, shift_id, form.status, consent=form)


@bp.route("/teams/<int:team_id>/rota/visits/<int:shift_id>/outside/offer", methods=["POST"])
@login_required
def outside_offer(team_id: int, shift_id: int):
    actor = current_actor()
    offering.visit_actions(actor, team_id, shift_id)
    form = OutsideOfferForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            wave = offers.send_outside_wave(actor, shift_id)
        if outcome.ok:
            if not wave.offered:
                return _back(team_id, shift_id, "No other worker of the co-op can be offered this visit now.")
            told = " The leader is told, and told again when someone takes it." if wave.by_facilitator else ""
            return _back(team_id, shift_id, f"Offered to {_people(wave.offered)} of the co-op outside the team. "
                                            f"You will see a name only when someone takes it.{told}")
    return _refused_page(team_id, shift_id, form.status, outside=form)


# ---------------------------------------------------------------- recurring visits


@bp.app_template_global("may_add_visits")
def may_add_visits(team_id: int) -> bool:
    """For the week page's links to add visits."""
    return offering.may_edit_rota(current_actor(), team_id)


# Fields of the series service's refusals, on the form's own fields.
SERIES_FIELDS = {"rrule": "repeat", "duration_minutes": "minutes", "start_time": "start_time",
                 "first_date": "first_date", "ends_on": "ends_on", "kind": "kind", "notes": "notes", "tasks": "tasks"}


@bp.route("/teams/<int:team_id>/rota/series/new", methods=["GET", "POST"])
@login_required
def new_series(team_id: int):
    actor = current_actor()
    team, tasks = shifts.new_visit(actor, team_id)  # the rota's editors; the plan's tasks
    form = SeriesForm()
    form.tasks.choices = choices((t, t) for t in tasks)
    if form.validate_on_submit():
        data = {"rrule": form.rrule(), "first_date": form.first_date.data, "start_time": form.start_time.data,
                "duration_minutes": form.duration_minutes, "ends_on": form.ends_on.data,
                "kind": form.kind.data, "notes": (form.notes.data or "").strip(),
                "tasks": list(form.tasks.data or [])}
        with refused(form, rename=SERIES_FIELDS) as outcome:
            made = series.create_series(actor, team_id, data)
        if outcome.ok:
            db.session.commit()
            flash("Recurring visit added to the rota.")
            return redirect(url_for("rota.rota_page", team_id=team_id, week=made.first_date.isoformat()), code=303)
        checks = (outcome.error.details or {}).get("checks") or []
        form.form_errors.extend(c["message"] for c in checks)
    return render_template("rota/series_new.html", form=form, team=team, has_tasks=bool(tasks),
                           clock_rule=rules.CLOCK_CHANGE_RULE), form.status
