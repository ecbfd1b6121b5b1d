"""My account pages (/my/account): name, email and mobile (with a code), how to reach
me, password, sign-in methods, sessions and API tokens, and what the co-op holds
about me (UK GDPR right of access). Every page acts on the logged-in person only.

A nested blueprint of "auth" (registered in auth.pages), so endpoints read
"auth.account.<view>": the overview is "auth.account.home".
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from careteams.auth import account, subject_access
from careteams.auth import services as auth
from careteams.auth.account_forms import (
    ButtonForm,
    ChangePasswordForm,
    CodeForm,
    NameForm,
    NewEmailForm,
    NewPhoneForm,
    ReachForm,
)
from careteams.auth.current import current_person
from careteams.auth.enums import ContactKind
from careteams.extensions import db, limiter
from careteams.members.rules import Reach
from careteams.web.forms import place_errors, refused

bp = Blueprint("account", __name__, url_prefix="/my/account")


@bp.before_request
@login_required
def _logged_in():
    return None


def _who() -> str:
    # The limiter checks before this blueprint's login check runs: a stranger counts by address.
    return str(getattr(current_user, "id", None) or f"address {request.remote_addr}")


def _code_limit_key() -> str:
    # Per person: sending codes to new addresses cannot be used to spam someone.
    return f"account-code|{_who()}"


def _password_limit_key() -> str:
    return f"account-password|{_who()}"


@bp.route("/")
def home():
    person = current_person()
    return render_template("auth/account/home.html", person=person, reach=account.current_reach(person),
                           methods=account.sign_in_methods(person),
                           pending={kind: account.pending_change(person, kind) for kind in ContactKind},
                           sessions=account.my_sessions(person), tokens=auth.list_api_tokens(person))


@bp.route("/name", methods=["GET", "POST"])
def name():
    person = current_person()
    form = NameForm(data={"name": person.name} if request.method == "GET" else None)
    if form.validate_on_submit():
        with refused(form) as outcome:
            account.change_name(person, form.name.data)
        if outcome.ok:
            db.session.commit()
            flash("Your name is changed.")
            return redirect(url_for(".home"))
    return render_template("auth/account/name.html", form=form), form.status


# --- email and mobile: the new one takes effect when its code is typed in ---------------

_KIND_FORMS = {ContactKind.email: NewEmailForm, ContactKind.phone: NewPhoneForm}


def _contact_page(kind: ContactKind, new_form=None, code_form=None, status: int = 200):
    person = current_person()
    new_form = new_form or _KIND_FORMS[kind](formdata=None)
    code_form = code_form or CodeForm(formdata=None)
    return render_template("auth/account/contact.html", kind=kind, person=person, new_form=new_form,
                           code_form=code_form, pending=account.pending_change(person, kind)), status


def _send_code(kind: ContactKind):
    person = current_person()
    form = _KIND_FORMS[kind]()
    if form.validate_on_submit():
        with refused(form) as outcome:
            account.request_contact_change(person, kind, form[account.FIELD_OF[kind]].data)
        if outcome.ok:
            db.session.commit()
            flash(f"We have sent a code to your new {account.WORDS_OF[kind]}. Type it below.")
            return redirect(url_for(f".{kind.value}"))
    return _contact_page(kind, new_form=form, status=form.status)


def _check_code(kind: ContactKind):
    person = current_person()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            account.confirm_contact_change(person, kind, form.code.data)
        except account.WrongCode as refusal:
            db.session.commit()  # keep the count of tries, or the dropped change
            place_errors(form, refusal)
        else:
            db.session.commit()
            flash(f"Your {account.WORDS_OF[kind]} is changed.")
            return redirect(url_for(".home"))
    return _contact_page(kind, code_form=form, status=form.status)


@bp.route("/email", methods=["GET"])
def email():
    return _contact_page(ContactKind.email)


@bp.route("/phone", methods=["GET"])
def phone():
    return _contact_page(ContactKind.phone)


@bp.route("/email", methods=["POST"])
@limiter.limit("5 per 15 minutes;20 per day", key_func=_code_limit_key)
def email_send():
    return _send_code(ContactKind.email)


@bp.route("/phone", methods=["POST"])
@limiter.limit("5 per 15 minutes;20 per day", key_func=_code_limit_key)
def phone_send():
    return _send_code(ContactKind.phone)


@bp.route("/email/code", methods=["POST"])
def email_code():
    return _check_code(ContactKind.email)


@bp.route("/phone/code", methods=["POST"])
def phone_code():
    return _check_code(ContactKind.phone)


@bp.route("/<any(email, phone):kind>/cancel", methods=["POST"])
def cancel_change(kind: str):
    form = ButtonForm()
    if form.validate_on_submit():
        account.cancel_contact_change(current_person(), ContactKind(kind))
        db.session.commit()
        flash("The change was cancelled.")
    return redirect(url_for(".home"))


# --- how to reach me ------------------------------------------------------------------


@bp.route("/reach", methods=["GET", "POST"])
def reach():
    person = current_person()
    form = ReachForm(data={"reach": account.current_reach(person).value} if request.method == "GET" else None)
    if form.validate_on_submit():
        with refused(form) as outcome:
            account.set_reach(person, Reach(form.reach.data))
        if outcome.ok:
            db.session.commit()
            flash("Your choice is saved.")
            return redirect(url_for(".home"))
    return render_template("auth/account/reach.html", form=form, person=person), form.status


# --- password ---------------------------------------------------------------------------


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], key_func=_password_limit_key)
def password():
    person = current_person()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            account.change_password(person, form.current.data, form.password.data)  # ends every session
            auth.start_login_session(person, request.user_agent.string)
        if outcome.ok:
            db.session.commit()
            session.clear()
            login_user(person)
            flash("Your password is changed. You have been signed out everywhere else and your API tokens were revoked.")
            return redirect(url_for(".home"))
    return render_template("auth/account/password.html", form=form), form.status


# --- sessions and API tokens ------------------------------------------------------------


@bp.route("/sessions")
def sessions():
    person = current_person()
    return render_template("auth/account/sessions.html", sessions=account.my_sessions(person),
                           current_id=account.current_session_id(person), tokens=auth.list_api_tokens(person),
                           form=ButtonForm())


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
def end_session(session_id: int):
    form = ButtonForm()
    if form.validate_on_submit():
        account.end_my_session(current_person(), session_id)  # 404 for anyone else's
        db.session.commit()
        flash("That device is signed out.")
    return redirect(url_for(".sessions"))


@bp.route("/sessions/end-others", methods=["POST"])
def end_other_sessions():
    form = ButtonForm()
    if form.validate_on_submit():
        ended = account.end_other_sessions(current_person())
        db.session.commit()
        flash(f"Signed out everywhere else ({ended} other session{'s' if ended != 1 else ''}).")
    return redirect(url_for(".sessions"))


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    form = ButtonForm()
    if form.validate_on_submit():
        auth.revoke_api_token(current_person(), token_id)  # 404 for anyone else's
        db.session.commit()
        flash("The API token is revoked.")
    return redirect(url_for(".sessions"))


# --- what the co-op holds about me (right of access) -------------------------------------


@bp.route("/data")
def data():
    person = current_person()
    page = render_template("auth/account/data.html", person=person, summary=subject_access.summary(person),
                           statement=subject_access.STATEMENT)
    return page, 200, {"Cache-Control": "no-store"}  # personal data: not kept by the browser or a proxy


@bp.route("/data.json")
def data_json():
    body = subject_access.as_json(current_person())
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="careteams-my-data.json"', "Cache-Control": "no-store"})


@bp.route("/data.csv")
def data_csv():
    body = subject_access.as_csv(current_person())
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="careteams-my-data.csv"', "Cache-Control": "no-store"})
