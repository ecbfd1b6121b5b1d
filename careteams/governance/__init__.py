"""Member governance: the register, resolutions, secret ballots, proxies and the tally."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

api_bp = ApiBlueprint("governance_api", __name__, url_prefix="/api/v1",
                      description="Resolutions, secret ballots, proxies, results and the register")
bp = Blueprint("governance", __name__)

from careteams.governance import views  # noqa: E402,F401
