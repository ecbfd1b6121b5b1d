"""The team's rota: the week (default) or the next four weeks as a list (?view=list), each
with what needs attention first. Thin adapter: parse, call one service, render."""

from __future__ import annotations

from datetime import date

from flask import render_template, request
from flask_login import login_required

from careteams.auth.current import current_actor
from careteams.errors import ValidationError
from careteams.rota import permissions as perm
from careteams.rota.pages.blueprint import bp
from careteams.rota.services import reading


def _week_arg() -> date | None:
    raw = request.args.get("week")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(details={"fields": {"week": ["Use a date like 2026-11-23."]}}) from None


@bp.app_template_global("can_view_rota")
def can_view_rota(access) -> bool:
    """For other domains' pages (the team page): link to the rota by the rota's own rule."""
    return perm.can_view_rota(access)


@bp.route("/teams/<int:team_id>/rota")
@login_required
def rota_page(team_id: int):
    if request.args.get("view") == "list":
        return render_template("rota/agenda.html", agenda=reading.agenda(current_actor(), team_id))
    week = reading.week_rota(current_actor(), team_id, _week_arg(), with_attention=True)
    return render_template("rota/week.html", week=week)
