"""Cover and swaps: a booked worker asks for cover, workers swap shifts with the
leader's approval, and a leaver's shifts are re-offered."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus, ShiftSwap, SwapStatus
from careteams.rota.services.common import (
    OfferResult,
    booked_elsewhere,
    own_booked,
    shift_for_update,
    tell,
    unbook,
    visible_shift,
)
from careteams.rota.services.offers import (
    create_offers,
    eligible_workers,
    next_wave,
    offered_to,
    withdraw_clashing_offers,
)
from careteams.rota.services.settings import settings_for
from careteams.teams.models import Team, TeamMember
from careteams.teams.services.access import get_visible_team


def request_cover(person: Person, shift_id: int, now: datetime | None = None) -> OfferResult:
    """A booked worker asks for cover: the shift is re-offered; they stay booked until someone accepts."""
    return _request_cover(person, own_booked(person, shift_id=shift_id), now or utcnow())


def request_cover_by_code(person: Person, code: str, now: datetime | None = None, *,
                          cooperative_id: int | None = None) -> OfferResult:
    """Ask for cover by the shift's code (sent to `cooperative_id`'s number)."""
    return _request_cover(person, own_booked(person, code=code, cooperative_id=cooperative_id), now or utcnow())


def _request_cover(person: Person, shift: Shift | None, now: datetime) -> OfferResult:
    if shift is None:
        return OfferResult("unknown_code", "That does not match a shift you are booked on.")
    if shift.starts_at <= now:
        return OfferResult("not_booked", "That shift has already started.", shift)
    # One request, one wave: only the request whose conditional UPDATE marks the shift
    # sends offers. A second COVER at the same moment waits on the row (PostgreSQL) or
    # the write lock (SQLite), then finds cover already asked for and sends nothing.
    taken = db.session.execute(
        sa.update(Shift).where(Shift.id == shift.id, Shift.cover_requested_at.is_(None),
                               Shift.booked_person_id == person.id, Shift.status == ShiftStatus.booked)
        .values(cover_requested_at=now).execution_options(synchronize_session=False))
    shift = shift_for_update(shift.id)
    if taken.rowcount == 1:
        settings = settings_for(shift.team.cooperative_id)
        candidates = eligible_workers(shift, exclude=[person.id])
        batches = rules.waves(candidates, settings.offer_wave_size)
        wave = next_wave(shift.id)
        if batches:
            create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)
    elif shift.booked_person_id != person.id or shift.status != ShiftStatus.booked:
        # Covered, cancelled or changed while we waited: the truth, not "looking for cover".
        return OfferResult("unknown_code", "That does not match a shift you are booked on.", shift)
    return OfferResult("cover_requested", "We are looking for cover. You stay booked until someone accepts.", shift)


def arrange_cover(actor: Actor, shift_id: int, wave_size: int | None = None, now: datetime | None = None,
                  *, team_id: int | None = None) -> list[Offer]:
    """Those who offer the team's shifts send the next wave of cover offers for a visit whose
    worker asked for cover, without waiting for the clock: the team's eligible workers not
    asked yet (as the clock's next wave, `offers.expire_and_escalate`). The worker stays
    booked until someone accepts. `team_id`, when given, must be the visit's team (else 404)."""
    now = now or utcnow()
    shift, team, access = visible_shift(actor, shift_id)
    if team_id is not None and team.id != team_id:
        raise NotFound("No such visit.")
    ensure(perm.can_offer_shifts(access))
    shift = shift_for_update(shift.id)
    if shift.status != ShiftStatus.booked or shift.cover_requested_at is None or shift.starts_at <= now:
        raise Conflict("Nobody is asking for cover for this visit any more: it was covered, changed "
                       "or cancelled, or it has started.", code="no_cover_asked")
    settings = settings_for(team.cooperative_id)
    candidates = eligible_workers(shift, exclude=offered_to(shift.id))
    batches = rules.waves(candidates, settings.offer_wave_size if wave_size is None else wave_size)
    if not batches:
        return []
    return create_offers(shift, batches[0], next_wave(shift.id), settings.offer_ttl_minutes, now)


def propose_swap(person: Person, shift_id: int, other_shift_id: int, now: datetime | None = None) -> ShiftSwap:
    """A booked worker proposes swapping their shift with a team-mate's."""
    now = now or utcnow()
    mine, theirs = db.session.get(Shift, shift_id), db.session.get(Shift, other_shift_id)
    if mine is None or mine.booked_person_id != person.id or mine.status != ShiftStatus.booked:
        raise NotFound("No such shift of yours.")
    if (theirs is None or theirs.team_id != mine.team_id or theirs.status != ShiftStatus.booked
            or theirs.booked_person_id in (None, person.id)):
        raise ValidationError(details={"fields": {"other_shift_id": ["Choose a team-mate's booked shift in the same team."]}})
    if min(mine.starts_at, theirs.starts_at) <= now:
        raise Conflict("A shift that has started cannot be swapped.", code="shift_started")
    if db.session.scalar(sa.select(ShiftSwap.id).where(
            ShiftSwap.shift_id == mine.id, ShiftSwap.other_shift_id == theirs.id,
            ShiftSwap.status.in_((SwapStatus.proposed, SwapStatus.agreed))).limit(1)) is not None:
        # One open proposal per pair: a second would text the team-mate again.
        raise ValidationError(details={"fields": {"other_shift_id": ["You have already proposed this swap. Wait for the answer."]}})
    swap = ShiftSwap(shift_id=mine.id, other_shift_id=theirs.id, requested_by_id=person.id,
                     partner_id=theirs.booked_person_id, status=SwapStatus.proposed, created_at=now)
    db.session.add(swap)
    db.session.flush()
    partner = db.session.get(Person, theirs.booked_person_id)
    tell(partner, mine.team, "Swap proposed", "swap_proposed", None, first_name=person.first_name)
    return swap


def agree_swap(person: Person, swap_id: int, agree: bool, now: datetime | None = None) -> ShiftSwap:
    """The team-mate consents (or not) to a proposed swap."""
    now = now or utcnow()
    swap = db.session.get(ShiftSwap, swap_id)
    if swap is None or person.id not in (swap.partner_id, swap.requested_by_id):
        raise NotFound("No such swap.")
    if swap.status != SwapStatus.proposed:
        raise Conflict("That swap has already been answered.", code="swap_closed")
    if person.id == swap.requested_by_id:
        if agree:
            raise ValidationError("The other worker must agree.", code="not_yours_to_agree")
        swap.status = SwapStatus.withdrawn
    else:
        swap.status, swap.agreed_at = (SwapStatus.agreed, now) if agree else (SwapStatus.refused, None)
    db.session.flush()
    return swap


def decide_swap(actor: Actor, swap_id: int, approve: bool, now: datetime | None = None,
                *, team_id: int | None = None) -> ShiftSwap:
    """The leader or Rota wrangler approves an agreed swap; the bookings change places.
    `team_id`, when given, must be the swap's team (else 404)."""
    now = now or utcnow()
    swap = db.session.get(ShiftSwap, swap_id)
    if swap is None or (team_id is not None and swap.shift.team_id != team_id):
        raise NotFound("No such swap.")
    team, access = get_visible_team(actor, swap.shift.team_id)
    ensure(perm.can_approve_swap(access))
    if swap.status != SwapStatus.agreed:
        raise Conflict("Both workers must agree before a swap is approved.", code="swap_not_agreed")
    swap.decided_by_id, swap.decided_at = actor.person_id, now
    if not approve:
        swap.status = SwapStatus.refused
        db.session.flush()
        _tell_swap_decided(swap, team, None)
        return swap
    a, b = shift_for_update(swap.shift_id), shift_for_update(swap.other_shift_id)
    if (a.booked_person_id, b.booked_person_id) != (swap.requested_by_id, swap.partner_id) or \
            ShiftStatus.booked not in (a.status,) or b.status != ShiftStatus.booked:
        raise Conflict("The shifts changed since the swap was proposed.", code="swap_stale")
    pa, pb = a.booked_person_id, b.booked_person_id
    if booked_elsewhere(pb, a.starts_at, a.ends_at, exclude_id=b.id) or booked_elsewhere(pa, b.starts_at, b.ends_at, exclude_id=a.id):
        raise Conflict("One of you is booked elsewhere at the other time.", code="double_booked")
    # Through a free moment so the database never sees one worker in both places.
    a.booked_person_id = None
    a.status = ShiftStatus.open
    db.session.flush()
    b.booked_person_id = pa
    db.session.flush()
    a.booked_person_id, a.status = pb, ShiftStatus.booked
    offers = {(o.shift_id, o.person_id): o for o in db.session.scalars(sa.select(Offer).where(
        Offer.shift_id.in_((a.id, b.id)), Offer.status == OfferStatus.accepted, Offer.code_live))}
    for shift_obj, old in ((a, pa), (b, pb)):
        old_offer = offers.get((shift_obj.id, old))
        if old_offer:
            old_offer.status, old_offer.code_live = OfferStatus.withdrawn, False
    db.session.flush()
    for shift_obj, new in ((a, pb), (b, pa)):
        taken = set(db.session.scalars(sa.select(Offer.code).where(Offer.person_id == new, Offer.code_live)))
        db.session.add(Offer(shift_id=shift_obj.id, person_id=new, code=rules.new_code(taken), wave=0,
                             status=OfferStatus.accepted, sent_at=now, answered_at=now))
        db.session.flush()
    for shift_obj, new in ((a, pb), (b, pa)):
        withdraw_clashing_offers(shift_obj, new)  # her other offers at the new time
    swap.status = SwapStatus.approved
    db.session.flush()
    _tell_swap_decided(swap, team, {pa: b, pb: a})
    return swap


def _tell_swap_decided(swap: ShiftSwap, team: Team, now_booked: dict[int, Shift] | None) -> None:
    """Both workers hear the team's decision: approved, with the visit each now has; or not."""
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(
        Person.id.in_((swap.requested_by_id, swap.partner_id))))}
    for me, other in ((swap.requested_by_id, swap.partner_id), (swap.partner_id, swap.requested_by_id)):
        if now_booked is None:
            tell(people[me], team, "Swap not approved", "swap_refused", None, first_name=people[other].first_name,
                 dedupe_key=f"rota.swap:{swap.id}:{me}")
        else:
            tell(people[me], team, "Swap approved", "swap_approved", now_booked[me],
                 first_name=people[other].first_name, dedupe_key=f"rota.swap:{swap.id}:{me}")


def return_shifts_of_leaver(member: TeamMember, now: datetime | None = None) -> int:
    """A worker left a team: their future shifts there return to open and are re-offered."""
    now = now or utcnow()
    for offer in db.session.scalars(sa.select(Offer).join(Shift, Shift.id == Offer.shift_id).where(
            Offer.person_id == member.person_id, Offer.status == OfferStatus.open, Shift.team_id == member.team_id)):
        offer.status, offer.code_live = OfferStatus.withdrawn, False
    shifts = db.session.scalars(sa.select(Shift).where(
        Shift.team_id == member.team_id, Shift.booked_person_id == member.person_id,
        Shift.status == ShiftStatus.booked, Shift.starts_at > now)).all()
    for shift in shifts:
        unbook(shift, "You have left the team, so")
        settings = settings_for(shift.team.cooperative_id)
        candidates = eligible_workers(shift, exclude=[member.person_id])
        batches = rules.waves(candidates, settings.offer_wave_size)
        if batches:
            wave = next_wave(shift.id)
            create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)
    db.session.flush()
    return len(shifts)
