"""Arrangers: proposed by a facilitator, in force only once a second person agrees.

Separation of duties: nobody appoints themselves, and the one who proposes cannot
give the second yes. A proposal grants nothing (`Arranger.in_force()` is the only
way an arranger's powers are read). Ending or declining records who did it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, Forbidden, NotFound, ensure
from careteams.extensions import db
from careteams.members import permissions as member_perm
from careteams.members.models import Cooperative
from careteams.members.permissions import Actor
from careteams.teams import permissions as perm
from careteams.teams.models import Arranger, Team
from careteams.teams.permissions import TeamAccess
from careteams.teams.services.access import get_visible_team, team_access
from careteams.teams.services.audit import record
from careteams.teams.services.common import field_error, find_or_invite_person, tell


def _snapshot(arranger: Arranger) -> dict:
    return {"person_id": arranger.person_id, "person": arranger.person.name, "status": arranger.status}


def list_arrangers(actor: Actor, team_id: int) -> list[Arranger]:
    """Arrangers and proposals, past and present, with the recorded reason (leader, circle, facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_circle_details(access))
    return list(db.session.scalars(sa.select(Arranger).where(Arranger.team_id == team.id).order_by(Arranger.id)))


def appoint_arranger(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> Arranger:
    """A facilitator proposes an arranger where the leader cannot act; the reason is
    required, and it takes effect only when a second person agrees."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_appoint_arranger(access))
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise field_error("reason", "Record why the leader cannot act for themselves.")
    if data.get("person_id") is not None and data["person_id"] == actor.person_id:
        raise Forbidden("Nobody can appoint themselves as an arranger.", code="self_appointment")
    person = find_or_invite_person(actor, team, data)
    if person.id == actor.person_id:
        raise Forbidden("Nobody can appoint themselves as an arranger.", code="self_appointment")
    if person.id == team.leader_id:
        raise field_error("person_id", "The leader cannot be their own arranger.")
    if db.session.scalar(sa.select(Arranger.id).where(
            Arranger.team_id == team.id, Arranger.person_id == person.id, Arranger.ended_at.is_(None))):
        raise Conflict("This person is already an arranger for the team, or proposed as one.", code="already_arranger")
    arranger = Arranger(team_id=team.id, person_id=person.id, reason=reason, appointed_by_id=actor.person_id,
                        appointed_at=now)
    db.session.add(arranger)
    db.session.flush()
    record(team, access, "arranger.proposed", f"arranger:{arranger.id}",
           after={**_snapshot(arranger), "reason": reason}, now=now)
    tell(team.leader, team, "An arranger proposed for your team on careteams",
         "Someone has been proposed to help run your team. Log in to see why and to say yes or no:")
    return arranger


def _proposal(actor: Actor, team_id: int, arranger_id: int) -> tuple[Team, Arranger, TeamAccess, bool]:
    """The arranger row, the actor's access to its team and whether they are an admin of
    the co-op; 404 for anyone the team's circle is private from (admins may see it)."""
    team = db.session.get(Team, team_id)
    arranger = db.session.get(Arranger, arranger_id)
    if team is None or arranger is None or arranger.team_id != team.id:
        raise NotFound("No such arranger.")
    access = team_access(actor, team)
    is_admin = member_perm.is_admin(actor, team.cooperative_id)
    if not (is_admin or perm.can_see_circle_details(access)):
        raise NotFound("No such arranger.")
    return team, arranger, access, is_admin


def _behalf(access: TeamAccess, is_admin: bool) -> str | None:
    if access.is_leader or access.is_facilitator or not is_admin:
        return None
    return "admin"


def agree_arranger(actor: Actor, team_id: int, arranger_id: int, now: datetime | None = None) -> Arranger:
    """The second yes: another facilitator or an admin of the co-op, or the leader."""
    now = now or utcnow()
    team, arranger, access, is_admin = _proposal(actor, team_id, arranger_id)
    if actor.person_id == arranger.appointed_by_id:
        raise Forbidden("The one who proposed an arranger cannot also agree to it.", code="separation_of_duties")
    ensure(perm.can_agree_arranger(access, is_coop_admin=is_admin, proposed_by_id=arranger.appointed_by_id,
                                   arranger_id=arranger.person_id))
    if arranger.status != "proposed":
        raise Conflict("This proposal has already been answered.", code="not_proposed")
    before = _snapshot(arranger)
    arranger.agreed_by_id = actor.person_id
    arranger.agreed_at = now
    db.session.flush()
    record(team, access, "arranger.agreed", f"arranger:{arranger.id}", before=before, after=_snapshot(arranger),
           behalf=_behalf(access, is_admin), now=now)
    tell(arranger.person, team, "You are now an arranger on careteams",
         "You have been asked to help run a care team, and a second person has agreed. Log in to see it:")
    return arranger


def decline_arranger(actor: Actor, team_id: int, arranger_id: int, now: datetime | None = None) -> Arranger:
    """Say no to a proposal (whoever could agree), or take it back (the proposer)."""
    now = now or utcnow()
    team, arranger, access, is_admin = _proposal(actor, team_id, arranger_id)
    ensure(perm.can_decline_arranger(access, is_coop_admin=is_admin, proposed_by_id=arranger.appointed_by_id,
                                     arranger_id=arranger.person_id))
    if arranger.status != "proposed":
        raise Conflict("This proposal has already been answered.", code="not_proposed")
    before = _snapshot(arranger)
    arranger.ended_at = now
    arranger.ended_by_id = actor.person_id
    db.session.flush()
    record(team, access, "arranger.declined", f"arranger:{arranger.id}", before=before, after=_snapshot(arranger),
           behalf=_behalf(access, is_admin), now=now)
    return arranger


def end_arranger(actor: Actor, team_id: int, arranger_id: int, now: datetime | None = None) -> Arranger:
    """End an arrangement in force (a facilitator, the leader taking their team back, or
    the arranger stepping down); records who."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    arranger = db.session.get(Arranger, arranger_id)
    if arranger is None or arranger.team_id != team.id:
        raise NotFound("No such arranger.")
    ensure(perm.can_end_arranger(access, arranger_id=arranger.person_id))
    if arranger.ended_at is not None:
        raise Conflict("This arrangement has already ended.", code="already_ended")
    if arranger.agreed_at is None:
        raise Conflict("This is still a proposal: agree to it or decline it.", code="not_in_force")
    before = _snapshot(arranger)
    arranger.ended_at = now
    arranger.ended_by_id = actor.person_id
    db.session.flush()
    record(team, access, "arranger.ended", f"arranger:{arranger.id}", before=before,
           after={**_snapshot(arranger), "ended": True},
           behalf="self" if actor.person_id == arranger.person_id and not access.is_leader else None, now=now)
    return arranger


def list_arranger_proposals(actor: Actor, coop: Cooperative) -> list[dict]:
    """Proposals waiting for a second yes in the co-op (its facilitators and admins),
    each saying whether this actor may agree to it."""
    is_admin = member_perm.is_admin(actor, coop.id)
    is_facilitator = member_perm.is_facilitator(actor, coop.id)
    ensure(is_admin or is_facilitator)
    rows = db.session.scalars(sa.select(Arranger).join(Team, Team.id == Arranger.team_id).where(
        Team.cooperative_id == coop.id, Arranger.agreed_at.is_(None), Arranger.ended_at.is_(None),
    ).order_by(Arranger.appointed_at, Arranger.id))
    proposals = []
    for arranger in rows:
        access = team_access(actor, arranger.team)
        flags = {"is_coop_admin": is_admin, "proposed_by_id": arranger.appointed_by_id,
                 "arranger_id": arranger.person_id}
        proposals.append({"arranger": arranger, "team": arranger.team,
                          "can_agree": perm.can_agree_arranger(access, **flags),
                          "can_decline": perm.can_decline_arranger(access, **flags)})
    return proposals
