"""The worker's own side of the rota: her visit page, the swaps she may propose and those
waiting for her answer. Read-only; the actions are cover.propose_swap / agree_swap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from careteams.db import utcnow
from careteams.errors import NotFound
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus, ShiftSwap, SwapStatus
from careteams.rota.services.common import ShiftView
from careteams.teams.services.access import team_access
from careteams.teams.services.teams import get_private_details

OPEN_SWAPS = (SwapStatus.proposed, SwapStatus.agreed)


@dataclass
class MyVisit:
    """One visit as the worker booked on it (or offered it) sees it."""

    visit: ShiftView
    booked: bool
    offer: Offer | None  # her live offer for it, when she is not booked
    address_allowed: bool  # the team's privacy rules let her see the address (once booked)
    around_visit: bool
    ended: bool
    address: str | None  # shown only when allowed and around the visit
    access_notes: str | None
    shown_from: datetime  # local time from which the address shows
    can_arrive: bool
    can_ask_cover: bool
    can_swap: bool


def _live_offer(person_id: int, shift: Shift, now: datetime) -> Offer | None:
    # Live as reading.my_offers lists it (a cover offer is for a shift still booked).
    if shift.starts_at <= now or shift.status == ShiftStatus.cancelled:
        return None
    return db.session.scalar(sa.select(Offer).where(
        Offer.shift_id == shift.id, Offer.person_id == person_id, Offer.status == OfferStatus.open,
        Offer.code_live, sa.or_(Offer.expires_at.is_(None), Offer.expires_at > now)).limit(1))


def my_visit(actor: Actor, shift_id: int, now: datetime | None = None) -> MyVisit:
    """Her visit page: 404 unless she is booked on it or holds a live offer for it. The
    address and access notes only when the team's rules allow her and around the visit."""
    now = now or utcnow()
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound("No such visit.")
    booked = shift.booked_person_id == actor.person_id and shift.status in (ShiftStatus.booked, ShiftStatus.completed)
    offer = None if booked else _live_offer(actor.person_id, shift, now)
    if not perm.can_see_own_visit(is_booked=booked, has_live_offer=offer is not None):
        raise NotFound("No such visit.")
    team = shift.team
    access = team_access(actor, team, now)
    around = rules.around_visit(shift.starts_at, shift.ends_at, now)
    address = access_notes = None
    if perm.can_see_visit_address(access, is_booked=booked, around_visit=around):
        details = get_private_details(actor, team.id)
        address, access_notes = details.address, details.access_notes
    view = ShiftView(shift, team.zone, code=offer.code if offer else None, team_name=team.display_name)
    live = booked and shift.status == ShiftStatus.booked
    return MyVisit(
        visit=view, booked=booked, offer=offer,
        address_allowed=perm.can_see_visit_address(access, is_booked=True, around_visit=True),
        around_visit=around, ended=shift.ends_at < now, address=address, access_notes=access_notes,
        shown_from=view.local_start - rules.AROUND_VISIT_BEFORE,
        can_arrive=live and shift.arrived_at is None and around,
        can_ask_cover=live and shift.cover_requested_at is None and shift.starts_at > now,
        can_swap=live and shift.starts_at > now,
    )


def arrival_open(shifts: list[ShiftView], now: datetime | None = None) -> set[int]:
    """The ids of these booked shifts whose arrival may be marked now and is not yet:
    the window mark_arrival accepts (rules.around_visit)."""
    now = now or utcnow()
    return {s.id for s in shifts if s.arrived_at is None and rules.around_visit(s.starts_at, s.ends_at, now)}


def swap_choices(actor: Actor, shift_id: int, now: datetime | None = None) -> tuple[ShiftView, list[ShiftView]]:
    """Her booked visit and the team-mates' booked visits she may propose to swap it with
    (the ones cover.propose_swap accepts: same team, booked by someone else, not started)
    that could be approved (nobody would be in two places). Someone who cannot see the team's rota (a trial worker, a worker from outside the
    team) is offered none."""
    now = now or utcnow()
    mine = db.session.get(Shift, shift_id)
    if mine is None or mine.booked_person_id != actor.person_id or mine.status != ShiftStatus.booked:
        raise NotFound("No such shift of yours.")
    team = mine.team
    view = ShiftView(mine, team.zone, team_name=team.display_name)
    if mine.starts_at <= now or not perm.can_view_rota(team_access(actor, team, now)):
        return view, []
    theirs = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.booked_person))
        .where(Shift.team_id == team.id, Shift.status == ShiftStatus.booked, Shift.booked_person_id.is_not(None),
               Shift.booked_person_id != actor.person_id, Shift.starts_at > now)
        .order_by(Shift.starts_at, Shift.id)).all()
    # Leave out the swaps the leader could never approve (decide_swap refuses them): a
    # visit at a time she is booked elsewhere, or whose worker is booked elsewhere at hers.
    busy = db.session.execute(sa.select(Shift.id, Shift.booked_person_id, Shift.starts_at, Shift.ends_at).where(
        Shift.status == ShiftStatus.booked, Shift.ends_at > now,
        Shift.booked_person_id.in_({actor.person_id} | {t.booked_person_id for t in theirs}))).all()

    def clash(person_id: int | None, start: datetime, end: datetime, *exclude: int) -> bool:
        return any(b.booked_person_id == person_id and b.id not in exclude
                   and rules.overlaps(b.starts_at, b.ends_at, start, end) for b in busy)

    fit = [t for t in theirs if not clash(actor.person_id, t.starts_at, t.ends_at, mine.id, t.id)
           and not clash(t.booked_person_id, mine.starts_at, mine.ends_at, t.id, mine.id)]
    return view, [ShiftView(s, team.zone, team_name=team.display_name) for s in fit]


@dataclass
class MySwap:
    """A swap in progress as one of its two workers sees it."""

    swap: ShiftSwap
    give: ShiftView  # the visit she would give up
    take: ShiftView  # the visit she would take
    other_name: str  # the other worker's first name
    to_answer: bool  # proposed to her, waiting for her yes or no

    @property
    def id(self) -> int:
        return self.swap.id


def my_swaps(person: Person, now: datetime | None = None) -> list[MySwap]:
    """Swaps she proposed or was asked about that are still open, soonest first."""
    now = now or utcnow()
    swaps = db.session.scalars(sa.select(ShiftSwap).where(
        ShiftSwap.status.in_(OPEN_SWAPS),
        sa.or_(ShiftSwap.partner_id == person.id, ShiftSwap.requested_by_id == person.id))
        .order_by(ShiftSwap.created_at, ShiftSwap.id)).all()
    others = {p.id: p for p in db.session.scalars(sa.select(Person).where(
        Person.id.in_({s.partner_id for s in swaps} | {s.requested_by_id for s in swaps})))}
    out = []
    for swap in swaps:
        if min(swap.shift.starts_at, swap.other_shift.starts_at) <= now:
            continue
        asked = swap.partner_id == person.id
        give, take = (swap.other_shift, swap.shift) if asked else (swap.shift, swap.other_shift)
        zone = give.team.zone
        other = others.get(swap.requested_by_id if asked else swap.partner_id)
        out.append(MySwap(swap, ShiftView(give, zone, team_name=give.team.display_name),
                          ShiftView(take, zone, team_name=take.team.display_name),
                          other.first_name if other else "a team-mate",
                          asked and swap.status == SwapStatus.proposed))
    out.sort(key=lambda s: min(s.give.starts_at, s.take.starts_at))
    return out
