"""Pages for matching: plain HTML forms, no JavaScript. Thin like the API views:
parse with the same schemas, call one service, commit once, render."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from marshmallow import ValidationError as SchemaError

from careteams.auth.current import current_actor
from careteams.errors import AppError, Conflict, ValidationError, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.forms import CheckForm, EqualityForm, RenameSkillForm, SkillForm
from careteams.matching.models import EmploymentType, VacancyStatus
from careteams.matching.schemas import (
    CheckInAnswerSchema,
    CheckInSchema,
    EqualityDataSchema,
    MatchActionSchema,
    SkillChangeSchema,
    SkillInSchema,
    VacancyInSchema,
    WorkerProfileInSchema,
)
from careteams.matching.services.check_ins import answer_check_in
from careteams.matching.services.checks import SOON_DAYS, coop_checks, worker_checks
from careteams.matching.services.facilitator import (
    facilitator_queue,
    fairness_report,
    matching_figures,
)
from careteams.matching.services.match_summaries import (
    list_my_matches,
    list_vacancy_matches,
    view_match,
)
from careteams.matching.services.matches import act_on_match, ask_to_join, invite_worker
from careteams.matching.services.notifications import list_notifications
from careteams.matching.services.profiles import (
    forget_equality_data,
    get_own_profile,
    own_equality_data,
    record_check,
    save_equality_data,
    save_profile,
)
from careteams.matching.services.settings import add_skill, list_skills, update_skill
from careteams.matching.services.suggestions import suggest_candidates, suggest_vacancies
from careteams.matching.services.vacancies import list_team_vacancies, post_vacancy, view_vacancy
from careteams.members.services import get_visible_cooperative
from careteams.web.forms import load, place_errors, plain_fields, refused

bp = Blueprint("matching", __name__)

ACTION_LABELS = {
    "answer_yes": "Yes, I'd like to go ahead", "answer_no": "No, thank you", "approve": "Approve after review",
    "decline": "Decline after review",
    "hold": "Hold this match", "release": "Release the hold", "record_introduction": "Record the introduction",
    "start_trial": "Start the trial", "record_shift": "Record a shift", "confirm": "Confirm: it is working",
    "withdraw": "Withdraw from this match",
}
# Actions that take a note or a date on the page.
NOTE_ACTIONS = {"answer_yes", "answer_no", "decline", "hold", "release", "withdraw"}
# Actions whose note only facilitators read.
FACILITATOR_NOTE_ACTIONS = {"decline", "hold", "release"}
DATE_ACTIONS = {"record_introduction", "record_shift"}


def _words(text: str | None) -> list[str]:
    return [w.strip() for w in (text or "").split(",") if w.strip()]


def _windows_text(windows) -> str:
    return "\n".join(rules.format_window((w.weekday, w.start_minute, w.end_minute)) for w in windows)


# Field names as the page says them, for the shared helper's plain words.
LABELS = {
    "employment_type": "How you work", "hourly_rate_pence": "Your hourly rate", "skill_ids": "Your skills",
    "languages": "Languages", "interests": "Interests", "windows": "When you can work", "postcode": "Postcode",
    "district": "District", "travel_km": "How far you travel", "date_of_birth":
    "Your date of birth", "opt_out_48h_signed_on": "The date you signed the opt-out", "needs": "What help is needed",
    "what_matters": "What matters to the person", "required_skill_ids": "Skills needed",
    "nice_skill_ids": "Skills that would help", "note": "Note", "on": "Date", "answer": "Your answer",
}


def _form_errors(exc: Exception) -> dict:
    """A refusal's messages per field, in plain words (careteams.web.forms); 401/403/404 go on."""
    if isinstance(exc, SchemaError):
        return plain_fields(exc.normalized_messages(), LABELS)
    if isinstance(exc, AppError):
        if exc.status in (401, 403, 404):
            raise exc
        return plain_fields(exc.details.get("fields") or {"form": [exc.message]}, LABELS)
    raise exc


def _status(exc: Exception) -> int:
    return exc.status if isinstance(exc, AppError) else 422


def _windows_from_form(text: str, errors: dict) -> list[str]:
    try:
        return [rules.format_window(w) for w in rules.parse_windows(text or "")]
    except ValueError as exc:
        errors["windows"] = [str(exc)]
        return []


@bp.app_template_global("can_view_team_vacancies")
def can_view_team_vacancies(access) -> bool:
    """For the team page: link to the team's vacancies (and their suggestions) by matching's own rule."""
    return perm.can_view_team_vacancies(access)


# --- the worker ------------------------------------------------------------------------


@bp.route("/coops/<slug>/worker-profile", methods=["GET", "POST"])
@login_required
def worker_profile(slug: str):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    skills = [s for s in list_skills(actor, coop) if s.active]
    try:
        profile = get_own_profile(actor, coop)
    except AppError:
        profile = None
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        raw = {
            "employment_type": form.get("employment_type", ""), "travel_km": form.get("travel_km") or None,
            "postcode": form.get("postcode") or None, "skill_ids": form.getlist("skill_ids"),
            "languages": _words(form.get("languages")), "interests": _words(form.get("interests")),
            "date_of_birth": form.get("date_of_birth") or None,
            "opt_out_48h_signed_on": form.get("opt_out_48h_signed_on") or None,
            "available": form.get("available") == "yes",
        }
        raw["windows"] = _windows_from_form(form.get("windows", ""), errors)
        rate = (form.get("hourly_rate") or "").strip().lstrip("£")
        if rate:
            try:
                raw["hourly_rate_pence"] = int(Decimal(rate) * 100)
            except InvalidOperation:
                errors["hourly_rate_pence"] = ["Give the rate in pounds, like 14.50."]
        if not errors:
            try:
                save_profile(actor, coop, WorkerProfileInSchema().load(raw))
            except (SchemaError, AppError) as exc:
                db.session.rollback()
                errors = _form_errors(exc)
            else:
                db.session.commit()
                flash("Your worker profile is saved.")
                return redirect(url_for("matching.worker_profile", slug=slug), 303)
        # What was typed stays on the page (the template reads the form first).
    return render_template("matching/worker_profile.html", coop=coop, profile=profile, skills=skills, form=form,
                           errors=errors, employment_types=list(EmploymentType),
                           windows_text=_windows_text(profile.windows) if profile else ""), (422 if errors else 200)


@bp.route("/coops/<slug>/equality", methods=["GET", "POST"])
@login_required
def equality(slug: str):
    """Equality questions, apart from the profile: voluntary, each with "prefer not to say"."""
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    row, may_give = own_equality_data(actor, coop, changing=request.method == "POST")
    saved = {name: getattr(row, name) for name in EqualityForm.QUESTIONS} if row and request.method == "GET" else None
    form = EqualityForm(data=saved)
    form.offer_current(row)
    if form.validate_on_submit():
        try:
            save_equality_data(actor, coop, EqualityDataSchema().load(form.answers()))
        except SchemaError as exc:
            db.session.rollback()
            place_errors(form, ValidationError(details={"fields": exc.normalized_messages()}))
        else:
            db.session.commit()
            flash("Your answers are saved. Thank you.")
            return redirect(url_for("matching.equality", slug=slug), 303)
    return render_template("matching/equality.html", coop=coop, form=form, row=row, may_give=may_give,
                           threshold=rules.SMALL_CELL), form.status


@bp.route("/coops/<slug>/equality/withdraw", methods=["POST"])
@login_required
def equality_withdraw(slug: str):
    actor = current_actor()
    had_answers = forget_equality_data(actor, get_visible_cooperative(actor, slug))
    db.session.commit()
    flash("Your answers are deleted." if had_answers else "You had no answers to delete.")
    return redirect(url_for("matching.equality", slug=slug), 303)


@bp.route("/coops/<slug>/vacancies")
@login_required
def suggested_vacancies(slug: str):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    result = suggest_vacancies(actor, coop)
    return render_template("matching/suggested_vacancies.html", coop=coop, result=result,
                           matches=list_my_matches(actor, coop))


@bp.route("/vacancies/<int:vacancy_id>/ask", methods=["POST"])
@login_required
def ask(vacancy_id: int):
    match = ask_to_join(current_actor(), vacancy_id, request.form.get("note") or None)
    db.session.commit()
    flash("You have asked to join. The team will answer; you will hear either way.")
    return redirect(url_for("matching.match_page", match_id=match.id), 303)


# --- the team side -------------------------------------------------------------------------


@bp.route("/teams/<int:team_id>/vacancies", methods=["GET", "POST"])
@login_required
def team_vacancies(team_id: int):
    actor = current_actor()
    team, vacancies = list_team_vacancies(actor, team_id)
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        raw = {"needs": form.get("needs", ""), "what_matters": form.get("what_matters", ""),
               "required_skill_ids": form.getlist("required_skill_ids"), "nice_skill_ids": form.getlist("nice_skill_ids"),
               "languages": _words(form.get("languages")), "interests": _words(form.get("interests")),
               "postcode": form.get("postcode") or None}
        raw["windows"] = _windows_from_form(form.get("windows", ""), errors)
        if not raw["windows"] and "windows" not in errors:
            errors["windows"] = ["Give at least one day and time, like 'Monday 09:00-12:00'."]
        if not errors:
            try:
                vacancy = post_vacancy(actor, team_id, VacancyInSchema().load(raw))
            except (SchemaError, AppError) as exc:
                db.session.rollback()
                errors = _form_errors(exc)
            else:
                db.session.commit()
                flash("The vacancy is published. Suggestions are below.")
                return redirect(url_for("matching.vacancy_page", vacancy_id=vacancy.id), 303)
    skills = [s for s in list_skills(actor, team.cooperative) if s.active]
    return render_template("matching/team_vacancies.html", team=team, vacancies=vacancies, skills=skills, form=form,
                           errors=errors), (422 if errors else 200)


@bp.route("/vacancies/<int:vacancy_id>")
@login_required
def vacancy_page(vacancy_id: int):
    actor = current_actor()
    vacancy = view_vacancy(actor, vacancy_id)
    team_side = "team_id" in vacancy
    suggestions, matches = [], []
    if team_side:
        matches = list_vacancy_matches(actor, vacancy_id)
        if vacancy["status"] == VacancyStatus.open.value:
            suggestions = suggest_candidates(actor, vacancy_id)
            db.session.commit()  # remembers who was shown, for the fairness report
    return render_template("matching/vacancy.html", vacancy=vacancy, team_side=team_side, suggestions=suggestions,
                           matches=matches)


@bp.route("/vacancies/<int:vacancy_id>/invite", methods=["POST"])
@login_required
def invite(vacancy_id: int):
    try:
        person_id = int(request.form.get("person_id", ""))
    except ValueError:
        raise Conflict("Choose a worker to invite.") from None
    match = invite_worker(current_actor(), vacancy_id, person_id, request.form.get("note") or None)
    db.session.commit()
    flash("Invitation sent. The worker will answer; you will hear either way.")
    return redirect(url_for("matching.match_page", match_id=match.id), 303)


# --- a match, from any side ------------------------------------------------------------------


@bp.route("/matches/<int:match_id>")
@login_required
def match_page(match_id: int):
    return _render_match(match_id)


def _render_match(match_id: int, refusal: dict | None = None, status: int = 200):
    """The match page; `refusal` is a refused form's action, errors (plain words) and what was typed."""
    view = view_match(current_actor(), match_id)
    return render_template("matching/match.html", match=view, labels=ACTION_LABELS, note_actions=NOTE_ACTIONS,
                           date_actions=DATE_ACTIONS, facilitator_note_actions=FACILITATOR_NOTE_ACTIONS,
                           check_in_labels=rules.CHECK_IN_LABELS,
                           refusal=refusal or {"errors": {}, "values": {}}), status


@bp.route("/matches/<int:match_id>/act", methods=["POST"])
@login_required
def match_act(match_id: int):
    typed = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        data = MatchActionSchema().load(typed)
        act_on_match(current_actor(), match_id, data["action"], note=data["note"], on=data["on"])
    except (SchemaError, AppError) as exc:
        db.session.rollback()
        errors = _form_errors(exc)
        return _render_match(match_id, {"kind": "act", "action": typed.get("action"), "errors": errors,
                                        "values": typed}, _status(exc))
    db.session.commit()
    flash("Done.")
    return redirect(url_for("matching.match_page", match_id=match_id), 303)


@bp.route("/matches/<int:match_id>/check-ins/<int:after_shift>", methods=["POST"])
@login_required
def match_check_in(match_id: int, after_shift: int):
    typed = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        data = CheckInAnswerSchema().load(typed)
        answer_check_in(current_actor(), match_id, after_shift, data["answer"])
    except (SchemaError, AppError) as exc:
        db.session.rollback()
        errors = _form_errors(exc)
        if isinstance(exc, SchemaError):
            errors = {"answer": ["Choose one of the answers."]}
        return _render_match(match_id, {"kind": "check_in", "after_shift": after_shift, "errors": errors,
                                        "values": typed}, _status(exc))
    db.session.commit()
    flash("Thank you: your answer is saved.")
    return redirect(url_for("matching.match_page", match_id=match_id), 303)


# --- facilitators ------------------------------------------------------------------------------


@bp.route("/coops/<slug>/matching/queue")
@login_required
def queue(slug: str):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    return render_template("matching/queue.html", coop=coop, queue=facilitator_queue(actor, coop))


@bp.route("/coops/<slug>/matching/report")
@login_required
def report(slug: str):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    return render_template("matching/report.html", coop=coop, report=fairness_report(actor, coop),
                           figures=matching_figures(actor, coop))


@bp.route("/matching/notifications")
@login_required
def notifications():
    return render_template("matching/notifications.html", notifications=list_notifications(current_actor()))


# --- the co-op's skill list (facilitators and admins) -----------------------------------------


def _skills_page(actor, coop, add_form=None, bound: tuple[int, RenameSkillForm] | None = None, status: int = 200):
    skills = list_skills(actor, coop)

    def rename_form(skill) -> RenameSkillForm:
        form = bound[1] if bound and bound[0] == skill.id else \
            RenameSkillForm(formdata=None, name=skill.name).suffix_ids(skill.id)
        form.name.label.text = f"New name for {skill.name}"
        return form

    return render_template("matching/skills.html", coop=coop, active=[s for s in skills if s.active],
                           retired=[s for s in skills if not s.active], form=add_form or SkillForm(formdata=None),
                           rename_form=rename_form, refused_form=bound[1] if bound else None), status


def _skill_editor(slug: str):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    ensure(perm.can_edit_skills(actor, coop.id))
    return actor, coop


@bp.route("/coops/<slug>/skills", methods=["GET", "POST"])
@login_required
def skills(slug: str):
    actor, coop = _skill_editor(slug)
    form = SkillForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            add_skill(actor, coop, load(SkillInSchema(), {"name": form.name.data})["name"])
        if outcome.ok:
            db.session.commit()
            flash(f"“{form.name.data}” is on the list.")
            return redirect(url_for("matching.skills", slug=slug), 303)
    return _skills_page(actor, coop, add_form=form, status=form.status)


@bp.route("/coops/<slug>/skills/<int:skill_id>/rename", methods=["POST"])
@login_required
def rename_skill(slug: str, skill_id: int):
    actor, coop = _skill_editor(slug)
    form = RenameSkillForm().suffix_ids(skill_id)
    if form.validate_on_submit():
        with refused(form) as outcome:
            update_skill(actor, coop, skill_id, load(SkillChangeSchema(), {"name": form.name.data}))
        if outcome.ok:
            db.session.commit()
            flash("The skill is renamed.")
            return redirect(url_for("matching.skills", slug=slug), 303)
    return _skills_page(actor, coop, bound=(skill_id, form), status=form.status)


@bp.route("/coops/<slug>/skills/<int:skill_id>/<any(retire, restore):change>", methods=["POST"])
@login_required
def retire_skill(slug: str, skill_id: int, change: str):
    actor, coop = _skill_editor(slug)
    skill = update_skill(actor, coop, skill_id, {"active": change == "restore"})
    db.session.commit()
    flash(f"“{skill.name}” is back on the list." if skill.active else
          f"“{skill.name}” is retired: nobody can choose it now; workers and vacancies that have it keep it.")
    return redirect(url_for("matching.skills", slug=slug), 303)


# --- worker checks (facilitators) --------------------------------------------------------------


@bp.route("/coops/<slug>/checks")
@login_required
def checks(slug: str):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    return render_template("matching/checks.html", coop=coop, checks=coop_checks(actor, coop), labels=rules.CHECK_LABELS,
                           soon_days=SOON_DAYS)


def _worker_checks_page(actor, coop, person_id: int, form=None, status: int = 200):
    worker, today = worker_checks(actor, coop, person_id)
    return render_template("matching/worker_checks.html", coop=coop, worker=worker, today=today,
                           labels=rules.CHECK_LABELS, form=form or CheckForm(formdata=None)), status


@bp.route("/coops/<slug>/workers/<int:person_id>/checks", methods=["GET", "POST"])
@login_required
def worker_checks_page(slug: str, person_id: int):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    if request.method == "GET":
        return _worker_checks_page(actor, coop, person_id)
    worker_checks(actor, coop, person_id)  # 403/404 before any talk about the form
    form = CheckForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            typed = {"kind": form.kind.data, "name": form.name.data or "", "reference": form.reference.data or "",
                     "checked_on": form.checked_on.data.isoformat(),
                     "expires_on": form.expires_on.data.isoformat() if form.expires_on.data else None}
            record_check(actor, coop, person_id, load(CheckInSchema(), typed))
        if outcome.ok:
            db.session.commit()
            flash("The check is recorded.")
            return redirect(url_for("matching.worker_checks_page", slug=slug, person_id=person_id), 303)
    return _worker_checks_page(actor, coop, person_id, form=form, status=form.status)
