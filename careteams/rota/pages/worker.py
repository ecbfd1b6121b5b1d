"""Rota pages for the worker: my shifts, my offers, answering them, arrival, cover, and
the private calendar feed. Thin adapters: parse, call one service, commit once, render."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import login_required

from careteams.auth.current import current_person
from careteams.extensions import db
from careteams.rota.pages.blueprint import bp
from careteams.rota.services import attendance, cover, feeds, offers, reading
from careteams.rota.services.common import OfferResult

# ---------------------------------------------------------------- calendar


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    body = feeds.feed_calendar(token, host=request.host)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- pages


@bp.route("/my/shifts")
@login_required
def my_shifts_page():
    return render_template("rota/my_shifts.html", shifts=reading.my_shifts(current_person()))


@bp.route("/my/offers")
@login_required
def my_offers_page():
    return render_template("rota/my_offers.html", offers=reading.my_offers(current_person()))


def _page_answer(result: OfferResult, target: str):
    db.session.commit()
    flash(result.message)
    return redirect(url_for(target), code=303)


@bp.route("/my/offers/<int:offer_id>/accept", methods=["POST"])
@login_required
def accept_offer_page(offer_id: int):
    return _page_answer(offers.accept_offer(current_person(), offer_id), "rota.my_offers_page")


@bp.route("/my/offers/<int:offer_id>/decline", methods=["POST"])
@login_required
def decline_offer_page(offer_id: int):
    return _page_answer(offers.decline_offer(current_person(), offer_id), "rota.my_offers_page")


@bp.route("/my/shifts/<int:shift_id>/arrival", methods=["POST"])
@login_required
def arrival_page(shift_id: int):
    return _page_answer(attendance.mark_arrival(current_person(), shift_id), "rota.my_shifts_page")


@bp.route("/my/shifts/<int:shift_id>/cover", methods=["POST"])
@login_required
def cover_page(shift_id: int):
    return _page_answer(cover.request_cover(current_person(), shift_id), "rota.my_shifts_page")
