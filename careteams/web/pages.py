"""The home page: each of your co-ops, your teams and what you can do there."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import login_required

from careteams.auth.current import current_actor, current_person
from careteams.members import services as members
from careteams.teams.services.access import visible_teams
from careteams.web.home import actions_for, rota_links

bp = Blueprint("web", __name__)


@bp.route("/")
@login_required
def home():
    person = current_person()
    entries = members.home_summary(person)
    teams_by_coop: dict[int, list] = {}
    for team, access in visible_teams(current_actor()):
        teams_by_coop.setdefault(team.cooperative_id, []).append((team, access))
    for entry in entries:
        mine = teams_by_coop.get(entry["cooperative"].id, [])
        team_links = [{"label": "My team" if access.is_leader else f"{team.display_name}'s team",
                       "url": url_for("teams.team_page", team_id=team.id)} for team, access in mine]
        runs_a_team = any(access.is_leader or access.in_circle for _, access in mine)
        works_in_a_team = any(access.is_active_member or access.is_trial_member for _, access in mine)
        entry["actions"] = team_links + rota_links(mine) + actions_for(entry, runs_a_team, works_in_a_team)
    return render_template("home.html", entries=entries)
