"""Offers: offering a shift (in waves, to the team or, with its consent, to the co-op's
other workers), answering by the website or a text's code (exactly one acceptance wins),
booking directly, and the clock's expiry and escalation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from careteams.db import utcnow
from careteams.errors import Conflict, ValidationError, ensure
from careteams.extensions import db
from careteams.jobs_util import run_each, run_in_batches
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services import eligibility
from careteams.rota.services.checks import findings_for
from careteams.rota.services.common import (
    BOOKABLE,
    OfferResult,
    ShiftView,
    booked_elsewhere,
    circle_of,
    facilitators_of,
    in_cooperative,
    shift_for_update,
    tell,
    visible_shift,
    when_text,
)
from careteams.rota.services.settings import settings_for
from careteams.teams.models import Team, TeamMember, TeamMemberStatus, TeamRole
from careteams.teams.services import audit
from careteams.teams.services.access import team_access


def team_worker_ids(team_id: int) -> list[int]:
    """The team's active paid workers (offers go to them; trial workers are booked directly)."""
    return list(db.session.scalars(sa.select(TeamMember.person_id).where(
        TeamMember.team_id == team_id, TeamMember.status == TeamMemberStatus.active,
        TeamMember.role == TeamRole.paid_worker)))


def _busy(person_ids: Sequence[int], starts_at: datetime, ends_at: datetime) -> set[int]:
    if not person_ids:
        return set()
    return set(db.session.scalars(sa.select(Shift.booked_person_id).where(
        Shift.booked_person_id.in_(person_ids), Shift.status == ShiftStatus.booked,
        Shift.starts_at < ends_at, Shift.ends_at > starts_at)))


def eligible_workers(shift: Shift, exclude: Iterable[int] = ()) -> list[int]:
    """The team's active workers who are free then and whose profile allows the shift."""
    skip = set(exclude)
    if shift.booked_person_id:
        skip.add(shift.booked_person_id)
    candidates = [p for p in team_worker_ids(shift.team_id) if p not in skip]
    busy = _busy(candidates, shift.starts_at, shift.ends_at)
    candidates = [p for p in candidates if p not in busy]
    reasons = eligibility.worker_eligibility(candidates, shift.required_skills or [], shift.starts_at)
    return sorted(p for p in candidates if not reasons.get(p))


def create_offers(shift: Shift, person_ids: Sequence[int], wave: int, ttl_minutes: int, now: datetime,
                  *, outside: bool = False) -> list[Offer]:
    if not person_ids:
        return []
    live: dict[int, set[str]] = defaultdict(set)
    for pid, code in db.session.execute(sa.select(Offer.person_id, Offer.code).where(
            Offer.person_id.in_(person_ids), Offer.code_live)):
        live[pid].add(code)
    offers = []
    for pid in person_ids:
        offer = Offer(shift_id=shift.id, person_id=pid, code=rules.new_code(live[pid]), wave=wave,
                      is_cover=shift.status == ShiftStatus.booked, outside_team=outside, status=OfferStatus.open,
                      sent_at=now, expires_at=min(now + timedelta(minutes=ttl_minutes), shift.starts_at))
        db.session.add(offer)
        offers.append(offer)
    if shift.status == ShiftStatus.open:
        shift.status = ShiftStatus.offered
    db.session.flush()
    team = shift.team
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(person_ids)))}
    for offer in offers:
        # Asks for "Y 482", never a lone YES (Twilio's own opt-in word). One text per
        # offer, whatever re-runs: the offer's id is its key.
        tell(people[offer.person_id], team, "Cover needed" if offer.is_cover else "Shift offer",
             "cover_offer" if offer.is_cover else "offer", shift, code=offer.code,
             dedupe_key=f"rota.offer:{offer.id}")
    return offers


def offered_to(shift_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(Offer.person_id).where(Offer.shift_id == shift_id)))


def next_wave(shift_id: int) -> int:
    """The number of the shift's next wave of offers."""
    return (db.session.scalar(sa.select(sa.func.max(Offer.wave)).where(Offer.shift_id == shift_id)) or 0) + 1


def offer_shift(actor: Actor, shift_id: int, wave_size: int | None = None, now: datetime | None = None) -> list[Offer]:
    """Offer an open shift to the team's eligible active workers: all at once or the first wave."""
    now = now or utcnow()
    shift, team, access = visible_shift(actor, shift_id)
    ensure(perm.can_offer_shifts(access))
    shift = shift_for_update(shift.id)
    if shift.status not in BOOKABLE or shift.starts_at <= now:
        raise Conflict("Only an open shift in the future can be offered.", code="not_offerable")
    settings = settings_for(team.cooperative_id)
    candidates = eligible_workers(shift, exclude=offered_to(shift.id))
    batches = rules.waves(candidates, settings.offer_wave_size if wave_size is None else wave_size)
    if not batches:
        # Nobody in the team can take it: the clock escalates it to the circle next.
        shift.status = ShiftStatus.offered
        db.session.flush()
        return []
    wave = next_wave(shift.id)
    return create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)


def consent_outside_offer(actor: Actor, shift_id: int) -> ShiftView:
    """The leader's or Rota wrangler's consent to offer this one shift outside the team."""
    shift, team, access = visible_shift(actor, shift_id)
    ensure(perm.can_consent_outside_offer(access))
    shift.outside_consent_by_id = actor.person_id
    db.session.flush()
    return ShiftView(shift, team.zone, team_name=team.display_name)


# An outside wave when the co-op offers to its team "all at once" (offer_wave_size 0):
# a team's offer never goes to every worker in the co-op at once.
OUTSIDE_WAVE_WHEN_ALL_AT_ONCE = 10


def outside_candidates(shift: Shift, team: Team) -> list[int]:
    """Workers of the team's co-op (not of the team) who may be offered this shift, nearest
    first where both places are known (then by id): an active worker membership and an
    available profile in this co-op, checks valid and skills held on the day, free then,
    not offered this shift already."""
    homes = eligibility.coop_worker_places(team.cooperative_id)
    in_team = set(db.session.scalars(sa.select(TeamMember.person_id).where(
        TeamMember.team_id == team.id, TeamMember.status.in_(
            (TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active)))))
    skip = in_team | offered_to(shift.id) | {team.leader_id}
    if shift.booked_person_id:
        skip.add(shift.booked_person_id)
    ids = [p for p in homes if p not in skip]
    busy = _busy(ids, shift.starts_at, shift.ends_at)
    ids = [p for p in ids if p not in busy]
    reasons = eligibility.worker_eligibility(ids, shift.required_skills or [], shift.starts_at, team.cooperative_id)
    ids = [p for p in ids if not reasons.get(p)]

    def distance(pid: int) -> tuple[float, int]:
        lat, lon = homes[pid]
        if team.latitude is None or team.longitude is None or lat is None or lon is None:
            return (float("inf"), pid)
        return (rules.haversine_km(team.latitude, team.longitude, lat, lon), pid)

    return sorted(ids, key=distance)


@dataclass(frozen=True)
class OutsideWave:
    offered: int  # how many workers of the co-op were offered it (never who)
    by_facilitator: bool  # on a visit the clock escalated to facilitators, not the team's consent


def offer_outside(actor: Actor, shift_id: int, now: datetime | None = None) -> int:
    """Offer a shift outside the team: the next wave of eligible workers of the same co-op,
    chosen by the rota's rules (never by the caller). Answers only how many were offered:
    nothing about who, or who was left out and why. See send_outside_wave."""
    return send_outside_wave(actor, shift_id, now).offered


def send_outside_wave(actor: Actor, shift_id: int, now: datetime | None = None) -> OutsideWave:
    """The next outside wave, on one of two authorities:
    - the team's: whoever offers its shifts, once the leader or Rota wrangler consented for
      this shift (consent_outside_offer);
    - the co-op's facilitators (perm.can_act_on_escalated) on a visit the clock passed to
      them (rules.escalated_to_facilitators): the escalation stands in for the team's consent
      for this visit alone, recorded in the team's audit and told to the leader. While their
      last wave waits for answers a second one is refused (409): a double click sends nothing.
    A worker who says yes is booked by the offer's own accept path (exactly one wins)."""
    now = now or utcnow()
    shift, team, access = visible_shift(actor, shift_id)
    by_team = perm.can_offer_shifts(access) and shift.outside_consent_by_id is not None
    if not by_team and not perm.can_act_on_escalated(access):
        ensure(perm.can_offer_shifts(access))
        raise Conflict("The leader or Rota wrangler must agree to offering this shift outside the team.",
                       code="outside_consent_needed")
    shift = shift_for_update(shift.id)
    if shift.status not in BOOKABLE or shift.starts_at <= now:
        raise Conflict("Only an open shift in the future can be offered.", code="not_offerable")
    if not by_team:
        if not rules.escalated_to_facilitators(shift.escalation_level):
            raise Conflict("This visit has not been passed to the co-op's facilitators: the team is still "
                           "offering it. Facilitators can offer it to the co-op's workers once the rota "
                           "passes it to them.", code="not_escalated")
        waiting = outside_waiting(shift, now)
        if waiting:
            raise Conflict(f"This visit is already offered to {waiting} worker{'s' if waiting != 1 else ''} of "
                           "the co-op. You can offer it to more when those offers close.",
                           code="outside_offers_open")
    settings = settings_for(team.cooperative_id)
    batches = rules.waves(outside_candidates(shift, team),
                          settings.offer_wave_size or OUTSIDE_WAVE_WHEN_ALL_AT_ONCE)
    if not batches:
        return OutsideWave(0, not by_team)
    wave = next_wave(shift.id)
    sent = create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now, outside=True)
    if not by_team:
        audit.record(team, access, "rota.escalated_outside_offer", f"shift:{shift.id}",
                     after={"offered": len(sent), "wave": wave}, behalf="facilitator", now=now)
        leader = db.session.get(Person, team.leader_id)
        if leader is not None and leader.active:
            tell(leader, team, "Visit offered to the co-op's workers", "escalated_offered", shift,
                 dedupe_key=f"rota.escalated_offer:{shift.id}:{wave}")
    return OutsideWave(len(sent), not by_team)


def outside_waiting(shift: Shift, now: datetime) -> int:
    """Outside offers of the visit still open for an answer."""
    return db.session.scalar(sa.select(sa.func.count(Offer.id)).where(
        Offer.shift_id == shift.id, Offer.outside_team, Offer.status == OfferStatus.open,
        sa.or_(Offer.expires_at.is_(None), Offer.expires_at > now))) or 0


def _outside_still_eligible(person: Person, shift: Shift) -> bool:
    """At acceptance: still an available worker of the team's co-op, checks and skills valid."""
    coop_id = shift.team.cooperative_id
    if person.id not in eligibility.coop_worker_places(coop_id, [person.id]):
        return False
    reasons = eligibility.worker_eligibility([person.id], shift.required_skills or [], shift.starts_at, coop_id)
    return not reasons.get(person.id)


def _offer_by_code(person: Person, code: str, now: datetime, cooperative_id: int | None = None) -> Offer | None:
    """The live offer with this code, else the latest recent one that had it: a late
    "Y 482" must hear "already filled" or "expired", never a puzzling "unknown code".
    With `cooperative_id`, only that co-op's shifts (a text acts on the co-op it was sent to).

    One statement (the live one first, then the latest), which reads the offer and its
    shift (`Offer.shift` is joined) as committed now, whatever this session held before:
    `_accept` answers a lost race from it without taking the shift's lock."""
    params = {"person_id": person.id, "code": code.strip(), "recent": now - timedelta(days=2)}
    if cooperative_id is None:
        return db.session.scalar(_OFFER_BY_CODE, params)
    return db.session.scalar(_OFFER_BY_CODE_IN_COOPERATIVE, dict(params, cooperative_id=cooperative_id))


# Built once: every Y and N by text asks it.
_OFFER_BY_CODE = (
    sa.select(Offer).join(Shift, Shift.id == Offer.shift_id)
    .where(Offer.person_id == sa.bindparam("person_id"), Offer.code == sa.bindparam("code"),
           sa.or_(Offer.code_live, Shift.ends_at > sa.bindparam("recent")))
    .order_by(Offer.code_live.desc(), Offer.id.desc()).limit(1)
    .execution_options(populate_existing=True))
_OFFER_BY_CODE_IN_COOPERATIVE = in_cooperative(_OFFER_BY_CODE, sa.bindparam("cooperative_id"))


def _book(shift_id: int, person_id: int, now: datetime, *, cover_from: int | None = None) -> OfferResult:
    """Book in this transaction: the app checks, then one conditional UPDATE that only one
    concurrent caller can win; on PostgreSQL the exclusion constraint backs it up."""
    shift = db.session.get(Shift, shift_id)
    team = shift.team
    if booked_elsewhere(person_id, shift.starts_at, shift.ends_at, shift.id):
        return OfferResult("double_booked", "You are already booked at that time.", shift)
    findings = findings_for(shift, team, person_id)
    if any(f.blocking for f in findings):
        return OfferResult("blocked", "The co-op's rota rules do not allow this booking.", shift, tuple(findings))
    condition = ((Shift.status == ShiftStatus.booked) & (Shift.booked_person_id == cover_from)
                 & Shift.cover_requested_at.is_not(None)) if cover_from is not None else \
        (Shift.status.in_(BOOKABLE) & Shift.booked_person_id.is_(None))
    try:
        with db.session.begin_nested():
            result = db.session.execute(
                sa.update(Shift).where(Shift.id == shift_id, condition)
                .values(status=ShiftStatus.booked, booked_person_id=person_id, booked_at=now, cover_requested_at=None)
                .execution_options(synchronize_session=False))
    except IntegrityError:
        return OfferResult("double_booked", "You are already booked at that time.", shift)
    db.session.refresh(shift)
    if result.rowcount != 1:
        return OfferResult("already_filled", "Sorry, that shift has already been filled.", shift)
    withdraw_clashing_offers(shift, person_id)
    return OfferResult("booked", f"You are booked: {when_text(shift, team.zone)} with {team.display_name}'s team.",
                       shift, tuple(findings))


def withdraw_clashing_offers(shift: Shift, person_id: int) -> int:
    """The worker is booked on `shift`: her other live offers whose times overlap it are
    withdrawn (they leave her offers page and OFFERS; a later answer hears why). Offers
    that only touch it (one ends as the other starts) stay open. One conditional UPDATE,
    so an answer to one of them committed meanwhile (a NO) is kept. Returns how many."""
    clashing = sa.select(Shift.id).where(Shift.id != shift.id, Shift.starts_at < shift.ends_at,
                                         Shift.ends_at > shift.starts_at)
    result = db.session.execute(
        sa.update(Offer).where(Offer.person_id == person_id, Offer.status == OfferStatus.open, Offer.code_live,
                               Offer.shift_id.in_(clashing))
        .values(status=OfferStatus.withdrawn, code_live=False)
        .execution_options(synchronize_session="fetch"))
    return result.rowcount


def _close_other_offers(shift: Shift, winner: Offer | None, now: datetime) -> None:
    for other in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.code_live)):
        if winner is not None and other.id == winner.id:
            continue
        if other.status == OfferStatus.open:
            other.status = OfferStatus.filled
        elif other.status == OfferStatus.accepted:  # the worker who asked for cover
            other.status = OfferStatus.withdrawn
        other.code_live = False
    db.session.flush()


def _settle(person: Person, offer: Offer | None) -> tuple[Offer | None, Shift | None]:
    """Queue behind any answer to the same shift that is in flight (the shift's row lock),
    then read the offer as committed: every reply is computed from who holds the shift
    now, never from which of two requests won a race."""
    if offer is None or offer.person_id != person.id:
        return None, None
    shift = shift_for_update(offer.shift_id)
    db.session.refresh(offer)
    return offer, shift


# What a text answers from the committed state without queueing for the shift's lock:
# nothing that the lock could change for this worker (a shift held by someone else is
# not freed by a Y; a cancelled visit, her own booking, her NO stay what they are).
SETTLED_WITHOUT_LOCK = frozenset({"already_filled", "already_yours"})


def _answer_unlocked(person: Person, offer: Offer | None, now: datetime) -> OfferResult | None:
    """The losing path of a storm of Ys: the reply owed, read from the offer and its shift
    as committed when they were read (`_offer_by_code`), when it is one no booking could
    change (filled by someone else, already hers, cancelled, said no); None otherwise, and
    the caller takes the lock. Writes nothing."""
    if offer is None or offer.person_id != person.id:
        return None
    result = _answer(person, offer, offer.shift, now, settle=False)
    if result is None:
        return None
    if result.outcome in SETTLED_WITHOUT_LOCK or result.reason in ("cancelled", "declined"):
        return result
    return None


def _answer(person: Person, offer: Offer | None, shift: Shift | None, now: datetime, *,
            settle: bool = True) -> OfferResult | None:
    """The reply owed without booking anything, from the committed state; None if the offer is open.
    With `settle` False, an offer whose time has passed is left for the locked path to expire."""
    if offer is None or shift is None:
        return OfferResult("unknown_code", "That code does not match a shift offered to you.")
    if shift.status == ShiftStatus.cancelled:
        return OfferResult("expired", "That visit was cancelled. You are not booked for it.", shift,
                           reason="cancelled")
    if shift.booked_person_id == person.id and shift.status in (ShiftStatus.booked, ShiftStatus.completed):
        return OfferResult("already_yours", "That shift is already yours.", shift)
    if offer.status == OfferStatus.declined:
        return OfferResult("expired", "You said no to that one. You are not booked for it.", shift,
                           reason="declined")
    if offer.status == OfferStatus.filled or (offer.status == OfferStatus.open and not offer.is_cover
                                              and shift.booked_person_id is not None):
        return OfferResult("already_filled", "Sorry, that shift has already been filled.", shift)
    if offer.status == OfferStatus.withdrawn and booked_elsewhere(person.id, shift.starts_at, shift.ends_at, shift.id):
        # The same code as losing the race to book her at that time: she is booked elsewhere.
        return OfferResult("double_booked", "That offer was withdrawn because you are booked at that time. "
                           "You are not booked for it.", shift, reason="clash")
    if offer.status != OfferStatus.open:
        return OfferResult("expired", "That offer is no longer open.", shift)
    if (offer.expires_at and offer.expires_at <= now) or shift.starts_at <= now:
        if not settle:
            return None
        offer.status, offer.code_live = OfferStatus.expired, False
        db.session.flush()
        return OfferResult("expired", "Sorry, that offer has expired.", shift)
    return None


def accept_offer(person: Person, offer_id: int, now: datetime | None = None) -> OfferResult:
    """Accept an offer; exactly one acceptance of a shift wins."""
    return _accept(person, db.session.get(Offer, offer_id), now or utcnow())


def accept_offer_by_code(person: Person, code: str, now: datetime | None = None, *,
                         cooperative_id: int | None = None) -> OfferResult:
    """Accept by the short code from a text message (sent to `cooperative_id`'s number)."""
    now = now or utcnow()
    return _accept(person, _offer_by_code(person, code, now, cooperative_id), now, unlocked=True)


def settled_accept_by_code(person: Person, code: str, now: datetime | None = None, *,
                           cooperative_id: int | None = None) -> OfferResult | None:
    """The answer to accepting by code when no booking could change it (the shift is someone
    else's, already hers, cancelled, or she said no), read from what is committed, writing
    nothing and taking no lock; None when only accept_offer_by_code can answer."""
    now = now or utcnow()
    return _answer_unlocked(person, _offer_by_code(person, code, now, cooperative_id), now)


def _accept(person: Person, offer: Offer | None, now: datetime, *, unlocked: bool = False) -> OfferResult:
    """`unlocked`: the offer and its shift were just read as committed, so a Y that can
    only lose is answered from them at once; every other Y queues for the shift's lock."""
    if unlocked:
        early = _answer_unlocked(person, offer, now)
        if early is not None:
            return early
    offer, shift = _settle(person, offer)
    early = _answer(person, offer, shift, now)
    if early is not None:
        return early
    if not offer.outside_team:
        access = team_access(_worker_actor(person), shift.team, now)
        if not perm.can_take_team_shifts(access):
            return OfferResult("not_eligible", "You are no longer an active worker in that team.", shift)
    elif not _outside_still_eligible(person, shift):
        return OfferResult("not_eligible", "Sorry, you cannot take that shift now. Please talk to your co-op.", shift)
    cover_from = shift.booked_person_id if offer.is_cover else None
    if offer.is_cover and cover_from is None:
        return OfferResult("already_filled", "Sorry, that shift has already been filled.", shift)
    result = _book(shift.id, person.id, now, cover_from=cover_from)
    if result.outcome == "already_filled":
        # Lost a race after all (SQLite, or a booking that took no lock): answer from what
        # is committed now, and only close the offer if it is still open.
        db.session.refresh(offer)
        settled = _answer(person, offer, result.shift, now)
        if settled is not None and settled.outcome != "already_filled":
            return settled
        db.session.execute(sa.update(Offer).where(Offer.id == offer.id, Offer.status == OfferStatus.open)
                           .values(status=OfferStatus.filled, code_live=False, answered_at=now)
                           .execution_options(synchronize_session=False))
        db.session.refresh(offer)
        return result
    if result.outcome != "booked":
        return result
    offer.status, offer.answered_at = OfferStatus.accepted, now
    _close_other_offers(shift, offer, now)
    if offer.outside_team and rules.escalated_to_facilitators(shift.escalation_level):
        _escalated_booked(person, offer, shift, now)
    if cover_from is not None:
        previous = db.session.get(Person, cover_from)
        tell(previous, shift.team, "Cover found", "cover_found", shift, first_name=person.first_name)
    return result


def _escalated_booked(person: Person, offer: Offer, shift: Shift, now: datetime) -> None:
    """A worker of the co-op took a visit the rota had passed to facilitators: in the team's
    audit (on her own behalf: she said yes) and told to the leader, by first name only."""
    team = shift.team
    audit.record(team, team_access(_worker_actor(person), team, now), "rota.escalated_outside_booked",
                 f"shift:{shift.id}", after={"offer": offer.id}, behalf="self", now=now)
    leader = db.session.get(Person, team.leader_id)
    if leader is not None and leader.active:
        tell(leader, team, "Visit taken", "escalated_booked", shift, first_name=person.first_name,
             dedupe_key=f"rota.escalated_booked:{offer.id}")


def _worker_actor(person: Person) -> Actor:
    return Actor(person_id=person.id)


def decline_offer(person: Person, offer_id: int, now: datetime | None = None) -> OfferResult:
    """Say no to an offer (no reason needed)."""
    return _decline(person, db.session.get(Offer, offer_id), now or utcnow())


def decline_offer_by_code(person: Person, code: str, now: datetime | None = None, *,
                          cooperative_id: int | None = None) -> OfferResult:
    """Say no by the short code from a text message (sent to `cooperative_id`'s number)."""
    now = now or utcnow()
    return _decline(person, _offer_by_code(person, code, now, cooperative_id), now)


def _decline(person: Person, offer: Offer | None, now: datetime) -> OfferResult:
    offer, shift = _settle(person, offer)
    early = _answer(person, offer, shift, now)
    if early is not None:
        return early
    offer.status, offer.code_live, offer.answered_at = OfferStatus.declined, False, now
    db.session.flush()
    return OfferResult("declined", "Thanks, you said no to that shift.", shift)


def book_directly(actor: Actor, shift_id: int, person_id: int, now: datetime | None = None) -> OfferResult:
    """Book a named team worker (e.g. a trial worker for a trial shift) without an offer."""
    now = now or utcnow()
    shift, team, access = visible_shift(actor, shift_id)
    ensure(perm.can_edit_rota(access))
    person = db.session.get(Person, person_id)
    if person is None:
        raise ValidationError(details={"fields": {"person_id": ["No such person."]}})
    worker_access = team_access(_worker_actor(person), team, now)
    if not perm.can_be_booked(worker_access, shift.is_trial):
        raise ValidationError(details={"fields": {"person_id": ["Not an active worker in this team (a trial worker only for a trial shift)."]}})
    reasons = eligibility.worker_eligibility([person.id], shift.required_skills or [], shift.starts_at).get(person.id)
    if reasons:
        raise ValidationError(details={"fields": {"person_id": reasons}})
    result = _book(shift.id, person.id, now)
    if result.outcome == "booked":
        taken = set(db.session.scalars(sa.select(Offer.code).where(Offer.person_id == person.id, Offer.code_live)))
        offer = Offer(shift_id=shift.id, person_id=person.id, code=rules.new_code(taken), wave=0,
                      status=OfferStatus.accepted, sent_at=now, answered_at=now)
        db.session.add(offer)
        db.session.flush()
        _close_other_offers(shift, offer, now)
        tell(person, team, "You are booked", "booked_by_team", shift, code=offer.code)
    return result


def expire_and_escalate(now: datetime) -> dict[str, int]:
    """Expire unanswered offers; then the next wave, then the circle, then facilitators.
    Offers expire 500 a savepoint (careteams.jobs_util.run_in_batches); each shift is
    escalated in its own savepoint (run_each)."""
    counts = {"expired": 0, "waves": 0, "circle": 0, "facilitators": 0}

    def expire(offer: Offer) -> None:
        offer.status, offer.code_live = OfferStatus.expired, False

    # A federation's five minutes expire thousands of offers: 500 a savepoint and a flush.
    due = db.session.scalars(sa.select(Offer).where(Offer.status == OfferStatus.open, Offer.expires_at <= now)
                             .order_by(Offer.id)).all()
    counts["expired"] = len(run_in_batches("rota.offers", due, expire, key=lambda o: f"offer {o.id}",
                                           cooperative=lambda o: o.shift.team.cooperative_id).done)
    open_offer = sa.select(Offer.id).where(Offer.shift_id == Shift.id, Offer.status == OfferStatus.open).exists()
    needing = db.session.scalars(sa.select(Shift).where(
        Shift.starts_at > now, ~open_offer,
        sa.or_(Shift.status == ShiftStatus.offered,
               (Shift.status == ShiftStatus.booked) & Shift.cover_requested_at.is_not(None)))).all()
    for step in run_each("rota.offers", needing, lambda shift: _escalate(shift, now),
                         key=lambda s: f"shift {s.id}", cooperative=lambda s: s.team.cooperative_id).done:
        if step:
            counts[step] += 1
    return counts


def _escalate(shift: Shift, now: datetime) -> str | None:
    """One shift nobody is being asked about: the next wave, the circle or the facilitators."""
    team = shift.team
    settings = settings_for(team.cooperative_id)
    step = None
    if shift.escalation_level == 0:
        candidates = eligible_workers(shift, exclude=offered_to(shift.id))
        batches = rules.waves(candidates, settings.offer_wave_size)
        if batches:
            wave = next_wave(shift.id)
            create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)
            db.session.flush()
            return "waves"
        # The last offer names this round of asking, so a later round can escalate again.
        last_offer = db.session.scalar(sa.select(sa.func.max(Offer.id)).where(Offer.shift_id == shift.id)) or 0
        for person in circle_of(team, now):
            tell(person, team, "Shift not filled", "not_filled_circle", shift,
                 dedupe_key=f"rota.escalation:{shift.id}:1:{last_offer}:{person.id}")
        shift.escalation_level, shift.escalated_at = 1, now
        step = "circle"
    elif shift.escalation_level == 1 and shift.escalated_at + timedelta(minutes=settings.offer_ttl_minutes) <= now:
        for person in facilitators_of(team.cooperative_id):
            tell(person, team, "Shift not filled", "not_filled_facilitators", shift,
                 dedupe_key=f"rota.escalation:{shift.id}:2:{shift.escalated_at:%Y%m%dT%H%M%S}:{person.id}")
        shift.escalation_level, shift.escalated_at = 2, now
        step = "facilitators"
    db.session.flush()
    return step
