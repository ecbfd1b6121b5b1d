"""Admin pages of the co-op office (issue 18): its people (invite, edit, switch an
account off or on), its staff roles, and its settings. Plain HTML forms, no
JavaScript; thin like the API views: parse with the API's schemas, call one
service, commit once, render."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError

from careteams.auth import services as auth_services
from careteams.auth.current import current_actor
from careteams.errors import NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.hours import permissions as hours_perm
from careteams.hours.schemas import SettingsSchema as HoursSettingsSchema
from careteams.hours.services import rates as hours_settings
from careteams.matching import permissions as matching_perm
from careteams.matching.schemas import MatchingSettingsSchema
from careteams.matching.services import settings as matching_settings
from careteams.members import permissions as perm
from careteams.members import services as svc
from careteams.members.enums import StaffRoleName
from careteams.members.forms import (
    ConfirmForm,
    CoopRulesForm,
    GrantRoleForm,
    HoursSettingsForm,
    InviteForm,
    MatchingSettingsForm,
    PersonEditForm,
    RotaSettingsForm,
    choices,
    zone_choices,
)
from careteams.members.models import StaffRole
from careteams.members.rules import STAFF_ROLE_LABELS
from careteams.members.schemas import (
    CooperativeSettingsSchema,
    PersonChangeSchema,
    PersonInviteSchema,
)
from careteams.rota.schemas import RotaSettingsChangeSchema
from careteams.rota.services import settings as rota_settings
from careteams.web.forms import PageForm, place_errors, refused

bp = Blueprint("members", __name__)

ROLE_PLURALS = {StaffRoleName.facilitator: "Facilitators", StaffRoleName.secretary: "Secretaries",
                StaffRoleName.admin: "Co-op admins"}
MAX_SHOWN = 1000  # "show more" stops here: search by name instead


def _load(form: PageForm, schema: Schema, raw: dict, partial: bool = False) -> dict | None:
    """The values as the API's schema reads them, or None with its messages beside the fields."""
    try:
        return schema.load(raw, partial=partial)
    except SchemaError as exc:
        place_errors(form, ValidationError(details={"fields": exc.normalized_messages()}))
        return None


def _coop(slug: str, predicate):
    """The co-op (404 for one the person has nothing to do with) and the actor, if the predicate lets her."""
    actor = current_actor()
    coop = svc.get_visible_cooperative(actor, slug)
    ensure(predicate(actor, coop.id))
    return actor, coop


# --- people -----------------------------------------------------------------------------


@bp.route("/coops/<slug>/people")
@login_required
def people(slug: str):
    actor, coop = _coop(slug, perm.can_view_people)
    search = (request.args.get("q") or "").strip()[:100]
    try:
        shown = min(max(int(request.args.get("shown", svc.PEOPLE_PAGE)), svc.PEOPLE_PAGE), MAX_SHOWN)
    except ValueError:
        shown = svc.PEOPLE_PAGE
    rows, more = svc.list_people(actor, coop, search, limit=shown)
    return render_template("members/people.html", coop=coop, rows=rows, more=more and shown < MAX_SHOWN,
                           search=search, shown=shown, next_shown=shown + svc.PEOPLE_PAGE,
                           may_invite=perm.can_invite_person(actor, coop.id))


@bp.route("/coops/<slug>/people/invite", methods=["GET", "POST"])
@login_required
def invite(slug: str):
    actor, coop = _coop(slug, perm.can_invite_person)
    form = InviteForm()
    if form.validate_on_submit():
        data = _load(form, PersonInviteSchema(), form.values())
        if data is not None:
            with refused(form) as outcome:
                person = auth_services.invite_person(actor, coop, data)
            if outcome.ok:
                db.session.commit()
                flash(f"{person.name} is invited: we have sent them a link to set their password.")
                return redirect(url_for("members.person", slug=slug, person_id=person.id), 303)
    return render_template("members/invite.html", coop=coop, form=form), form.status


def _person_page(actor, coop, person_id: int, form: PersonEditForm | None = None, status: int = 200):
    person, memberships, roles = svc.view_person(actor, coop, person_id)
    may_edit = perm.can_edit_person(actor, coop.id)
    if form is None and may_edit:
        form = PersonEditForm(data={"name": person.name, "email": person.email or "", "phone": person.phone or ""})
    return render_template("members/person.html", coop=coop, person=person, memberships=memberships, roles=roles,
                           form=form, may_edit=may_edit,
                           may_switch=perm.can_deactivate_person(actor, coop.id, person.id),
                           role_labels=STAFF_ROLE_LABELS,
                           may_manage_roles=perm.can_manage_staff_roles(actor, coop.id)), status


@bp.route("/coops/<slug>/people/<int:person_id>")
@login_required
def person(slug: str, person_id: int):
    actor, coop = _coop(slug, perm.can_view_people)
    return _person_page(actor, coop, person_id)


@bp.route("/coops/<slug>/people/<int:person_id>/edit", methods=["POST"])
@login_required
def edit_person(slug: str, person_id: int):
    actor, coop = _coop(slug, perm.can_edit_person)
    current = svc.get_person_in(coop, person_id)  # 404 before reading the form
    form = PersonEditForm()
    if form.validate_on_submit():
        # What was not changed is not checked again (an old number stays as it was saved).
        typed = {key: value for key, value in form.values().items()
                 if key == "name" or value != getattr(current, key)}
        changes = _load(form, PersonChangeSchema(), typed)
        if changes is not None:
            with refused(form) as outcome:
                person = svc.update_person(actor, coop, person_id, changes)
            if outcome.ok:
                db.session.commit()
                flash(f"{person.name}'s details are saved.")
                return redirect(url_for("members.person", slug=slug, person_id=person_id), 303)
    return _person_page(actor, coop, person_id, form, form.status)


@bp.route("/coops/<slug>/people/<int:person_id>/<any(deactivate, reactivate):action>", methods=["POST"])
@login_required
def switch_person(slug: str, person_id: int, action: str):
    actor, coop = _coop(slug, perm.can_edit_person)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _person_page(actor, coop, person_id, status=400)
    person = svc.update_person(actor, coop, person_id, {"active": action == "reactivate"})
    db.session.commit()
    flash(f"{person.name}'s account is switched off: they are signed out everywhere and their API tokens no "
          "longer work." if action == "deactivate" else f"{person.name}'s account is switched on again.")
    return redirect(url_for("members.person", slug=slug, person_id=person_id), 303)


# --- staff roles -----------------------------------------------------------------------


def _staff_page(actor, coop, form: GrantRoleForm | None = None, status: int = 200):
    roles = svc.list_staff(actor, coop)
    search = (request.args.get("q") or "").strip()[:100]
    people, more = svc.list_people(actor, coop, search, limit=200) if perm.can_view_people(actor, coop.id) else ([], False)
    form = form or GrantRoleForm()
    form.person_id.choices = choices([(0, "Choose a person")] + [(p.id, f"{p.name} ({p.email or p.phone})")
                                                                 for p in people])
    by_role = {role: [r for r in roles if r.role == role] for role in StaffRoleName}
    names = {p.id: p.name for p in svc.people_named([r.person_id for r in roles])}
    return render_template("members/staff.html", coop=coop, by_role=by_role, names=names, form=form,
                           role_labels=STAFF_ROLE_LABELS, plurals=ROLE_PLURALS, search=search, more=more), status


@bp.route("/coops/<slug>/staff", methods=["GET", "POST"])
@login_required
def staff(slug: str):
    actor, coop = _coop(slug, perm.can_manage_staff_roles)
    form = GrantRoleForm()
    if request.method == "POST":
        form.person_id.choices = []
        if form.validate_on_submit():
            if not form.person_id.data:
                form.person_id.errors = ["Choose a person."]
            else:
                with refused(form) as outcome:
                    person = svc.get_person_in(coop, form.person_id.data)
                    svc.grant_staff_role(actor, coop, person, StaffRoleName(form.role.data))
                if outcome.ok:
                    db.session.commit()
                    flash(f"{person.name} is now {STAFF_ROLE_LABELS[StaffRoleName(form.role.data)].lower()} "
                          f"of {coop.name}.")
                    return redirect(url_for("members.staff", slug=slug), 303)
        return _staff_page(actor, coop, form, form.status)
    return _staff_page(actor, coop)


@bp.route("/coops/<slug>/staff/<int:staff_role_id>/take-back", methods=["GET", "POST"])
@login_required
def take_back(slug: str, staff_role_id: int):
    """A confirm step, then the role goes (never the co-op's last admin role)."""
    actor, coop = _coop(slug, perm.can_manage_staff_roles)
    role = db.session.get(StaffRole, staff_role_id)
    if role is None or role.cooperative_id != coop.id:
        raise NotFound("No such staff role.")
    form = ConfirmForm()
    name = svc.get_person(role.person_id).name
    if form.validate_on_submit():
        with refused(form) as outcome:
            svc.revoke_staff_role(actor, coop, staff_role_id)
        if outcome.ok:
            db.session.commit()
            flash(f"{name} is no longer {STAFF_ROLE_LABELS[role.role].lower()} of {coop.name}.")
            return redirect(url_for("members.staff", slug=slug), 303)
    return render_template("members/take_back.html", coop=coop, role=role, name=name, form=form,
                           role_labels=STAFF_ROLE_LABELS), form.status


# --- the co-op's settings --------------------------------------------------------------


def _setting_forms(coop) -> dict[str, PageForm]:
    """Each section's form, filled from what is saved now."""
    hours = hours_settings.settings_for(coop.id)
    rota = rota_settings.settings_for(coop.id)
    matching = matching_settings.matching_settings(coop.id)
    forms = {
        "rules": CoopRulesForm(prefix="rules", formdata=None, data={
            "name": coop.name, "investor_cap_num": str(coop.investor_cap_num),
            "investor_cap_den": str(coop.investor_cap_den), "quorum_min_members": str(coop.quorum_min_members),
            "quorum_percent": str(coop.quorum_percent), "proxy_limit": str(coop.proxy_limit),
            "min_visit_minutes": str(coop.min_visit_minutes), "timezone": coop.timezone,
            "sms_number": coop.sms_number or ""}),
        "hours": HoursSettingsForm(prefix="hours", formdata=None, data={
            name: _text(getattr(hours, name)) for name in HoursSettingsForm.FIELDS}),
        "rota": RotaSettingsForm(prefix="rota", formdata=None, data={
            "blocking_checks": list(rota.blocking_checks or []),
            "allow_short_personal_care": rota.allow_short_personal_care,
            **{name: str(getattr(rota, name)) for name in RotaSettingsForm.NUMBERS}}),
        "matching": MatchingSettingsForm(prefix="matching", formdata=None, data={
            "review_required": matching.review_required,
            "introduction_stale_days": str(matching.introduction_stale_days),
            "check_warning_days": str(matching.check_warning_days),
            "required_training": "\n".join(matching.required_training or [])}),
    }
    forms["rules"].timezone.choices = zone_choices()
    return forms


def _text(value) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(getattr(value, "value", value))


SECTIONS = {
    # section: (form, schema, who may, the service)
    "rules": (CoopRulesForm, lambda: CooperativeSettingsSchema(), perm.can_edit_cooperative_settings,
              lambda actor, coop, data: svc.update_cooperative_settings(actor, coop, data)),
    "hours": (HoursSettingsForm, lambda: HoursSettingsSchema(), hours_perm.can_set_pay_settings,
              lambda actor, coop, data: hours_settings.update_settings(actor, coop.id, data)),
    "rota": (RotaSettingsForm, lambda: RotaSettingsChangeSchema(), perm.is_admin,
             lambda actor, coop, data: rota_settings.update_settings(actor, coop.id, data)),
    "matching": (MatchingSettingsForm, lambda: MatchingSettingsSchema(), matching_perm.can_edit_matching_settings,
                 lambda actor, coop, data: matching_settings.update_matching_settings(actor, coop, data)),
}
SAVED = {"rules": "The co-op's rules are saved.", "hours": "The hours and pay settings are saved.",
         "rota": "The rota settings are saved.", "matching": "The matching settings are saved."}


def _settings_page(actor, coop, forms: dict, status: int = 200):
    may = {name: SECTIONS[name][2](actor, coop.id) for name in SECTIONS}
    return render_template("members/settings.html", coop=coop, forms=forms, may=may), status


@bp.route("/coops/<slug>/settings")
@login_required
def settings(slug: str):
    actor, coop = _coop(slug, perm.can_edit_cooperative_settings)
    return _settings_page(actor, coop, _setting_forms(coop))


@bp.route("/coops/<slug>/settings/<any(rules, hours, rota, matching):section>", methods=["POST"])
@login_required
def save_settings(slug: str, section: str):
    form_class, schema, predicate, save = SECTIONS[section]
    actor, coop = _coop(slug, perm.can_edit_cooperative_settings)
    ensure(predicate(actor, coop.id))
    form = form_class(prefix=section)
    if section == "rules":
        form.timezone.choices = zone_choices()
    if form.validate_on_submit():
        typed = form.values()
        if section == "rules" and typed.get("sms_number") == coop.sms_number:
            del typed["sms_number"]  # unchanged: not checked again
        data = _load(form, schema(), typed)
        if data is not None:
            with refused(form) as outcome:
                save(actor, coop, data)
            if outcome.ok:
                db.session.commit()
                flash(SAVED[section])
                return redirect(url_for("members.settings", slug=slug, _anchor=f"{section}-heading"), 303)
    forms = _setting_forms(coop)
    forms[section] = form
    return _settings_page(actor, coop, forms, form.status)
