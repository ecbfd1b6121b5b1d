"""Hours: timesheets both sides confirm, rates, pay and invoice runs, a fair-pay check and figures."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("hours", __name__)
api_bp = ApiBlueprint("hours_api", __name__, url_prefix="/api/v1", description="Hours: timesheets, rates, runs")

from careteams.hours import views  # noqa: E402,F401
