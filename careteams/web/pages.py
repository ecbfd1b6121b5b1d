"""The home page: what waits for this person across her co-ops and roles, then her teams.
Also registers the navigation (careteams/web/nav.py) and the grammar filters for every page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from careteams.auth.current import current_actor, current_person
from careteams.members.services import get_visible_cooperative
from careteams.web import grammar
from careteams.web.day import day_for
from careteams.web.home import team_links, todo_for
from careteams.web.nav import nav_context, nav_for, viewer_for

bp = Blueprint("web", __name__)
bp.app_context_processor(nav_context)
for _name in ("a_or_an", "with_article", "plural", "count_of"):
    bp.add_app_template_filter(getattr(grammar, _name), _name)


@bp.route("/")
@login_required
def home():
    viewer = viewer_for(current_person())
    # The same links as the navigation (one source, careteams/web/nav.py), laid out
    # on the home page by co-op.
    links = [item for item in nav_for(viewer) if item.endpoint != "web.home"]
    return render_template("home.html", viewer=viewer, todos=todo_for(viewer), teams=team_links(viewer),
                           own_links=[item for item in links if item.cooperative_id is None],
                           coop_links=links)


@bp.route("/coops/<slug>/day")
@login_required
def day(slug: str):
    """The facilitators' day across the co-op's teams (careteams/web/day.py)."""
    actor = current_actor()
    coop = get_visible_cooperative(actor, slug)
    return render_template("day.html", coop=coop, sections=day_for(actor, coop))
