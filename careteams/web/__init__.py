"""The web shell: home page and health check."""

from flask import Blueprint

bp = Blueprint("web", __name__)

from careteams.web import views  # noqa: E402,F401
