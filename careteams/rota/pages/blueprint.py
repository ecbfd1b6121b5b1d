"""The rota pages' one blueprint. Each page module registers its routes on it;
`careteams.rota.pages` imports them all, so the app finds `bp` there."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rota", __name__)
