"""One visit on the team's rota, as the people who run the rota read it: when, kind, who is
booked, notes, the rota's checks, and where its offers stand (who was asked, who said no,
who has not answered, and what the clock does next)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota.models import Offer, OfferStatus, RotaSettings, Shift, ShiftStatus
from careteams.rota.services.common import ShiftView, team_shift
from careteams.rota.services.offers import eligible_workers, offered_to
from careteams.rota.services.reading import views_with_findings
from careteams.rota.services.settings import settings_for
from careteams.teams.models import Team

# How often the clock looks at offers (careteams/rota/jobs.py, "rota.offers").
CLOCK_MINUTES = 5


@dataclass
class OfferLine:
    """One team worker's offer, as the rota's keepers see it."""

    name: str
    wave: int
    sent_at: datetime
    expires_at: datetime | None
    answered_at: datetime | None
    is_cover: bool


@dataclass
class NextStep:
    """What happens next to a visit nobody has taken, in plain words; `at` is None when it
    waits on a person rather than the clock, or is already due (the clock's next run)."""

    what: str
    at: datetime | None = None


@dataclass
class VisitOffers:
    offered: list[OfferLine] = field(default_factory=list)  # every team worker asked, in order
    waiting: list[OfferLine] = field(default_factory=list)  # offered, not answered, still open
    said_no: list[OfferLine] = field(default_factory=list)
    no_answer: list[OfferLine] = field(default_factory=list)  # expired before an answer
    accepted: list[OfferLine] = field(default_factory=list)
    closed: list[OfferLine] = field(default_factory=list)  # filled by someone else, or withdrawn
    # Outside the team: counts only; a name only once that person accepted.
    outside_counts: dict[str, int] = field(default_factory=dict)
    outside_accepted: list[str] = field(default_factory=list)

    @property
    def outside_total(self) -> int:
        return sum(self.outside_counts.values())


@dataclass
class TeamVisit:
    team: Team
    view: ShiftView
    cancelled_by: str | None
    offers: VisitOffers | None  # None: the viewer may not follow the offers
    next_step: NextStep | None
    wave_size: int
    ttl_minutes: int


def team_visit(actor: Actor, team_id: int, shift_id: int, now: datetime | None = None) -> TeamVisit:
    """One visit of the team's rota (404 if the shift is not in that team), for everyone who
    may see the rota; where its offers stand for those who may follow them."""
    now = now or utcnow()
    shift, team, access = team_shift(actor, team_id, shift_id, perm.can_view_rota)
    settings = settings_for(team.cooperative_id)
    (view,), _ = views_with_findings(team, [shift], settings)
    cancelled_by = db.session.get(Person, shift.cancelled_by_id).name if shift.cancelled_by_id else None
    offers = next_step = None
    if perm.can_follow_offers(access):
        offers = _offers_of(shift, now)
        next_step = _next_step(shift, offers, settings, now)
    return TeamVisit(team, view, cancelled_by, offers, next_step, settings.offer_wave_size, settings.offer_ttl_minutes)


def _offers_of(shift: Shift, now: datetime) -> VisitOffers:
    rows = db.session.execute(
        sa.select(Offer, Person.name).join(Person, Person.id == Offer.person_id)
        .where(Offer.shift_id == shift.id).order_by(Offer.wave, Offer.sent_at, Offer.id)).all()
    out = VisitOffers()
    for offer, name in rows:
        if offer.outside_team:
            key = _state(offer, now)
            out.outside_counts[key] = out.outside_counts.get(key, 0) + 1
            if offer.status == OfferStatus.accepted:
                out.outside_accepted.append(name)
            continue
        line = OfferLine(name, offer.wave, offer.sent_at, offer.expires_at, offer.answered_at, offer.is_cover)
        out.offered.append(line)
        getattr(out, _state(offer, now)).append(line)
    return out


def _state(offer: Offer, now: datetime) -> str:
    if offer.status == OfferStatus.open:
        expired = offer.expires_at is not None and offer.expires_at <= now
        return "no_answer" if expired else "waiting"
    return {OfferStatus.declined: "said_no", OfferStatus.expired: "no_answer",
            OfferStatus.accepted: "accepted"}.get(offer.status, "closed")


def _next_step(shift: Shift, offers: VisitOffers, settings: RotaSettings, now: datetime) -> NextStep | None:
    """What the clock does next (careteams.rota.services.offers.expire_and_escalate), read
    from the offers' expiry and the co-op's rota settings."""
    if shift.starts_at <= now or shift.status in (ShiftStatus.cancelled, ShiftStatus.completed):
        return None
    if shift.status == ShiftStatus.booked and shift.cover_requested_at is None:
        return None
    if shift.status == ShiftStatus.open:
        return NextStep("Not offered yet: nothing happens until someone offers it.")
    waiting = [line.expires_at for line in offers.waiting if line.expires_at is not None]
    outside_waiting = offers.outside_counts.get("waiting", 0)
    if shift.escalation_level >= 2:
        told = f"The co-op's facilitators were told {_ago(shift.escalated_at, now)}. "
        if outside_waiting:
            return NextStep(told + "It is offered to workers of the co-op: waiting for their answers.")
        return NextStep(told + "Nothing more happens by itself: a facilitator can offer it to workers of the co-op.")
    if shift.escalation_level == 1:
        return NextStep("The circle was told nobody has taken it. If nobody takes it, the co-op's "
                        "facilitators are told", shift.escalated_at + timedelta(minutes=settings.offer_ttl_minutes))
    more = eligible_workers(shift, exclude=offered_to(shift.id))
    size = len(more) if settings.offer_wave_size <= 0 else min(len(more), settings.offer_wave_size)
    if offers.waiting or outside_waiting:
        then = (f"the next wave goes to {size} more of the team's workers" if more
                else "the circle (the leader and the hats) is told")
        return NextStep(f"Waiting for answers. If nobody takes it when the offers close, {then}",
                        max(waiting) if waiting else None)
    if more:
        return NextStep(f"No offer is open: the next wave goes to {size} more of the team's workers "
                        f"within {CLOCK_MINUTES} minutes.")
    return NextStep("No offer is open and nobody else in the team can take it: the circle (the leader "
                    f"and the hats) is told within {CLOCK_MINUTES} minutes.")


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "already"
    minutes = int((now - when).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minutes ago"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''} ago" if hours < 48 else f"{hours // 24} days ago"
