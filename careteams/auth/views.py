"""The personal API token endpoints (JSON)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from careteams.auth import second_factor as factor
from careteams.auth import services as auth
from careteams.auth.current import current_person
from careteams.auth.limits import (
    account,
    account_limit,
    address_and_account,
    ip_limit,
    login_limit,
    no_account_given,
)
from careteams.auth.schemas import NewTokenSchema, TokenCreateSchema, TokenSchema
from careteams.errors import Unauthorized, ValidationError
from careteams.extensions import db, limiter

api_bp = ApiBlueprint("auth_api", __name__, url_prefix="/api/v1", description="Personal API tokens")


@api_bp.route("/tokens")
class Tokens(MethodView):
    @api_bp.response(200, TokenSchema(many=True))
    def get(self):
        """Your active API tokens (never the secrets)."""
        return auth.list_api_tokens(current_person())

    @limiter.shared_limit(login_limit, "login-address-account", key_func=address_and_account)
    @limiter.shared_limit(account_limit, "login-account", key_func=account, exempt_when=no_account_given)
    @limiter.limit(ip_limit)
    @api_bp.arguments(TokenCreateSchema)
    @api_bp.response(201, NewTokenSchema)
    def post(self, data):
        """Exchange an email and password (and, for staff, the code of their second factor)
        for a personal bearer token (shown once)."""
        person = auth.authenticate(data["email"], data["password"])
        _check_second_factor(person, data.get("totp_code"))
        token, secret = auth.create_api_token(person, data["name"], data["expires_in_days"])
        db.session.commit()
        token.token = secret  # shown in this response only; never stored
        return token


def _check_second_factor(person, code: str | None) -> None:
    """Staff get a token only with their second factor's code: a token acts for its
    person without a login session, so the factor is asked for here, once."""
    if not factor.needs_second_factor(person):
        return
    if not factor.has_confirmed_factor(person):
        raise Unauthorized("Set up your second factor on the web first (sign in there), then ask for a token.",
                           code="second_factor_not_enrolled")
    if not code:
        raise Unauthorized("Staff need the code of their second factor: send it as totp_code.",
                           code="second_factor_required", details={"fields": {"totp_code": ["Send the 6-digit code."]}})
    try:
        factor.check_code(person, code)
    except ValidationError as error:
        db.session.rollback()
        raise Unauthorized(error.message, code="wrong_second_factor",
                           details={"fields": {"totp_code": [error.message]}}) from None


@api_bp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @api_bp.response(204)
    def delete(self, token_id: int):
        """Revoke one of your tokens."""
        auth.revoke_api_token(current_person(), token_id)
        db.session.commit()
