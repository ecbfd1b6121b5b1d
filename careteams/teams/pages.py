"""Phone-friendly pages for teams: "My team" for the leader and circle, the team
page for workers, and forms that work without JavaScript. Thin: each handler
parses a form, calls one service, commits once, and redirects or renders."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from careteams.auth.current import current_actor
from careteams.errors import ValidationError, ensure
from careteams.extensions import db
from careteams.members import permissions as member_perm
from careteams.members import services as members
from careteams.members.rules import normalise_email, normalise_phone
from careteams.teams import forms as f
from careteams.teams import permissions as perm
from careteams.teams.rules import (
    ACTION_LABELS,
    PERMISSION_WORDS,
    PLAN_SECTIONS,
    ROLE_LABELS,
    describe_behalf,
)
from careteams.teams.schemas import HatTypeSchema
from careteams.teams.services import arrangers, audit, circle, overview, plans, team_members, teams
from careteams.teams.services.access import get_visible_team, team_for_form, visible_teams
from careteams.web.forms import load, refused

bp = Blueprint("teams", __name__)


def _person_ref(form) -> dict:
    """The person fields of a form, normalised as the API schema would."""
    data = {"name": (form.name.data or "").strip() or None, "email": None, "phone": None}
    if form.email.data:
        data["email"] = normalise_email(form.email.data)
    if form.phone.data:
        try:
            data["phone"] = normalise_phone(form.phone.data)
        except ValueError as exc:
            raise ValidationError(details={"fields": {"phone": [str(exc)]}}) from None
    if not data["email"] and not data["phone"]:
        raise ValidationError(details={"fields": {"email": ["Give an email address or a mobile number."]}})
    return data


@bp.route("/teams")
@login_required
def my_teams():
    actor = current_actor()
    return render_template("teams/my_teams.html", teams=visible_teams(actor), pending=overview.pending_for(actor),
                           role_labels=ROLE_LABELS)


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def new_team():
    actor = current_actor()
    choices = teams.team_creation_choices(actor)
    form = f.NewTeamForm()
    form.cooperative.choices = f.choices((c["cooperative"].slug, c["cooperative"].name) for c in choices)
    form.leader_id.choices = f.choices([(0, "Myself")] + [(p.id, p.name) for c in choices for p in c["leaders"]])
    if form.validate_on_submit():
        data = {k: form[k].data for k in ("display_name", "postcode", "min_visit_minutes")}
        data["postcode"] = (data["postcode"] or "").strip() or None
        data["leader_id"] = form.leader_id.data or None
        with refused(form) as outcome:
            team = teams.create_team(actor, members.get_visible_cooperative(actor, form.cooperative.data), data)
        if outcome.ok:
            db.session.commit()
            flash("Your team is ready. Next, invite the people you want in it.")
            return redirect(url_for("teams.team_page", team_id=team.id))
    return render_template("teams/new_team.html", form=form, choices=choices), form.status


@bp.route("/teams/<int:team_id>")
@login_required
def team_page(team_id: int):
    page = overview.team_page(current_actor(), team_id)
    return render_template("teams/team.html", page=page, sections=PLAN_SECTIONS, role_labels=ROLE_LABELS,
                           csrf_only=True)


@bp.route("/teams/<int:team_id>/invite", methods=["GET", "POST"])
@login_required
def invite(team_id: int):
    actor = current_actor()
    team = team_for_form(actor, team_id, perm.can_invite)
    form = f.InviteForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            team_members.invite_to_team(actor, team_id, {**_person_ref(form), "role": f.TeamRole(form.role.data)})
        if outcome.ok:
            db.session.commit()
            flash("Invitation sent. They join the team when they say yes.")
            return redirect(url_for("teams.team_page", team_id=team_id))
    return render_template("teams/invite.html", form=form, team=team), form.status


@bp.route("/teams/invitations/<int:member_id>/<any(accept, decline):answer>", methods=["POST"])
@login_required
def answer_invitation(member_id: int, answer: str):
    member = team_members.answer_invitation(current_actor(), member_id, answer == "accept")
    db.session.commit()
    if answer == "accept":
        flash(f"Welcome to {member.team.display_name}'s team.")
        return redirect(url_for("teams.team_page", team_id=member.team_id))
    flash("You said no to the invitation.")
    return redirect(url_for("teams.my_teams"))


@bp.route("/teams/<int:team_id>/members/<int:member_id>/confirm", methods=["POST"])
@login_required
def confirm_member(team_id: int, member_id: int):
    member = team_members.confirm_member(current_actor(), team_id, member_id)
    db.session.commit()
    flash("Confirmed." if member.status.value == "active" else "Confirmed. The other side still needs to confirm.")
    return redirect(url_for("teams.team_page", team_id=team_id))


@bp.route("/teams/<int:team_id>/members/<int:member_id>/end", methods=["GET", "POST"])
@login_required
def end_membership(team_id: int, member_id: int):
    actor = current_actor()
    team, _ = get_visible_team(actor, team_id)
    form = f.EndMembershipForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            member = team_members.end_membership(actor, team_id, member_id, form.note.data)
        if outcome.ok:
            db.session.commit()
            flash("You have left the team." if member.person_id == actor.person_id else (f"{member.person.name} is no longer in the team." if member.accepted_at else "The invitation is withdrawn."))
            return redirect(url_for("teams.my_teams" if member.person_id == actor.person_id else "teams.team_page", team_id=team_id))
    member = team_members.get_member_for_ending(actor, team_id, member_id)
    return render_template("teams/end_membership.html", form=form, team=team, member=member), form.status


@bp.route("/teams/<int:team_id>/hats/new", methods=["GET", "POST"])
@login_required
def offer_hat(team_id: int):
    actor = current_actor()
    team = team_for_form(actor, team_id, perm.can_manage_hats)
    form = f.HatOfferForm()
    form.hat_type_id.choices = f.choices((h.id, h.name) for h in circle.list_hat_types(actor, team.cooperative))
    if form.validate_on_submit():
        expires_at = None
        if form.expires_on.data:
            # The end of the chosen day in the team's own time zone.
            expires_at = datetime.combine(form.expires_on.data, time(23, 59), tzinfo=ZoneInfo(team.zone))
        with refused(form, rename={"expires_at": "expires_on"}) as outcome:
            circle.offer_hat(actor, team_id, {**_person_ref(form), "hat_type_id": form.hat_type_id.data, "expires_at": expires_at})
        if outcome.ok:
            db.session.commit()
            flash("Hat offered. It takes effect when they say yes.")
            return redirect(url_for("teams.team_page", team_id=team_id))
    return render_template("teams/offer_hat.html", form=form, team=team), form.status


@bp.route("/teams/hats/<int:hat_id>/<any(accept, decline):answer>", methods=["POST"])
@login_required
def answer_hat(hat_id: int, answer: str):
    hat = circle.answer_hat(current_actor(), hat_id, answer == "accept")
    db.session.commit()
    flash(f"You now wear the {hat.hat_type.name} hat." if answer == "accept" else "You said no to the hat.")
    return redirect(url_for("teams.team_page", team_id=hat.team_id) if answer == "accept" else url_for("teams.my_teams"))


@bp.route("/teams/<int:team_id>/hats/<int:hat_id>/withdraw", methods=["POST"])
@login_required
def withdraw_hat(team_id: int, hat_id: int):
    hat = circle.withdraw_hat(current_actor(), team_id, hat_id)
    db.session.commit()
    flash(f"The {hat.hat_type.name} hat has been taken back.")
    return redirect(url_for("teams.team_page", team_id=team_id))


@bp.route("/teams/<int:team_id>/arrangers/new", methods=["GET", "POST"])
@login_required
def appoint_arranger(team_id: int):
    actor = current_actor()
    team = team_for_form(actor, team_id, perm.can_appoint_arranger)
    form = f.ArrangerForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            arrangers.appoint_arranger(actor, team_id, {**_person_ref(form), "reason": form.reason.data})
        if outcome.ok:
            db.session.commit()
            flash("Arranger proposed. It takes effect when another facilitator, an admin or the leader agrees;"
                  " the leader and circle can see the reason.")
            return redirect(url_for("teams.team_page", team_id=team_id))
    return render_template("teams/arranger.html", form=form, team=team), form.status


@bp.route("/teams/<int:team_id>/arrangers/<int:arranger_id>/end", methods=["POST"])
@login_required
def end_arranger(team_id: int, arranger_id: int):
    arranger = arrangers.end_arranger(current_actor(), team_id, arranger_id)
    db.session.commit()
    flash("The arrangement has ended.")
    if arranger.person_id == current_actor().person_id:
        return redirect(url_for("teams.my_teams"))
    return redirect(url_for("teams.team_page", team_id=team_id))


@bp.route("/teams/<int:team_id>/arrangers/<int:arranger_id>/<any(agree, decline):answer>", methods=["POST"])
@login_required
def answer_arranger(team_id: int, arranger_id: int, answer: str):
    service = arrangers.agree_arranger if answer == "agree" else arrangers.decline_arranger
    arranger = service(current_actor(), team_id, arranger_id)
    slug = arranger.team.cooperative.slug
    db.session.commit()
    flash("Agreed: the arranger can now act for the team." if answer == "agree" else "The proposal was declined.")
    if request.form.get("back") == "proposals":
        return redirect(url_for("teams.arranger_proposals", slug=slug))
    return redirect(url_for("teams.team_page", team_id=team_id))


@bp.route("/coops/<slug>/arrangers")
@login_required
def arranger_proposals(slug: str):
    actor = current_actor()
    coop = members.get_visible_cooperative(actor, slug)
    proposals = arrangers.list_arranger_proposals(actor, coop)
    return render_template("teams/arranger_proposals.html", coop=coop, proposals=proposals, csrf_only=True)


@bp.route("/teams/<int:team_id>/private-details", methods=["GET", "POST"])
@login_required
def private_details(team_id: int):
    actor = current_actor()
    team, _ = get_visible_team(actor, team_id)
    details = teams.get_private_details_for_editing(actor, team_id)
    form = f.PrivateDetailsForm(obj=details)
    if form.validate_on_submit():
        with refused(form) as outcome:
            teams.update_private_details(actor, team_id, {k: form[k].data or "" for k in teams.PRIVATE_FIELDS})
        if outcome.ok:
            db.session.commit()
            flash("Saved.")
            return redirect(url_for("teams.team_page", team_id=team_id))
    return render_template("teams/private_details.html", form=form, team=team), form.status


@bp.route("/teams/<int:team_id>/plan/edit", methods=["GET", "POST"])
@login_required
def edit_plan(team_id: int):
    actor = current_actor()
    team, version = plans.plan_for_editing(actor, team_id)
    form_class = f.plan_form_class()
    if request.method == "POST":
        form = form_class()
    else:
        sections = version.sections if version else {}
        form = form_class(data={**{k: sections.get(k, {}) for k in PLAN_SECTIONS}, "base_version": version.number if version else 0})
    if form.validate_on_submit():
        sections = {k: {"text": form[k].form.text.data or "", "shared_with_trial": bool(form[k].form.shared_with_trial.data)}
                    for k in PLAN_SECTIONS}
        with refused(form) as outcome:
            plans.save_plan(actor, team_id, sections, form.base_version.data or 0)
        if outcome.ok:
            db.session.commit()
            flash("The plan is saved as a new version.")
            return redirect(url_for("teams.team_page", team_id=team_id) + "#plan")
    return render_template("teams/edit_plan.html", form=form, team=team, sections=PLAN_SECTIONS), form.status


@bp.route("/teams/<int:team_id>/plan/versions")
@login_required
def plan_versions(team_id: int):
    actor = current_actor()
    team, _ = get_visible_team(actor, team_id)
    return render_template("teams/plan_versions.html", team=team, versions=plans.list_plan_versions(actor, team_id))


@bp.route("/teams/<int:team_id>/plan/compare")
@login_required
def compare_plan(team_id: int):
    actor = current_actor()
    team, _ = get_visible_team(actor, team_id)
    try:
        first, second = int(request.args["from"]), int(request.args["to"])
    except (KeyError, ValueError):
        raise ValidationError("Choose two versions to compare.", details={"fields": {"from": ["Choose a version."]}}) from None
    a, b, changes = plans.compare_plan_versions(actor, team_id, first, second)
    return render_template("teams/compare_plan.html", team=team, a=a, b=b, changes=changes)


@bp.route("/teams/<int:team_id>/plan/suggest", methods=["GET", "POST"])
@login_required
def suggest_plan_change(team_id: int):
    actor = current_actor()
    team = team_for_form(actor, team_id, perm.can_suggest_plan_change)
    form = f.SuggestionForm()
    if form.validate_on_submit():
        # The service names a section's text "sections"; on this form that is the text box.
        with refused(form, rename={"sections": "text"}) as outcome:
            plans.suggest_plan_change(actor, team_id, {
                "sections": {form.section.data: {"text": form.text.data, "shared_with_trial": False}}, "note": form.note.data or ""})
        if outcome.ok:
            db.session.commit()
            flash("Suggestion sent. The leader decides.")
            return redirect(url_for("teams.team_page", team_id=team_id) + "#plan")
    return render_template("teams/suggest.html", form=form, team=team), form.status


@bp.route("/teams/<int:team_id>/plan/suggestions/<int:suggestion_id>/<any(accept, decline):answer>", methods=["POST"])
@login_required
def answer_suggestion(team_id: int, suggestion_id: int, answer: str):
    plans.answer_suggestion(current_actor(), team_id, suggestion_id, answer == "accept")
    db.session.commit()
    flash("Suggestion accepted: the plan has a new version." if answer == "accept" else "Suggestion declined.")
    return redirect(url_for("teams.team_page", team_id=team_id) + "#plan")


@bp.route("/teams/<int:team_id>/history")
@login_required
def history(team_id: int):
    actor = current_actor()
    team, _ = get_visible_team(actor, team_id)
    return render_template("teams/history.html", team=team, entries=audit.team_history(actor, team_id))


@bp.app_template_filter("team_time")
def team_time(value: datetime | None, zone: str) -> str:
    """A moment shown on the team's own clock."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%-d %b %Y, %H:%M")


@bp.app_context_processor
def _team_labels() -> dict:
    return {"team_action_labels": ACTION_LABELS, "describe_behalf": describe_behalf}


@bp.route("/teams/<int:team_id>/settings", methods=["GET", "POST"])
@login_required
def team_settings(team_id: int):
    actor = current_actor()
    team = team_for_form(actor, team_id, perm.can_edit_team)
    form = f.TeamForm(obj=team)
    if form.validate_on_submit():
        changes = {k: form[k].data for k in ("display_name", "postcode", "min_visit_minutes")}
        changes["display_name"] = changes["display_name"].strip()
        changes["postcode"] = (changes["postcode"] or "").strip() or None
        if changes["postcode"] == team.postcode:
            del changes["postcode"]  # unchanged: keep the point (a team placed through the API may have no postcode)
        with refused(form) as outcome:
            teams.update_team(actor, team_id, changes)
        if outcome.ok:
            db.session.commit()
            flash("Saved.")
            return redirect(url_for("teams.team_page", team_id=team_id))
    return render_template("teams/settings.html", form=form, team=team), form.status


# ---------------------------------------------------------------- the co-op's kinds of hat (admins define more)


@bp.route("/coops/<slug>/hat-types", methods=["GET", "POST"])
@login_required
def hat_types(slug: str):
    actor = current_actor()
    coop = members.get_visible_cooperative(actor, slug)
    # The API lists hat types to anyone in the co-op; this page, where they are defined, is the admins'.
    ensure(perm.can_define_hat_types(member_perm.is_admin(actor, coop.id)))
    kinds = circle.list_hat_types(actor, coop)
    form = f.HatTypeForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            circle.create_hat_type(actor, coop, load(HatTypeSchema(), {
                "name": form.name.data or "", "description": form.description.data or "",
                "permissions": form.permissions.data}))
        if outcome.ok:
            db.session.commit()
            flash(f"The hat “{form.name.data.strip()}” is defined. A team's leader can offer it now.")
            return redirect(url_for("teams.hat_types", slug=slug), 303)
    return render_template("teams/hat_types.html", coop=coop, kinds=kinds, form=form, words=PERMISSION_WORDS), form.status
