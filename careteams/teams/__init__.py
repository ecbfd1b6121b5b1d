"""Teams led by the supported member: members, hats (the circle), support plan."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("teams", __name__)
api_bp = ApiBlueprint("teams_api", __name__, url_prefix="/api/v1", description="Teams, circles, hats and support plans")

from careteams.teams import pages, views  # noqa: E402,F401
