"""One visit of the team's rota: what it is, who is booked, the checks, and where its offers
stand. Thin adapter: call one service, render. The action forms (edit, cancel, offer, book,
outside) go in rota/_visit_actions.html."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from careteams.auth.current import current_actor
from careteams.rota.pages.blueprint import bp
from careteams.rota.services import visits


@bp.route("/teams/<int:team_id>/rota/visits/<int:shift_id>")
@login_required
def team_visit(team_id: int, shift_id: int):
    return render_template("rota/visit.html", visit=visits.team_visit(current_actor(), team_id, shift_id))
