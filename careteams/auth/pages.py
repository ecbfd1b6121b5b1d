"""Login (password, one-time code or emailed link), logout, invitations and password reset pages.

Every way of signing in ends in `_signed_in(person)`: the one place where a login
starts (and where a second factor can hook in)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from careteams.apidoc import PUBLIC_API
from careteams.auth import second_factor as factor
from careteams.auth import services as auth
from careteams.auth.account_pages import bp as account_bp
from careteams.auth.current import current_actor, current_person
from careteams.auth.enums import LinkPurpose
from careteams.auth.forms import (
    CodeEnterForm,
    CodeRequestForm,
    EnrolForm,
    LinkSignInForm,
    LoginForm,
    ResetRequestForm,
    SecondFactorForm,
    SetPasswordForm,
)
from careteams.auth.limits import (
    SIGN_IN_FOR,
    account,
    account_limit,
    address_and_account,
    ip_limit,
    login_limit,
    no_account_given,
    refused_code,
    second_factor_limit,
    sign_in_account,
    sign_in_code_limit,
    signed_in_person,
)
from careteams.auth.rules import safe_next_path
from careteams.errors import Forbidden, Unauthorized, wants_json
from careteams.extensions import db, limiter
from careteams.members.services import get_cooperative
from careteams.web.forms import refused

bp = Blueprint("auth", __name__, template_folder="templates")
bp.register_blueprint(account_bp)  # My account: /my/account, endpoints "auth.account.*"

# A refused login says this, the same whether or not the account exists.
WRONG_LOGIN = "Email or mobile number or password is wrong."


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths (auth.rules.safe_next_path): never an open redirect.
    return safe_next_path(target) or url_for("web.home")


def _signed_in(person, remember: bool = False) -> None:
    """Start a login for `person`: every way of signing in (password, one-time code
    or link, a password set from an invitation or reset) comes here, so that this is
    the one place to add a step (a second factor for staff). Ends any login this
    browser had (perhaps as someone else), clears the session (no session fixation),
    records the new server-side login session and logs the person in. The caller commits."""
    if current_user.is_authenticated:
        auth.end_login_session(current_user._get_current_object())
    session.clear()
    auth.start_login_session(person, request.user_agent.string)
    login_user(person, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.shared_limit(login_limit, "login-address-account", methods=["POST"], key_func=address_and_account)
@limiter.shared_limit(account_limit, "login-account", methods=["POST"], key_func=account, exempt_when=no_account_given)
@limiter.limit(ip_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            person = auth.authenticate(form.email.data, form.password.data)
        except Unauthorized:
            # The same words whether the account exists or not; the email is kept, the password never.
            db.session.rollback()
            form.form_errors.append(WRONG_LOGIN)
            form.refusal_status = 401
        else:
            _signed_in(person, remember=form.remember.data)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), form.status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Ends this session's row: a copy of this browser's cookies no longer works.
        auth.end_login_session(current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have logged out.")
    return redirect(url_for("auth.login"))


def _password_page(token: str, purpose: LinkPurpose, template: str):
    person = auth.check_link(token, purpose)
    form = SetPasswordForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            person = auth.use_link(token, purpose, form.password.data)  # ends every session, revokes tokens
            _signed_in(person)
        if outcome.ok:
            db.session.commit()
            flash("Your password is set. You have been signed out everywhere else and your API tokens were revoked.")
            return redirect(url_for("web.home"))
    return render_template(template, form=form, person=person), form.status


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    return _password_page(token, LinkPurpose.invite, "auth/accept_invite.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_page(token, LinkPurpose.reset, "auth/reset_password.html")


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            auth.request_password_reset(form.email.data)
        if outcome.ok:
            db.session.commit()
            return render_template("auth/reset_sent.html")
    return render_template("auth/reset_request.html", form=form), form.status


# --- one-time sign-in codes and links -------------------------------------------
# The same answer whether or not the address has an account; see careteams/auth/README.md.


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.shared_limit(sign_in_code_limit, "sign-in-code-account", methods=["POST"], key_func=sign_in_account,
                      exempt_when=no_account_given)
@limiter.limit(ip_limit, methods=["POST"])
def ask_code():
    form = CodeRequestForm()
    if form.validate_on_submit():
        auth.request_sign_in(form.email.data)
        db.session.commit()
        session[SIGN_IN_FOR] = form.email.data.strip()
        return redirect(url_for("auth.enter_code", sent=1))
    return render_template("auth/code_request.html", form=form), form.status


@bp.route("/login/code/enter", methods=["GET", "POST"])
@limiter.shared_limit(login_limit, "login-address-account", methods=["POST"], key_func=address_and_account)
@limiter.shared_limit(account_limit, "login-account", methods=["POST"], key_func=account, exempt_when=no_account_given)
@limiter.limit(ip_limit, methods=["POST"])
def enter_code():
    identifier = session.get(SIGN_IN_FOR)
    if not identifier:
        flash("First tell us your email address or mobile number, and we will send you a code.")
        return redirect(url_for("auth.ask_code"))
    form = CodeEnterForm()
    if form.validate_on_submit():
        try:
            person = auth.sign_in_with_code(identifier, form.code.data)
        except Unauthorized as error:
            db.session.commit()  # keeps the count of wrong tries
            form.code.errors = [error.message]
            form.refusal_status = 401
        else:
            _signed_in(person)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/code_enter.html", form=form, sent=request.args.get("sent") == "1"), form.status


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@limiter.limit(ip_limit, methods=["POST"])
def sign_in_link(token: str):
    link = auth.check_sign_in_link(token)  # NotFound: expired or used
    form = LinkSignInForm()
    if form.validate_on_submit():
        person = auth.sign_in_with_link(token)
        _signed_in(person)
        db.session.commit()
        return redirect(url_for("web.home"))
    return render_template("auth/link_sign_in.html", form=form, person=link.person), form.status


# --- the second factor (staff) ---------------------------------------------------
#
# Every request of a signed-in staff person whose login session has not passed
# the factor goes to /login/second-factor (or to enrol, if she has none), except
# these: signing in (any way) and out, the factor pages themselves, password links.
FACTOR_FREE = frozenset({
    "static", "auth.login", "auth.logout", "auth.second_factor", "auth.enrol_second_factor",
    "auth.accept_invite", "auth.reset_password", "auth.request_reset",
    "auth.ask_code", "auth.enter_code", "auth.sign_in_link",
})


@bp.before_app_request
def second_factor_gate():
    if request.endpoint is None or request.endpoint in FACTOR_FREE:
        return None
    if (request.method, request.path) in PUBLIC_API or not current_user.is_authenticated:
        return None
    if g.get("via_token"):
        return None  # a staff person's token is only made with her code (POST /api/v1/tokens)
    person = current_user._get_current_object()
    if not factor.needs_second_factor(person) or factor.session_passed(person):
        return None
    if wants_json():
        raise Forbidden("Pass your second factor first (sign in on the web).", code="second_factor_required")
    target = "auth.second_factor" if factor.has_confirmed_factor(person) else "auth.enrol_second_factor"
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for(target, next=safe_next_path(here)))


def _after_factor():
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@login_required
@limiter.limit(second_factor_limit, methods=["POST"], key_func=signed_in_person, deduct_when=refused_code)
def second_factor():
    person = current_person()
    if not factor.needs_second_factor(person) or factor.session_passed(person):
        return _after_factor()
    if not factor.has_confirmed_factor(person):
        return redirect(url_for("auth.enrol_second_factor", next=request.args.get("next")))
    form = SecondFactorForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            factor.pass_second_factor(person, form.code.data)
        if outcome.ok:
            db.session.commit()
            return _after_factor()
    return render_template("auth/second_factor.html", form=form), form.status


@bp.route("/my/second-factor/enrol", methods=["GET", "POST"])
@login_required
@limiter.limit(second_factor_limit, methods=["POST"], key_func=signed_in_person, deduct_when=refused_code)
def enrol_second_factor():
    person = current_person()
    if factor.has_confirmed_factor(person):
        flash("You already have a second factor.")
        return _after_factor()
    pending = factor.start_enrolment(person)  # the same secret until she confirms it
    db.session.commit()
    form = EnrolForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            codes = factor.confirm_enrolment(person, form.code.data)
        if outcome.ok:
            db.session.commit()
            # Shown on this answer only: they are stored hashed.
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next=_safe_next(request.args.get("next")))
    uri = factor.provisioning_uri(person, pending)
    return render_template("auth/enrol_second_factor.html", form=form, qr=factor.qr_svg(uri),
                           secret=pending.secret), form.status


@bp.route("/coops/<slug>/second-factors", methods=["GET"])
@login_required
def second_factors(slug: str):
    coop = get_cooperative(slug)
    staff = factor.staff_factors(current_actor(), coop)
    return render_template("auth/second_factors.html", coop=coop, staff=staff,
                           resets=factor.resets(current_actor(), coop))


@bp.route("/coops/<slug>/second-factors/<int:person_id>/reset", methods=["POST"])
@login_required
def reset_second_factor(slug: str, person_id: int):
    coop = get_cooperative(slug)
    audit = factor.reset_second_factor(current_actor(), coop, person_id)
    db.session.commit()
    flash(f"{audit.person.name}'s second factor is reset. They set up a new one when they next sign in.")
    return redirect(url_for("auth.second_factors", slug=coop.slug))

