"""The rota's text commands: Y/YES/ACCEPT, N/NO, OFFERS, SHIFTS, COVER and HERE.

Loaded by the SMS domain's registry (careteams/sms/commands.py). Each handler acts
only through the rota's services, which look codes up among the texter's own
offers and bookings: somebody else's code, or one that never existed, gets the
same "doesn't match anything you can do" as any other miss, so nothing can be
learnt by probing. Every reply is definitive: the worker always knows whether they
are booked, and it is read from what is committed (who holds the shift now), not
from which of two requests won. Commands act only on the shifts of the co-op whose
number was texted (`ctx.cooperative`); `shift_code_owners` lets the SMS domain turn
away another co-op's code before any handler (HERE and DONE included) runs.
"""

from __future__ import annotations

from careteams.members.models import Person
from careteams.rota.services.attendance import mark_arrival_by_code
from careteams.rota.services.common import OfferResult, code_cooperatives, when_text
from careteams.rota.services.cover import request_cover_by_code
from careteams.rota.services.offers import (
    accept_offer_by_code,
    decline_offer_by_code,
    settled_accept_by_code,
)
from careteams.rota.services.reading import my_offers, next_shifts
from careteams.sms.commands import SmsContext, sms_code_owner, sms_command
from careteams.sms.rules import TEMPLATES, Command, offer_list, render, shift_list, team_label


def _shift_values(result: OfferResult) -> dict[str, str]:
    team = result.shift.team
    return {"when": when_text(result.shift, team.zone), "team": team_label(team.display_name)}


def _common(result: OfferResult) -> str | None:
    """Replies shared by every command's misses."""
    if result.outcome == "unknown_code":
        return render("not_found")
    if result.outcome == "already_filled":
        return render("filled")
    if result.outcome == "expired" and result.reason == "cancelled":
        return render("visit_cancelled")
    if result.outcome == "expired" and result.reason == "declined":
        return render("said_no")
    if result.reason == "clash":
        return render("withdrawn_clash")
    if result.outcome == "expired":
        return render("expired")
    if result.outcome == "double_booked":
        return render("double_booked")
    if result.outcome in ("not_eligible", "blocked"):
        return render("cannot_take")
    return None


def _answer_accept(result: OfferResult, code: str) -> str:
    if result.outcome == "booked":
        return render("booked", code=code, **_shift_values(result))
    if result.outcome == "already_yours":
        return render("already_yours", code=code, **_shift_values(result))
    return _common(result) or render("not_found")


@sms_code_owner
def shift_code_owners(person: Person, code: str) -> set[int]:
    """The co-ops whose shifts this person's code belongs to: the SMS domain answers a code
    sent to another co-op's number with "doesn't match" (HERE and DONE included)."""
    return code_cooperatives(person, code)


def _open_offers(ctx: SmsContext) -> list[tuple[str, str, str]]:
    """The texter's live offers in the texted co-op, soonest first: (code, when, team)."""
    return [(offer.code, when_text(view.shift, view.zone), view.team_name)
            for offer, view in my_offers(ctx.person, now=ctx.now, cooperative_id=ctx.cooperative.id)]


def _accept_settled(ctx: SmsContext, command: Command) -> str | None:
    """Y 482 for a shift whose answer no booking could change (someone else holds it, it is
    already hers, cancelled, or she said no): answered from what is committed, before the
    handler's savepoint and without the shift's lock. None: the handler books (or not)."""
    if command.code is None:
        return None
    result = settled_accept_by_code(ctx.person, command.code, now=ctx.now, cooperative_id=ctx.cooperative.id)
    return None if result is None else _answer_accept(result, command.code)


@sms_command("accept", settled=_accept_settled)
def accept(ctx: SmsContext, command: Command) -> str:
    """Y 482 (YES 482, ACCEPT 482); a bare Y books the one open offer, or books nothing
    and lists several (code, day, time and team, as many as fit one text)."""
    code = command.code
    if code is None:
        offers = _open_offers(ctx)
        if not offers:
            return render("no_offers")
        if len(offers) > 1:
            return offer_list(TEMPLATES["choose_offer"], offers)
        code = offers[0][0]
    return _answer_accept(accept_offer_by_code(ctx.person, code, now=ctx.now, cooperative_id=ctx.cooperative.id), code)


@sms_command("decline")
def decline(ctx: SmsContext, command: Command) -> str:
    """N 482 (NO 482, DECLINE 482): say no to an offer (no reason needed); a bare N or NO
    says no to the one open offer, or to nothing when there are several (it lists them)."""
    code = command.code
    if code is None:
        offers = _open_offers(ctx)
        if not offers:
            return render("no_offers_to_decline")
        if len(offers) > 1:
            return offer_list(TEMPLATES["choose_decline"], offers)
        code = offers[0][0]
    result = decline_offer_by_code(ctx.person, code, now=ctx.now, cooperative_id=ctx.cooperative.id)
    if result.outcome == "declined":
        return render("declined", first_name=ctx.person.first_name, **_shift_values(result))
    if result.outcome == "already_yours":
        # Saying no to a shift you hold is asking for cover, which needs its own word.
        return render("already_yours", code=code, **_shift_values(result))
    return _common(result) or render("not_found")


@sms_command("offers")
def offers_(ctx: SmsContext, command: Command) -> str:
    """OFFERS: the open offers, soonest first, as many as fit one text."""
    offers = _open_offers(ctx)
    if not offers:
        return render("offers_none")
    return offer_list(TEMPLATES["offers_list"], offers)


@sms_command("shifts")
def shifts(ctx: SmsContext, command: Command) -> str:
    """SHIFTS: the next five booked shifts, in each team's time zone."""
    booked = next_shifts(ctx.person, 5, now=ctx.now, cooperative_id=ctx.cooperative.id)
    if not booked:
        return render("no_shifts")
    return shift_list([(when_text(view.shift, view.zone), view.team_name, view.code) for view in booked])


@sms_command("cover")
def cover(ctx: SmsContext, command: Command) -> str:
    """COVER 482: ask for cover; the worker stays booked until someone accepts."""
    result = request_cover_by_code(ctx.person, command.code or "", now=ctx.now, cooperative_id=ctx.cooperative.id)
    if result.outcome == "cover_requested":
        return render("cover_requested", **_shift_values(result))
    if result.outcome == "not_booked":
        return render("cover_too_late")
    return render("not_found")


@sms_command("here")
def here(ctx: SmsContext, command: Command) -> str:
    """HERE 482: the worker has arrived (stops the missed-visit alert)."""
    result = mark_arrival_by_code(ctx.person, command.code or "", now=ctx.now)
    if result.outcome == "arrived":
        return render("arrived", first_name=ctx.person.first_name, **_shift_values(result))
    if result.outcome == "not_booked":
        return render("arrival_not_now", code=command.code or "")
    return render("not_found")
