"""The circle: hat types, hats offered, accepted, withdrawn and expired (arrangers: services.arrangers)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ensure
from careteams.extensions import db
from careteams.jobs_util import run_each
from careteams.members import permissions as member_perm
from careteams.members.models import Cooperative
from careteams.members.permissions import Actor
from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import Hat, HatStatus, HatType, Team
from careteams.teams.permissions import TeamAccess
from careteams.teams.services.access import get_visible_team, team_access
from careteams.teams.services.audit import record
from careteams.teams.services.common import field_error, find_or_invite_person, tell


def ensure_default_hat_types(coop: Cooperative) -> list[HatType]:
    """Give a co-op the four default hats, once (the demo and co-op creation call it)."""
    existing = {h.name: h for h in db.session.scalars(sa.select(HatType).where(HatType.cooperative_id == coop.id))}
    made = []
    for name, description, permissions in rules.DEFAULT_HAT_TYPES:
        if name in existing:
            made.append(existing[name])
            continue
        hat_type = HatType(cooperative_id=coop.id, name=name, description=description,
                           permissions=sorted(p.value for p in permissions))
        db.session.add(hat_type)
        made.append(hat_type)
    db.session.flush()
    return made


def list_hat_types(actor: Actor, coop: Cooperative) -> list[HatType]:
    """The co-op's hat types (anyone who belongs to or works for the co-op)."""
    ensure(member_perm.can_view_cooperative(actor, coop.id), not_found=True)
    return list(db.session.scalars(sa.select(HatType).where(HatType.cooperative_id == coop.id).order_by(HatType.id)))


def create_hat_type(actor: Actor, coop: Cooperative, data: dict) -> HatType:
    """A co-op admin defines another kind of hat."""
    ensure(member_perm.can_view_cooperative(actor, coop.id), not_found=True)
    ensure(perm.can_define_hat_types(member_perm.is_admin(actor, coop.id)))
    if db.session.scalar(sa.select(HatType.id).where(HatType.cooperative_id == coop.id,
                                                     sa.func.lower(HatType.name) == data["name"].lower())):
        raise Conflict("The co-op already has a hat with that name.", details={"fields": {"name": ["Already used."]}})
    hat_type = HatType(cooperative_id=coop.id, name=data["name"], description=data.get("description", ""),
                       permissions=sorted({str(p) for p in data["permissions"]}))
    db.session.add(hat_type)
    db.session.flush()
    return hat_type


def _hat_snapshot(hat: Hat) -> dict:
    # Who was offered the hat goes in the team's log only once they have said yes (issue 14).
    said_yes = hat.answered_at is not None and hat.status != HatStatus.declined
    return {"person_id": hat.person_id if said_yes else None, "person": hat.person.name if said_yes else None,
            "hat": hat.hat_type.name, "status": hat.status.value,
            "expires_at": hat.expires_at.isoformat() if hat.expires_at else None,
            "ended": hat.ended_at is not None}


def list_hats(actor: Actor, team_id: int) -> tuple[list[Hat], TeamAccess]:
    """Hats in the team: the leader, circle and facilitators see offers and history;
    members see who wears which hat now."""
    team, access = get_visible_team(actor, team_id)
    hats = list(db.session.scalars(sa.select(Hat).where(Hat.team_id == team.id).order_by(Hat.offered_at.desc(), Hat.id.desc())))
    if not perm.can_see_circle_details(access):
        now = utcnow()
        hats = [h for h in hats if h.in_force(now)]
    return hats, access


def offer_hat(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> Hat:
    """The leader offers a hat to a trusted person; it takes effect when they accept."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_manage_hats(access))
    hat_type = db.session.get(HatType, data["hat_type_id"])
    if hat_type is None or hat_type.cooperative_id != team.cooperative_id:
        raise field_error("hat_type_id", "No such hat in this co-op.")
    if data.get("expires_at") is not None and data["expires_at"] <= now:
        raise field_error("expires_at", "The end date must be in the future.")
    person = find_or_invite_person(actor, team, data)
    if person.id == team.leader_id:
        raise field_error("person_id", "The leader already holds every permission in their own team.")
    live = db.session.scalar(sa.select(Hat.id).where(
        Hat.team_id == team.id, Hat.person_id == person.id, Hat.hat_type_id == hat_type.id,
        Hat.status.in_((HatStatus.offered, HatStatus.accepted)), Hat.ended_at.is_(None)))
    if live is not None:
        raise Conflict("This person already has (or has been offered) that hat.", code="hat_exists")
    hat = Hat(team_id=team.id, person_id=person.id, hat_type_id=hat_type.id, status=HatStatus.offered,
              offered_by_id=actor.person_id, offered_at=now, expires_at=data.get("expires_at"))
    db.session.add(hat)
    db.session.flush()
    db.session.refresh(hat)
    record(team, access, "hat.offered", f"hat:{hat.id}", after=_hat_snapshot(hat), now=now)
    tell(person, team, "A hat offered to you on careteams",
          "You have been asked to help run a care team. Log in to say yes or no:")
    return hat


def answer_hat(actor: Actor, hat_id: int, accept: bool, now: datetime | None = None) -> Hat:
    """The person offered a hat says yes or no; only they can."""
    now = now or utcnow()
    hat = db.session.get(Hat, hat_id)
    ensure(hat is not None and hat.person_id == actor.person_id, not_found=True)
    if not rules.hat_answerable(hat.status, hat.expires_at, now) or hat.ended_at is not None:
        raise Conflict("This offer is no longer open.", code="not_pending")
    team = db.session.get(Team, hat.team_id)
    before = _hat_snapshot(hat)
    hat.status = HatStatus.accepted if accept else HatStatus.declined
    hat.answered_at = now
    db.session.flush()
    record(team, team_access(actor, team, now), "hat.accepted" if accept else "hat.declined", f"hat:{hat.id}",
           before=before, after=_hat_snapshot(hat), behalf="self", now=now)
    return hat


def withdraw_hat(actor: Actor, team_id: int, hat_id: int, now: datetime | None = None) -> Hat:
    """The leader takes a hat back at any time, or the wearer hands it back."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    hat = db.session.get(Hat, hat_id)
    if hat is None or hat.team_id != team.id:
        raise NotFound("No such hat.")
    is_wearer = hat.person_id == actor.person_id
    ensure(is_wearer or perm.can_manage_hats(access))
    if not rules.hat_withdrawable(hat.status, hat.ended_at):
        raise Conflict("This hat is no longer worn or offered.", code="not_current")
    before = _hat_snapshot(hat)
    hat.status = HatStatus.withdrawn
    hat.ended_at = now
    db.session.flush()
    record(team, access, "hat.handed_back" if is_wearer else "hat.withdrawn", f"hat:{hat.id}",
           before=before, after=_hat_snapshot(hat), behalf="self" if is_wearer else None, now=now)
    return hat


def expire_hats(now: datetime) -> int:
    """Close hats (and open offers) past their end date, once each, with a log entry."""
    due = db.session.scalars(sa.select(Hat).where(
        Hat.status.in_((HatStatus.offered, HatStatus.accepted)), Hat.ended_at.is_(None),
        Hat.expires_at.is_not(None), Hat.expires_at <= now,
    )).all()

    def expire(hat: Hat) -> None:
        before = _hat_snapshot(hat)
        hat.ended_at = now
        db.session.flush()
        record(db.session.get(Team, hat.team_id), None, "hat.expired", f"hat:{hat.id}",
               before=before, after=_hat_snapshot(hat), now=now)
        db.session.flush()

    # Each hat in its own savepoint: one that fails is rolled back alone and said once.
    return len(run_each("teams.expire_hats", due, expire, key=lambda h: f"hat {h.id}",
                        cooperative=lambda h: db.session.get(Team, h.team_id).cooperative_id).done)
