"""Cover and swaps for the team: the cover requests (arrange cover: the next wave of cover
offers) and the swaps both workers agreed to (approve or refuse), for those who offer the
team's shifts or decide its swaps. Thin adapters: parse, call one service, commit once,
render; a refused form is shown again with what was typed, on the page it came from."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from careteams.auth.current import current_actor
from careteams.extensions import db
from careteams.rota.forms import ArrangeCoverForm, DecideSwapForm
from careteams.rota.pages.blueprint import bp
from careteams.rota.services import cover
from careteams.rota.services.cover_and_swaps import cover_and_swaps as board_of
from careteams.rota.services.cover_and_swaps import may_see
from careteams.web.forms import PageForm, refused


@bp.app_template_global("may_see_cover_and_swaps")
def may_see_cover_and_swaps(team_id: int) -> bool:
    """For the week and visit pages: link here only for those who may use this page."""
    return may_see(current_actor(), team_id)


def _page(board, cover_forms: dict[int, PageForm] | None = None, swap_forms: dict[int, PageForm] | None = None,
          status: int = 200, posted: PageForm | None = None):
    # One form per item, ids unique on the page; only the posted one carries what was typed.
    cover_forms = cover_forms or {}
    swap_forms = swap_forms or {}
    for item in board.cover:
        cover_forms.setdefault(item.id, ArrangeCoverForm(formdata=None))
    for item in board.swaps:
        swap_forms.setdefault(item.id, DecideSwapForm(formdata=None))
    for key, form in cover_forms.items():
        form.suffix_ids(f"cover-{key}")
    for key, form in swap_forms.items():
        form.suffix_ids(f"swap-{key}")
    return render_template("rota/cover_and_swaps.html", board=board, cover_forms=cover_forms,
                           swap_forms=swap_forms, posted=posted), status


@bp.route("/teams/<int:team_id>/rota/cover-and-swaps")
@login_required
def cover_and_swaps(team_id: int):
    return _page(board_of(current_actor(), team_id))


@bp.route("/teams/<int:team_id>/rota/cover-and-swaps/cover/<int:shift_id>", methods=["POST"])
@login_required
def arrange_cover(team_id: int, shift_id: int):
    actor = current_actor()
    board_of(actor, team_id, to="arrange")  # 404 / 403 before the form says anything
    form = ArrangeCoverForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            sent = cover.arrange_cover(actor, shift_id, form.wave_size.data, team_id=team_id)
        if outcome.ok:
            db.session.commit()
            flash(f"Cover offers sent to {len(sent)} worker{'s' if len(sent) != 1 else ''}. "
                  "The worker stays booked until someone accepts." if sent else
                  "Nobody else in the team can take this visit now, so no offer was sent. "
                  "The circle is told if nobody is found.")
            return redirect(url_for("rota.cover_and_swaps", team_id=team_id), code=303)
    return _page(board_of(actor, team_id), cover_forms={shift_id: form}, status=form.status,
                 posted=form)


@bp.route("/teams/<int:team_id>/rota/cover-and-swaps/swaps/<int:swap_id>", methods=["POST"])
@login_required
def decide_swap(team_id: int, swap_id: int):
    actor = current_actor()
    board_of(actor, team_id, to="decide")
    form = DecideSwapForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        with refused(form) as outcome:
            cover.decide_swap(actor, swap_id, approve, team_id=team_id)
        if outcome.ok:
            db.session.commit()
            flash("Swap approved: the two workers have changed places on the rota." if approve else
                  "Swap refused: both workers stay booked as they were.")
            return redirect(url_for("rota.cover_and_swaps", team_id=team_id), code=303)
    return _page(board_of(actor, team_id), swap_forms={swap_id: form}, status=form.status,
                 posted=form)
