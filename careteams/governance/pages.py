"""Pages (no JavaScript needed): resolutions, the ballot, results, the secretary's
create/open page, the register and its export, a member's own membership."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_required
from marshmallow import ValidationError as SchemaError
from wtforms.fields.choices import SelectChoice

from careteams.auth.current import current_actor
from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError
from careteams.extensions import db
from careteams.governance import forms, rules, seal
from careteams.governance import permissions as perm
from careteams.governance.enums import KIND_LABELS, ResolutionKind, ResolutionStatus
from careteams.governance.schemas import ResolutionChangeSchema, ResolutionCreateSchema

# Aliased: the page functions `resolutions`, `results` and `register` keep their
# names (they are the endpoints), so the service modules go by other names here.
from careteams.governance.services import ballots as ballot_svc
from careteams.governance.services import register as register_svc
from careteams.governance.services import resolutions as resolution_svc
from careteams.governance.services import results as result_svc
from careteams.governance.services import tellers as teller_svc
from careteams.members.enums import MembershipStatus
from careteams.members.rules import MEMBERSHIP_STATUS_LABELS, format_pounds, parse_pounds
from careteams.members.schemas import MembershipChangeSchema, MembershipCreateSchema
from careteams.members.services import (
    change_membership,
    coop_today,
    get_visible_cooperative,
    register_member,
)
from careteams.web.forms import plain_fields, refused

bp = Blueprint("governance", __name__)

PREFIX = "/cooperatives/<slug>"


@bp.app_template_filter("gov_time")
def gov_time(value: datetime | None, zone: str) -> str:
    """A UTC time shown in the co-op's zone, e.g. "Fri 1 May 2026, 18:00 BST"."""
    if value is None:
        return ""
    return rules.local_time(value, zone)


@bp.app_template_filter("gov_day")
def gov_day(value: date | None) -> str:
    """A day in words, e.g. "4 December 2026"."""
    return f"{value.day} {value:%B %Y}" if value else ""


def _local_input(value: datetime | None, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if value else ""


def _context(slug: str, resolution_id: int | None = None):
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    resolution = resolution_svc.get_resolution(actor, coop, resolution_id) if resolution_id is not None else None
    return actor, coop, resolution


# --- resolutions ----------------------------------------------------------------------


@bp.route(f"{PREFIX}/resolutions")
@login_required
def resolutions(slug: str):
    actor, coop, _ = _context(slug)
    items = resolution_svc.list_resolutions(actor, coop)
    return render_template("governance/resolutions.html", coop=coop, resolutions=items,
                           can_manage=perm.can_manage_resolutions(actor, coop.id), Status=ResolutionStatus)


def _form_values(form, coop) -> dict:
    """What the person typed, to show back to them."""
    return {k: form.get(k, "") for k in ("title", "text", "kind", "threshold", "options", "opens_at", "closes_at",
                                         "quorum_min_members", "quorum_percent")} | {"conversion": bool(form.get("conversion"))}


def _parse_form(form, coop, partial: bool) -> dict:
    """The create/edit form as the API's schema sees it; times typed in the co-op's zone."""
    errors: dict[str, list[str]] = {}
    payload: dict = {
        "title": form.get("title", ""), "text": form.get("text", ""), "kind": form.get("kind", ""),
        "threshold": form.get("threshold") or "at_least", "conversion": bool(form.get("conversion")),
        "options": [line.strip() for line in form.get("options", "").splitlines() if line.strip()],
    }
    for name in ("opens_at", "closes_at"):
        try:
            payload[name] = rules.local_to_utc(form.get(name, ""), coop.timezone).isoformat()
        except ValueError as exc:
            errors[name] = [str(exc)]
    for name in ("quorum_min_members", "quorum_percent"):
        if form.get(name, "").strip():
            payload[name] = form[name].strip()
    schema = ResolutionChangeSchema() if partial else ResolutionCreateSchema()
    try:
        data = schema.load(payload)
    except SchemaError as exc:
        errors = {**exc.normalized_messages(), **errors}
    if errors:
        raise ValidationError(details={"fields": errors})
    return data


LABELS = {"title": "Title", "text": "Text of the resolution", "kind": "Kind of resolution", "options": "Poll options",
          "opens_at": "Voting opens", "closes_at": "Voting closes", "quorum_min_members": "Quorum",
          "quorum_percent": "Quorum percentage"}


def _edit_page(coop, resolution, values, errors, status=200):
    secrecy = resolution_svc.secrecy(coop, resolution) if resolution is not None else None
    return render_template("governance/resolution_form.html", coop=coop, resolution=resolution, values=values,
                           errors=plain_fields(errors, LABELS), kinds=KIND_LABELS, ResolutionKind=ResolutionKind,
                           secrecy=secrecy), status


@bp.route(f"{PREFIX}/resolutions/new", methods=["GET", "POST"])
@login_required
def new_resolution(slug: str):
    actor, coop, _ = _context(slug)
    if request.method == "POST":
        try:
            resolution = resolution_svc.create_resolution(actor, coop, _parse_form(request.form, coop, partial=False))
        except ValidationError as exc:
            db.session.rollback()
            return _edit_page(coop, None, _form_values(request.form, coop), exc.details.get("fields", {}), 422)
        db.session.commit()
        flash("The resolution is saved as a draft. Check it, then open voting.")
        return redirect(url_for("governance.resolution", slug=slug, resolution_id=resolution.id))
    return _edit_page(coop, None, resolution_svc.resolution_defaults(actor, coop), {})


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/edit", methods=["GET", "POST"])
@login_required
def edit_resolution(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    if request.method == "POST":
        try:
            resolution_svc.update_resolution(actor, coop, resolution, _parse_form(request.form, coop, partial=True))
        except ValidationError as exc:
            db.session.rollback()
            return _edit_page(coop, resolution, _form_values(request.form, coop), exc.details.get("fields", {}), 422)
        db.session.commit()
        flash("Changes saved.")
        return redirect(url_for("governance.resolution", slug=slug, resolution_id=resolution.id))
    values = {
        "title": resolution.title, "text": resolution.text, "kind": resolution.kind.value,
        "threshold": resolution.threshold.value, "conversion": resolution.conversion,
        "options": "\n".join(o.label for o in resolution.options) if resolution.kind == ResolutionKind.poll else "",
        "opens_at": _local_input(resolution.opens_at, coop.timezone),
        "closes_at": _local_input(resolution.closes_at, coop.timezone),
        "quorum_min_members": resolution.quorum_min_members, "quorum_percent": resolution.quorum_percent,
    }
    return _edit_page(coop, resolution, values, {})


TELLER_LABELS = {"scrutineers": "Scrutineers", "shares_needed": "Shares needed to open the count"}


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/open", methods=["POST"])
@login_required
def open_resolution(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    scrutineers = [int(v) for v in request.form.getlist("scrutineers") if v.isdigit()]
    needed = request.form.get("shares_needed", "")
    try:
        resolution = resolution_svc.open_resolution(actor, coop, resolution, scrutineers=scrutineers,
                                                    shares_needed=int(needed) if needed.isdigit() else None)
    except ValidationError as exc:
        db.session.rollback()
        return _resolution_page(actor, coop, resolution, status=422, open_form={
            "scrutineers": scrutineers, "shares_needed": needed,
            "errors": plain_fields(exc.details.get("fields", {}), TELLER_LABELS)})
    db.session.commit()
    flash("Voting is open." if resolution.status == ResolutionStatus.open
          else "Voting will open at the opening time.")
    return redirect(url_for("governance.resolution", slug=slug, resolution_id=resolution_id))


def _change_form(resolution) -> forms.ChangeVoteForm:
    form = forms.ChangeVoteForm()
    form.option.choices = [SelectChoice(str(o.id), o.label) for o in resolution.options] + [
        SelectChoice("abstain", "Abstain")]
    return form


def _proxy_form(voters, form: forms.ProxyForm | None = None) -> forms.ProxyForm:
    form = form or forms.ProxyForm()
    form.proxy_membership_id.choices = [SelectChoice("", "Choose a member")] + [
        SelectChoice(v["membership_id"], v["name"]) for v in voters]
    return form


def _resolution_page(actor, coop, resolution, change_form=None, proxy_form=None, status: int = 200,
                     open_form=None, proxy_search: str | None = None):
    me = ballot_svc.voter_status(actor, coop, resolution)
    can_manage = perm.can_manage_resolutions(actor, coop.id)
    candidates = (teller_svc.teller_candidates(actor, coop)
                  if can_manage and resolution.status == ResolutionStatus.draft else [])
    # A select of every other voter while the electorate is small, a search by name beyond
    # (ballot_svc.SMALL_ELECTORATE): the page does not grow with 100,000 electors.
    proxy = (ballot_svc.proxy_candidates(actor, coop, resolution, proxy_search)
             if me["in_electorate"] and resolution.status == ResolutionStatus.open
             else {"count": 0, "small": True, "voters": [], "search": None, "more": False})
    return render_template("governance/resolution.html", coop=coop, resolution=resolution, me=me, proxy=proxy,
                           can_manage=can_manage, kinds=KIND_LABELS,
                           Status=ResolutionStatus, change_form=change_form or _change_form(resolution),
                           proxy_form=_proxy_form(proxy["voters"] if proxy["small"] else [], proxy_form),
                           tellers=teller_svc.teller_status(actor, resolution), candidates=candidates,
                           open_form=open_form or {"scrutineers": [], "shares_needed": "2", "errors": {}},
                           advice=teller_svc.ADVICE, max_matches=ballot_svc.PROXY_MATCHES,
                           secrecy=resolution_svc.secrecy(coop, resolution),
                           has_receipt=bool(_session_receipts(resolution.id))), status


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>")
@login_required
def resolution(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    return _resolution_page(actor, coop, resolution, proxy_search=request.args.get("proxy_q"))


def _option_from_form() -> int | None:
    choice = request.form.get("option", "")
    if choice == "abstain":
        return None
    if not choice.isdigit():
        raise ValidationError(details={"fields": {"option": ["Choose an option, or abstain."]}})
    return int(choice)


# Receipts and change codes live in the Flask session (the member's own signed cookie),
# keyed by resolution, so the receipt page can be reloaded, printed and shown again in this
# session only; never in a URL, never in the database (which keeps only the code's hash).
RECEIPTS_KEY = "ballot_receipts"


def _session_receipts(resolution_id: int) -> list[dict]:
    return list(session.get(RECEIPTS_KEY, {}).get(str(resolution_id), []))


def _keep_receipt(resolution_id: int, entry: dict) -> None:
    kept = dict(session.get(RECEIPTS_KEY, {}))
    receipts = [r for r in kept.get(str(resolution_id), []) if r["receipt"] != entry["receipt"]]
    kept[str(resolution_id)] = [*receipts, entry]
    session[RECEIPTS_KEY] = kept


def _receipt_url(slug: str, resolution_id: int) -> str:
    return url_for("governance.receipt", slug=slug, resolution_id=resolution_id)


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/ballot", methods=["POST"])
@login_required
def cast(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    on_behalf = request.form.get("on_behalf_of", "")
    on_behalf_of = int(on_behalf) if on_behalf.isdigit() else None
    try:
        receipt = ballot_svc.cast_ballot(actor, coop, resolution, _option_from_form(), on_behalf_of)
    except Conflict as exc:
        db.session.rollback()
        # The form sent again (back button, resubmit): show the receipt this session holds.
        if exc.code == "already_voted" and _session_receipts(resolution_id):
            flash("Your vote was already cast. Here is your receipt again.")
            return redirect(_receipt_url(slug, resolution_id))
        raise
    db.session.commit()
    name = None
    if on_behalf_of is not None:
        held = ballot_svc.voter_status(actor, coop, resolution)["proxies_held"]
        name = next((h["name"] for h in held if h["appointer_membership_id"] == on_behalf_of), None)
    _keep_receipt(resolution_id, {"receipt": receipt["receipt"], "change_token": receipt["change_token"],
                                  "on_behalf_of": name, "changed": False})
    return redirect(_receipt_url(slug, resolution_id))


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/receipt")
@login_required
def receipt(slug: str, resolution_id: int):
    _, coop, resolution = _context(slug, resolution_id)
    receipts = _session_receipts(resolution_id)
    if not receipts:
        raise NotFound("There is no receipt for this resolution in this session. "
                       "Receipts are shown only in the session that voted.")
    response = make_response(render_template("governance/receipt.html", coop=coop, resolution=resolution,
                                             receipts=receipts))
    # The change code is on this page: no browser or proxy cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/ballot/change", methods=["POST"])
@login_required
def change(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    form = _change_form(resolution)
    if form.validate_on_submit():
        with refused(form) as outcome:
            option_id = None if form.option.data == "abstain" else int(form.option.data)
            receipt = ballot_svc.change_ballot(actor, coop, resolution, form.change_token.data, option_id)
        if outcome.ok:
            db.session.commit()
            kept = next((r for r in _session_receipts(resolution_id) if r["receipt"] == receipt["receipt"]), {})
            _keep_receipt(resolution_id, {**kept, "receipt": receipt["receipt"],
                                          "change_token": kept.get("change_token") or form.change_token.data,
                                          "on_behalf_of": kept.get("on_behalf_of"), "changed": True})
            flash("Your vote is changed.")
            return redirect(_receipt_url(slug, resolution_id))
    return _resolution_page(actor, coop, resolution, change_form=form, status=form.status)


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/proxy", methods=["POST"])
@login_required
def appoint(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    form = forms.ProxyForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            ballot_svc.appoint_proxy(actor, coop, resolution, form.proxy_membership_id.data)
        if outcome.ok:
            db.session.commit()
            flash("Your proxy is appointed. You can still vote yourself until they have voted.")
            return redirect(url_for("governance.resolution", slug=slug, resolution_id=resolution_id))
    return _resolution_page(actor, coop, resolution, proxy_form=form, status=form.status,
                            proxy_search=request.form.get("proxy_q"))


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/proxy/revoke", methods=["POST"])
@login_required
def revoke(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    ballot_svc.revoke_proxy(actor, coop, resolution)
    db.session.commit()
    flash("Your proxy appointment is taken back.")
    return redirect(url_for("governance.resolution", slug=slug, resolution_id=resolution_id))


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/results")
@login_required
def results(slug: str, resolution_id: int):
    actor, coop, resolution = _context(slug, resolution_id)
    published = result_svc.results(actor, coop, resolution)
    return render_template("governance/results.html", coop=coop, resolution=resolution,
                           result=published["result"], electorate=published["electorate"], kinds=KIND_LABELS,
                           secrecy=resolution_svc.secrecy(coop, resolution))


# --- tellers ----------------------------------------------------------------------------


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/share", methods=["GET", "POST"])
@login_required
def share(slug: str, resolution_id: int):
    """A teller's share, shown once: GET explains, POST shows it (and erases the stored copy)."""
    actor, coop, resolution = _context(slug, resolution_id)
    teller_svc.ensure_teller(actor, resolution)
    status = teller_svc.teller_status(actor, resolution)
    if request.method == "POST":
        if not status["share_waiting"]:
            return render_template("governance/share.html", coop=coop, resolution=resolution, status=status,
                                   share=None), 409
        taken = teller_svc.take_my_share(actor, coop, resolution, utcnow())
        db.session.commit()
        return render_template("governance/share.html", coop=coop, resolution=resolution, status=status,
                               share=seal.share_groups(taken))
    return render_template("governance/share.html", coop=coop, resolution=resolution, status=status, share=None)


@bp.route(f"{PREFIX}/resolutions/<int:resolution_id>/count", methods=["GET", "POST"])
@login_required
def count(slug: str, resolution_id: int):
    """The tellers give k shares together, in one form: nothing is kept between requests."""
    actor, coop, resolution = _context(slug, resolution_id)
    teller_svc.ensure_teller(actor, resolution)
    needed = resolution.shares_needed or 1
    values: dict = {}
    errors: dict = {}
    code = 200
    if request.method == "POST":
        values = {f"share-{n}": request.form.get(f"share-{n}", "") for n in range(1, needed + 1)}
        try:
            if resolution.status != ResolutionStatus.counting:
                raise Conflict("This vote is not waiting for its tellers.", code="not_counting")
            missing = [k for k, v in values.items() if not v.strip()]
            if missing:
                raise ValidationError(details={"fields": {k: ["Type this teller's share."] for k in missing}})
            teller_svc.open_count(actor, coop, resolution, list(values.values()), utcnow())
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            fields = (exc.details or {}).get("fields") or {}
            if "shares" in fields:
                fields = {"share-1": fields["shares"]}
            errors = plain_fields(fields) or {"share-1": [exc.message]}
            code = 422 if isinstance(exc, ValidationError) else 409
            values = {k: "" for k in values}  # shares are never sent back to the browser
        else:
            db.session.commit()
            flash("The ballots are opened and counted; the results are published.")
            return redirect(url_for("governance.results", slug=slug, resolution_id=resolution_id))
    return render_template("governance/count.html", coop=coop, resolution=resolution, needed=needed,
                           values=values, errors=errors, tellers=teller_svc.teller_status(actor, resolution),
                           Status=ResolutionStatus), code


# --- the register ----------------------------------------------------------------------


@bp.route(f"{PREFIX}/register")
@login_required
def register(slug: str):
    actor, coop, _ = _context(slug)
    wanted = request.args.get("status", "")
    status = MembershipStatus(wanted) if wanted in MembershipStatus.__members__ else None
    return render_template("governance/register.html", coop=coop, status=status, Status=MembershipStatus,
                           status_labels=MEMBERSHIP_STATUS_LABELS, pounds=format_pounds,
                           **register_svc.register_page(actor, coop, status))


def _schema_load(schema, payload: dict) -> dict:
    """The API's schema over what the page gathered: it refuses the same things (422)."""
    try:
        return schema.load(payload)
    except SchemaError as exc:
        raise ValidationError(details={"fields": exc.normalized_messages()}) from None


def _pence(text: str) -> int:
    try:
        return parse_pounds(text)
    except ValueError as exc:
        raise ValidationError(details={"fields": {"share_pence": [str(exc)]}}) from None


def _enter_form(actor, coop, form=None) -> forms.EnterMemberForm:
    form = form or forms.EnterMemberForm()
    form.person_id.choices = [SelectChoice("", "Choose a person")] + [
        SelectChoice(p.id, p.name) for p in register_svc.register_candidates(actor, coop)]
    return form


@bp.route(f"{PREFIX}/register/new", methods=["GET", "POST"])
@login_required
def enter_member(slug: str):
    actor, coop, _ = _context(slug)
    form = _enter_form(actor, coop)
    if form.validate_on_submit():
        with refused(form, rename={"share_pence": "share"}) as outcome:
            data = _schema_load(MembershipCreateSchema(), {
                "person_id": form.person_id.data, "member_class": form.member_class.data,
                "share_pence": _pence(form.share.data)})
            membership = register_member(actor, coop, data)
        if outcome.ok:
            db.session.commit()
            flash(f"{membership.person.name} is in the register as an applicant.")
            return redirect(url_for("governance.membership", slug=slug, membership_id=membership.id))
        _enter_form(actor, coop, form)
    return render_template("governance/enter_member.html", coop=coop, form=form), form.status


def _membership_page(actor, coop, membership_id: int, status: int = 200, **given):
    page = register_svc.membership_page(actor, coop, membership_id)
    membership = page["membership"]
    today = coop_today(coop)
    admit = given.get("admit") or forms.AdmitForm(prefix="admit", joined_on=today)
    change_class = given.get("change_class") or forms.ClassForm(prefix="class",
                                                                 member_class=membership.member_class.value)
    share = given.get("share") or forms.ShareForm(prefix="share", share=format_pounds(membership.share_pence)[1:])
    leave = given.get("leave") or forms.LeaveForm(prefix="leave", left_on=today)
    return render_template("governance/membership_admin.html", coop=coop, Status=MembershipStatus,
                           status_labels=MEMBERSHIP_STATUS_LABELS, pounds=format_pounds, admit=admit,
                           change_class=change_class, share=share, leave=leave, **page), status


@bp.route(f"{PREFIX}/register/<int:membership_id>")
@login_required
def membership(slug: str, membership_id: int):
    actor, coop, _ = _context(slug)
    return _membership_page(actor, coop, membership_id)


def _change(slug: str, membership_id: int, name: str, form, payload, done: str):
    """One register step from the membership page: the API's schema, then the service, once."""
    actor, coop, _ = _context(slug)
    if form.validate_on_submit():
        with refused(form, rename={"share_pence": "share"}) as outcome:
            change_membership(actor, coop, membership_id, _schema_load(MembershipChangeSchema(), payload()))
        if outcome.ok:
            db.session.commit()
            flash(done)
            return redirect(url_for("governance.membership", slug=slug, membership_id=membership_id))
    return _membership_page(actor, coop, membership_id, form.status, **{name: form})


def _with_note(form, payload: dict) -> dict:
    return payload | ({"note": form.note.data} if form.note.data else {})


@bp.route(f"{PREFIX}/register/<int:membership_id>/admit", methods=["POST"])
@login_required
def admit(slug: str, membership_id: int):
    form = forms.AdmitForm(prefix="admit")
    return _change(slug, membership_id, "admit", form, lambda: _with_note(form, {
        "status": "active", "joined_on": form.joined_on.data.isoformat()}), "Admitted: they are a member now.")


@bp.route(f"{PREFIX}/register/<int:membership_id>/class", methods=["POST"])
@login_required
def change_class(slug: str, membership_id: int):
    form = forms.ClassForm(prefix="class")
    return _change(slug, membership_id, "change_class", form, lambda: _with_note(form, {
        "member_class": form.member_class.data}), "The member class is changed; the history keeps the old one.")


@bp.route(f"{PREFIX}/register/<int:membership_id>/share", methods=["POST"])
@login_required
def change_share(slug: str, membership_id: int):
    form = forms.ShareForm(prefix="share")
    return _change(slug, membership_id, "share", form, lambda: _with_note(form, {
        "share_pence": _pence(form.share.data)}), "The share amount is changed.")


@bp.route(f"{PREFIX}/register/<int:membership_id>/leave", methods=["POST"])
@login_required
def leave(slug: str, membership_id: int):
    """Recording that someone left, in two steps: the form is checked by the service (and
    rolled back), then a page asks to confirm; only the confirmed form is kept."""
    actor, coop, _ = _context(slug)
    form = forms.LeaveForm(prefix="leave")
    if form.validate_on_submit():
        payload = _with_note(form, {"status": "left", "left_on": form.left_on.data.isoformat()})
        with refused(form) as outcome:
            membership = change_membership(actor, coop, membership_id, _schema_load(MembershipChangeSchema(), payload))
        if outcome.ok and form.confirm.data == "yes":
            db.session.commit()
            flash("Recorded: they have left the co-op.")
            return redirect(url_for("governance.membership", slug=slug, membership_id=membership_id))
        if outcome.ok:
            name = membership.person.name
            db.session.rollback()
            return render_template("governance/leave_confirm.html", coop=coop, form=form, name=name,
                                   membership_id=membership_id)
    return _membership_page(actor, coop, membership_id, form.status, leave=form)


@bp.route(f"{PREFIX}/register.csv")
@login_required
def register_csv(slug: str):
    actor, coop, _ = _context(slug)
    body = register_svc.register_csv(actor, coop)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{coop.slug}-register.csv"',
        "Cache-Control": "no-store",
    })


@bp.route(f"{PREFIX}/membership")
@login_required
def own_membership(slug: str):
    actor, coop, _ = _context(slug)
    return render_template("governance/membership.html", coop=coop, **register_svc.own_membership(actor, coop))
