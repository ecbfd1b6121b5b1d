"""Co-operatives, people, memberships and staff roles."""

from flask_smorest import Blueprint

api_bp = Blueprint("members_api", __name__, url_prefix="/api/v1", description="Co-operatives, people and the member register")

from careteams.members import views  # noqa: E402,F401
