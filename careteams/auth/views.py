"""The personal API token endpoints (JSON)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

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
        """Exchange an email and password for a personal bearer token (shown once)."""
        person = auth.authenticate(data["email"], data["password"])
        token, secret = auth.create_api_token(person, data["name"], data["expires_in_days"])
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
