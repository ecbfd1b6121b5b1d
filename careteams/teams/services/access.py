"""Who someone is to a team (`team_access`) and which teams they can see.

The one place that works out what a person is to a team; every domain that
touches a team (matching, rota, hours, SMS) asks it, then decides with the
predicates in teams.permissions.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from careteams.db import utcnow
from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.members.permissions import Actor, is_facilitator
from careteams.teams import permissions as perm
from careteams.teams.models import Arranger, Hat, HatStatus, Team, TeamMember, TeamMemberStatus
from careteams.teams.permissions import TeamAccess, can_see_team

CURRENT_MEMBER_STATUSES = (TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active)


def team_access(actor: Actor, team: Team, now: datetime | None = None) -> TeamAccess:
    """What `actor` is to `team`: leader, facilitator, arranger, hats in force, place."""
    return team_accesses(actor, [team], now)[team.id]


def team_accesses(actor: Actor, teams: list[Team], now: datetime | None = None) -> dict[int, TeamAccess]:
    """`team_access` for many teams at once, in three queries whatever their number
    (the home page and the navigation read every team the person is part of)."""
    now = now or utcnow()
    team_ids = [team.id for team in teams]
    if not team_ids:
        return {}
    hats: dict[int, list[Hat]] = {}
    for hat in db.session.scalars(sa.select(Hat).where(
            Hat.team_id.in_(team_ids), Hat.person_id == actor.person_id, Hat.status == HatStatus.accepted)):
        if hat.in_force(now):
            hats.setdefault(hat.team_id, []).append(hat)
    arranged = set(db.session.scalars(sa.select(Arranger.team_id).where(
        Arranger.team_id.in_(team_ids), Arranger.person_id == actor.person_id, Arranger.in_force())))
    places = {row.team_id: row for row in db.session.execute(
        sa.select(TeamMember.team_id, TeamMember.status, TeamMember.role).where(
            TeamMember.team_id.in_(team_ids), TeamMember.person_id == actor.person_id,
            TeamMember.status.in_(CURRENT_MEMBER_STATUSES)))}
    result = {}
    for team in teams:
        in_force = hats.get(team.id, [])
        place = places.get(team.id)
        result[team.id] = TeamAccess(
            person_id=actor.person_id,
            team_id=team.id,
            is_leader=team.leader_id == actor.person_id,
            is_facilitator=is_facilitator(actor, team.cooperative_id),
            is_arranger=team.id in arranged,
            hat_permissions=frozenset(p for hat in in_force for p in hat.hat_type.permissions),
            member_status=place.status if place else None,
            member_role=place.role if place else None,
            hat_grants=frozenset((p, hat.hat_type.name) for hat in in_force for p in hat.hat_type.permissions),
        )
    return result


def get_visible_team(actor: Actor, team_id: int) -> tuple[Team, TeamAccess]:
    """The team and the actor's access to it; 404 for anyone it is private from."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound("No such team.")
    access = team_access(actor, team)
    if not can_see_team(access):
        raise NotFound("No such team.")
    return team, access


def visible_teams(actor: Actor, *, as_facilitator: bool = True) -> list[tuple[Team, TeamAccess]]:
    """Every team the actor leads, helps run, belongs to, or facilitates.

    `as_facilitator=False` leaves out the teams she sees only as her co-op's facilitator:
    what the navigation needs (careteams/web/nav.py), whose every team predicate asks for
    a standing of her own (a lead, a place, a hat, an arranger's role), never the facilitator's.
    Her teams are one statement whatever the size of the co-op: a UNION of index lookups by
    person (the leader's, the places', the hats', the arrangers'), then three for the accesses."""
    parts = [
        sa.select(Team.id.label("team_id")).where(Team.leader_id == actor.person_id),
        sa.select(TeamMember.team_id).where(
            TeamMember.person_id == actor.person_id,
            TeamMember.status.in_((TeamMemberStatus.trial, TeamMemberStatus.active))),
        sa.select(Hat.team_id).where(Hat.person_id == actor.person_id, Hat.status == HatStatus.accepted),
        sa.select(Arranger.team_id).where(Arranger.person_id == actor.person_id, Arranger.in_force()),
    ]
    facilitated = [c for c, role in actor.staff_roles if role == "facilitator"] if as_facilitator else []
    if facilitated:
        parts.append(sa.select(Team.id).where(Team.cooperative_id.in_(facilitated)))
    ids = sa.union(*parts).subquery()
    now = utcnow()
    # Not the leader (Team.leader is joined by default): no caller of this list reads it, and
    # joining it for a facilitator's hundreds of teams made PostgreSQL hash every person of
    # the federation on every page (README, "Federation scale").
    teams = list(db.session.scalars(sa.select(Team).where(Team.id.in_(sa.select(ids.c.team_id)))
                                    .options(lazyload(Team.leader)).order_by(Team.display_name, Team.id)))
    accesses = team_accesses(actor, teams, now)
    visible = perm.can_see_team if as_facilitator else perm.has_own_standing
    return [(team, accesses[team.id]) for team in teams if visible(accesses[team.id])]


def team_for_form(actor: Actor, team_id: int, allowed) -> Team:
    """The team, if the actor may use the form (a predicate from teams.permissions)."""
    team, access = get_visible_team(actor, team_id)
    ensure(allowed(access))
    return team

