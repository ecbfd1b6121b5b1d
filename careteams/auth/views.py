"""Login, logout, invitations and password reset pages; the API token endpoints."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_login import login_user, logout_user

from careteams.auth import api_bp, bp
from careteams.auth import services as auth
from careteams.auth.current import current_person
from careteams.auth.forms import LoginForm, ResetRequestForm, SetPasswordForm
from careteams.auth.models import LinkPurpose
from careteams.auth.schemas import NewTokenSchema, TokenCreateSchema, TokenSchema
from careteams.errors import AppError
from careteams.extensions import db, limiter


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _ip_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_IP"]


def _address_and_account() -> str:
    # Per account and address: guessing one person's password is slow, while a
    # co-op office sharing one address can still log in many different people.
    email = (request.form.get("email") or (request.get_json(silent=True) or {}).get("email") or "")
    return f"{get_remote_address()}|{str(email).strip().lower()}"


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_address_and_account)
@limiter.limit(_ip_limit, methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            person = auth.authenticate(form.email.data, form.password.data)
        except AppError as exc:
            error = exc.message
        else:
            session.clear()  # no session fixation
            login_user(person, remember=form.remember.data)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else (422 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash("You have logged out.")
    return redirect(url_for("auth.login"))


def _password_page(token: str, purpose: LinkPurpose, template: str):
    person = auth.check_link(token, purpose)
    form = SetPasswordForm()
    if form.validate_on_submit():
        person = auth.use_link(token, purpose, form.password.data)
        db.session.commit()
        session.clear()
        login_user(person)
        flash("Your password is set. Welcome.")
        return redirect(url_for("web.home"))
    return render_template(template, form=form, person=person), (422 if form.errors else 200)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    return _password_page(token, LinkPurpose.invite, "auth/accept_invite.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_page(token, LinkPurpose.reset, "auth/reset_password.html")


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        auth.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/reset_sent.html")
    return render_template("auth/reset_request.html", form=form), (422 if form.errors else 200)


@api_bp.route("/tokens")
class Tokens(MethodView):
    @api_bp.response(200, TokenSchema(many=True))
    def get(self):
        """Your active API tokens (never the secrets)."""
        return auth.list_api_tokens(current_person())

    @limiter.limit(_login_limit, key_func=_address_and_account)
    @limiter.limit(_ip_limit)
    @api_bp.arguments(TokenCreateSchema)
    @api_bp.response(201, NewTokenSchema)
    def post(self, data):
        """Exchange an email and password for a personal bearer token (shown once)."""
        person = auth.authenticate(data["email"], data["password"])
        token, secret = auth.create_api_token(person, data["name"])
        db.session.commit()
        token.token = secret  # shown in this response only; never stored
        return token


@api_bp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @api_bp.response(204)
    def delete(self, token_id: int):
        """Revoke one of your tokens."""
        auth.revoke_api_token(current_person(), token_id)
        db.session.commit()
