"""The team's cover requests and the swaps waiting for its decision, as those who run the
rota read them: which visit, who asked and since when, how many cover offers went out
and how they stand; which two workers agreed to swap which visits. Read-only; the
actions are cover.arrange_cover and cover.decide_swap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from careteams.db import utcnow
from careteams.errors import ensure
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus, ShiftSwap, SwapStatus
from careteams.rota.services.common import ShiftView, team_with_access
from careteams.rota.services.offers import eligible_workers, offered_to
from careteams.rota.services.settings import settings_for
from careteams.teams.models import Team


@dataclass
class CoverRequest:
    """A booked visit whose worker asked for cover; the counts are of cover offers only."""

    view: ShiftView
    asked_by: str
    asked_at: datetime
    offered: int = 0  # cover offers sent, every wave
    waiting: int = 0  # still open, not answered
    said_no: int = 0
    no_answer: int = 0  # closed before an answer
    not_asked_yet: int = 0  # the team's eligible workers no offer went to yet

    @property
    def id(self) -> int:
        return self.view.id


@dataclass
class SwapToDecide:
    """Two workers agreed to swap visits; the team decides."""

    swap: ShiftSwap
    first: ShiftView  # the proposer's visit, which the partner would take
    second: ShiftView  # the partner's visit, which the proposer would take
    proposer: str
    partner: str

    @property
    def id(self) -> int:
        return self.swap.id


@dataclass
class CoverAndSwaps:
    team: Team
    cover: list[CoverRequest]
    swaps: list[SwapToDecide]
    can_arrange_cover: bool
    can_decide_swaps: bool
    wave_size: int  # the co-op's wave size (0: everyone at once)


# What the page is asked for: to read it, or (a form posted on it) to arrange cover or
# decide a swap, so a refused form is shown again only to someone who may send it.
PURPOSES = {"read": perm.can_see_cover_and_swaps, "arrange": perm.can_offer_shifts, "decide": perm.can_approve_swap}


def cover_and_swaps(actor: Actor, team_id: int, now: datetime | None = None, *, to: str = "read") -> CoverAndSwaps:
    """The team's open cover requests and agreed swaps, soonest first (404 for those who
    cannot see the team, 403 for those who may not do `to`: read, arrange or decide)."""
    now = now or utcnow()
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_see_cover_and_swaps(access) and PURPOSES[to](access))
    settings = settings_for(team.cooperative_id)
    return CoverAndSwaps(team, _cover_requests(team, now), _swaps(team, now),
                         perm.can_offer_shifts(access), perm.can_approve_swap(access), settings.offer_wave_size)


def may_see(actor: Actor, team_id: int) -> bool:
    """Whether to link to the team's cover and swaps page (for the rota's own pages)."""
    _, access = team_with_access(actor, team_id)
    return perm.can_see_cover_and_swaps(access)


def _cover_requests(team: Team, now: datetime) -> list[CoverRequest]:
    shifts = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.booked_person))
        .where(Shift.team_id == team.id, Shift.status == ShiftStatus.booked, Shift.starts_at > now,
               Shift.cover_requested_at.is_not(None))
        .order_by(Shift.starts_at, Shift.id)).all()
    if not shifts:
        return []
    counts: dict[int, dict[str, int]] = {s.id: {} for s in shifts}
    for shift_id, status, expires_at in db.session.execute(
            sa.select(Offer.shift_id, Offer.status, Offer.expires_at).where(
                Offer.shift_id.in_(counts), Offer.is_cover)):
        if status == OfferStatus.open:
            key = "no_answer" if expires_at is not None and expires_at <= now else "waiting"
        else:
            key = {OfferStatus.declined: "said_no", OfferStatus.expired: "no_answer"}.get(status, "closed")
        counts[shift_id][key] = counts[shift_id].get(key, 0) + 1
    out = []
    for shift in shifts:
        c = counts[shift.id]
        out.append(CoverRequest(
            ShiftView(shift, team.zone, team_name=team.display_name),
            shift.booked_person.name if shift.booked_person else "The booked worker",
            shift.cover_requested_at, offered=sum(c.values()), waiting=c.get("waiting", 0),
            said_no=c.get("said_no", 0), no_answer=c.get("no_answer", 0),
            not_asked_yet=len(eligible_workers(shift, exclude=offered_to(shift.id)))))
    return out


def _swaps(team: Team, now: datetime) -> list[SwapToDecide]:
    swaps = db.session.scalars(
        sa.select(ShiftSwap).join(Shift, Shift.id == ShiftSwap.shift_id)
        .where(Shift.team_id == team.id, ShiftSwap.status == SwapStatus.agreed)
        .order_by(ShiftSwap.agreed_at, ShiftSwap.id)).unique().all()
    swaps = [s for s in swaps if min(s.shift.starts_at, s.other_shift.starts_at) > now]
    names = {p.id: p.name for p in db.session.scalars(sa.select(Person).where(
        Person.id.in_({s.requested_by_id for s in swaps} | {s.partner_id for s in swaps})))} if swaps else {}
    return [SwapToDecide(s, ShiftView(s.shift, team.zone, team_name=team.display_name),
                         ShiftView(s.other_shift, team.zone, team_name=team.display_name),
                         names.get(s.requested_by_id, "A worker"), names.get(s.partner_id, "a team-mate"))
            for s in swaps]
