"""`/healthz`: JSON for load balancers and uptime checks (no login)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from careteams.extensions import db

# A plain blueprint: one unauthenticated JSON endpoint, outside the /api/v1 API.
bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
