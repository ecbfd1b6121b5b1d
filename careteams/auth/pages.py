"""Login (password, one-time code or emailed link), logout, invitations and password reset pages.

Every way of signing in ends in `_signed_in(person)`: the one place where a login
starts (and where a second factor can hook in)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from careteams.auth import services as auth
from careteams.auth.account_pages import bp as account_bp
from careteams.auth.enums import LinkPurpose
from careteams.auth.forms import (
    CodeEnterForm,
    CodeRequestForm,
    LinkSignInForm,
    LoginForm,
    ResetRequestForm,
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
    sign_in_account,
    sign_in_code_limit,
)
from careteams.auth.rules import safe_next_path
from careteams.errors import Unauthorized
from careteams.extensions import db, limiter
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
