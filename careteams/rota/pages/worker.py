"""Rota pages for the worker: my shifts, my offers, answering them, her visit page,
arrival, cover, swaps, and her private calendar feeds. Thin adapters: parse, call one
service, commit once, render."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import login_required

from careteams.auth.current import current_actor, current_person
from careteams.errors import Conflict
from careteams.extensions import db
from careteams.hours.rules import pounds
from careteams.hours.services import money
from careteams.rota import rules
from careteams.rota.forms import SwapForm
from careteams.rota.pages.blueprint import bp
from careteams.rota.services import attendance, cover, feeds, offers, reading, worker
from careteams.rota.services.common import OfferResult
from careteams.web.forms import refused

# ---------------------------------------------------------------- calendar


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    body = feeds.feed_calendar(token, host=request.host)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- pages


@bp.route("/my/shifts")
@login_required
def my_shifts_page():
    person = current_person()
    shifts = reading.my_shifts(person)
    return render_template("rota/my_shifts.html", shifts=shifts, arrival_open=worker.arrival_open(shifts),
                           swaps=worker.my_swaps(person), before_hours=_before_hours())


def _before_hours() -> int:
    return int(rules.AROUND_VISIT_BEFORE.total_seconds() // 3600)


@bp.route("/my/shifts/<int:shift_id>")
@login_required
def my_visit(shift_id: int):
    # It may carry the address and door codes: not for a shared browser's cache.
    actor = current_actor()
    page = worker.my_visit(actor, shift_id)
    return render_template("rota/my_visit.html", page=page, before_hours=_before_hours(),
                           pay=money.expected_pay_for_shift(actor, page.visit.shift), pay_money=pounds), 200, {
        "Cache-Control": "private, no-store"}


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


# ---------------------------------------------------------------- swaps


@bp.route("/my/shifts/<int:shift_id>/swap", methods=["GET", "POST"])
@login_required
def swap_page(shift_id: int):
    actor = current_actor()
    mine, choices = worker.swap_choices(actor, shift_id)
    form = SwapForm()
    form.other_shift_id.choices = [
        (str(s.id), f"{s.local_start:%A %-d %B, %H:%M}\u2013{s.local_end:%H:%M} ({s.booked_person.first_name})")
        for s in choices]
    if form.validate_on_submit():
        with refused(form) as outcome:
            cover.propose_swap(current_person(), shift_id, int(form.other_shift_id.data))
        if outcome.ok:
            db.session.commit()
            flash("Swap proposed. We have told your team-mate; once they agree, the leader or "
                  "Rota wrangler decides.")
            return redirect(url_for("rota.my_shifts_page"), code=303)
    return render_template("rota/swap.html", form=form, mine=mine, choices=choices), form.status


@bp.route("/my/swaps/<int:swap_id>/answer", methods=["POST"])
@login_required
def answer_swap_page(swap_id: int):
    agree = request.form.get("agree") == "yes"
    try:
        swap = cover.agree_swap(current_person(), swap_id, agree)
    except Conflict as exc:
        flash(exc.message)
        return redirect(url_for("rota.my_shifts_page"), code=303)
    db.session.commit()
    flash({"agreed": "You agreed to the swap. The leader or Rota wrangler decides next.",
           "refused": "You said no to the swap.",
           "withdrawn": "You withdrew your swap proposal."}.get(swap.status.value, "Done."))
    return redirect(url_for("rota.my_shifts_page"), code=303)


# ---------------------------------------------------------------- calendar feeds


@bp.route("/my/calendar", methods=["GET", "POST"])
@login_required
def my_calendar():
    token = None
    if request.method == "POST":
        _, token = feeds.create_feed(current_actor())
        db.session.commit()
    link = url_for("rota.calendar_feed", token=token, _external=True) if token else None
    # The link is shown on this response only (never stored or flashed): no redirect.
    response = render_template("rota/my_calendar.html", feeds=feeds.my_feeds(current_person()), new_link=link)
    return response, 200, {"Cache-Control": "private, no-store"}


@bp.route("/my/calendar/<int:feed_id>/revoke", methods=["POST"])
@login_required
def revoke_calendar(feed_id: int):
    feeds.revoke_feed(current_person(), feed_id)
    db.session.commit()
    flash("That calendar link no longer works.")
    return redirect(url_for("rota.my_calendar"), code=303)
