"""Matching by mutual consent: worker profiles, vacancies, suggestions both ways,
facilitator review, introductions and trials."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("matching", __name__)
api_bp = ApiBlueprint("matching_api", __name__, url_prefix="/api/v1",
                      description="Worker profiles, vacancies, suggestions and matches by mutual consent")

from careteams.matching import pages, views  # noqa: E402,F401
