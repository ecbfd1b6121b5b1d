"""What the visit page's offering forms need: which of offer, book, consent and outside
offer the person may do for one visit, and the team's workers who may be booked on it.
The same permissions and eligibility the offers service applies (offers.book_directly,
offers.offer_shift, offers.offer_outside), read for a page; nothing is changed here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import ensure
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Shift
from careteams.rota.services import eligibility
from careteams.rota.services.common import BOOKABLE, team_shift, team_with_access
from careteams.rota.services.offers import outside_waiting
from careteams.rota.services.settings import settings_for
from careteams.teams.models import Team, TeamMember, TeamMemberStatus
from careteams.teams.services.access import team_access


@dataclass
class OfferingActions:
    shift_id: int
    team_id: int
    open_future: bool  # open or offered, not started: may be offered or booked
    can_offer: bool
    can_book: bool
    can_consent: bool
    outside_consented: bool
    wave_size: int  # the co-op's default
    bookable: list[tuple[int, str]] = field(default_factory=list)  # (person id, name)
    # A facilitator of the co-op on a visit the rota escalated to facilitators (offers.send_outside_wave).
    can_offer_escalated: bool = False
    outside_waiting: int = 0  # outside offers still open for an answer

    @property
    def any(self) -> bool:
        return self.open_future and (self.can_offer or self.can_book or self.can_consent or self.can_offer_escalated)


def visit_actions(actor: Actor, team_id: int, shift_id: int, now: datetime | None = None, *,
                  keep: int | None = None) -> OfferingActions:
    """For the visit page: what this person may do about offering the visit (404 if the
    visit is not the team's; nothing allowed for a reader who may not offer). `keep`: a
    person chosen on a refused booking form stays among the choices (named if in the team)."""
    now = now or utcnow()
    shift, team, access = team_shift(actor, team_id, shift_id, perm.can_view_rota)
    can_book = perm.can_edit_rota(access)
    actions = OfferingActions(
        shift_id=shift.id, team_id=team.id,
        open_future=shift.status in BOOKABLE and shift.starts_at > now,
        can_offer=perm.can_offer_shifts(access), can_book=can_book,
        can_consent=perm.can_consent_outside_offer(access),
        outside_consented=shift.outside_consent_by_id is not None,
        wave_size=settings_for(team.cooperative_id).offer_wave_size)
    if (perm.can_act_on_escalated(access) and rules.escalated_to_facilitators(shift.escalation_level)
            and not (actions.can_offer and actions.outside_consented)):
        actions.can_offer_escalated = True
        actions.outside_waiting = outside_waiting(shift, now)
    if can_book and actions.open_future:
        actions.bookable = bookable_workers(shift, now)
    if can_book and keep is not None and keep not in {pid for pid, _ in actions.bookable}:
        actions.bookable.append((keep, _member_name(team.id, keep) or "The person you chose"))
    return actions


def _member_name(team_id: int, person_id: int) -> str | None:
    return db.session.scalar(sa.select(Person.name).join(TeamMember, TeamMember.person_id == Person.id)
                             .where(TeamMember.team_id == team_id, Person.id == person_id).limit(1))


def may_edit_rota(actor: Actor, team_id: int) -> bool:
    """For links: whether the person may add visits to the team's rota (no error)."""
    team = db.session.get(Team, team_id)
    return team is not None and perm.can_edit_rota(team_access(actor, team))


def team_for_new_series(actor: Actor, team_id: int) -> Team:
    """The team whose rota a recurring visit is being added to (404 / 403 as create_series)."""
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    return team


def bookable_workers(shift: Shift, now: datetime) -> list[tuple[int, str]]:
    """The team's people whom offers.book_directly would accept for this visit: a paid
    place (perm.can_be_booked, a trial worker only for a trial visit) and the worker's
    checks and skills valid on the day (eligibility.worker_eligibility). The rota's
    working-time checks are run when booking, and shown then."""
    team = shift.team
    people = db.session.execute(
        sa.select(Person).join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.team_id == team.id,
               TeamMember.status.in_((TeamMemberStatus.active, TeamMemberStatus.trial)))
        .order_by(Person.name, Person.id)).scalars().unique().all()
    placed = [p for p in people
              if perm.can_be_booked(team_access(Actor(person_id=p.id), team, now), shift.is_trial)]
    reasons = eligibility.worker_eligibility([p.id for p in placed], shift.required_skills or [], shift.starts_at)
    return [(p.id, p.name) for p in placed if not reasons.get(p.id)]


def names_of(person_ids: list[int]) -> list[str]:
    """The names of the team's workers just offered a visit, for the page's message."""
    if not person_ids:
        return []
    names = dict(db.session.execute(sa.select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())
    return [names[pid] for pid in person_ids if pid in names]
