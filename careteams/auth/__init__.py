"""Accounts: login, invitations, password reset and personal API tokens."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("auth", __name__, template_folder="templates")
api_bp = ApiBlueprint("auth_api", __name__, url_prefix="/api/v1", description="Personal API tokens")

from careteams.auth import views  # noqa: E402,F401
