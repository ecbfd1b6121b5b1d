"""Rotas: shifts, recurring visits, offers, bookings, cover, swaps and calendar feeds."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("rota", __name__)
api_bp = ApiBlueprint("rota_api", __name__, url_prefix="/api/v1", description="Rotas: shifts, offers and bookings")

from careteams.rota import signals, views  # noqa: E402,F401
