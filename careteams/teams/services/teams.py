"""Starting and editing a team, and its private details (address, access, contacts)."""

from __future__ import annotations

import sqlalchemy as sa

from careteams import geo
from careteams.db import utcnow
from careteams.errors import Conflict, ensure
from careteams.extensions import db
from careteams.members import permissions as member_perm
from careteams.members.models import Cooperative, MemberClass, Membership, MembershipStatus, Person
from careteams.members.permissions import Actor
from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import Team, TeamPrivateDetails
from careteams.teams.services.access import get_visible_team, team_access
from careteams.teams.services.audit import record
from careteams.teams.services.common import field_error


def _team_snapshot(team: Team) -> dict:
    return {"display_name": team.display_name, "postcode": team.postcode, "latitude": team.latitude,
            "longitude": team.longitude, "postcode_district": team.postcode_district, "min_visit_minutes": team.min_visit_minutes,
            "timezone": team.timezone}


def _place(team: Team, postcode: str | None, latitude: float | None, longitude: float | None) -> None:
    """The team's postcode and its point from the geocoder (saved even when it cannot answer now:
    the retry job finds the point later); the district comes from the postcode."""
    geo.set_place(team, postcode, latitude, longitude)
    if team.postcode:
        team.postcode_district = geo.district_of(team.postcode)


def create_team(actor: Actor, coop: Cooperative, data: dict) -> Team:
    """A supported member starts their team, or a facilitator starts it for them."""
    ensure(member_perm.can_view_cooperative(actor, coop.id), not_found=True)
    leader_id = data.get("leader_id") or actor.person_id
    leader_class = db.session.scalar(sa.select(Membership.member_class).where(
        Membership.cooperative_id == coop.id, Membership.person_id == leader_id,
        Membership.status != MembershipStatus.left,
    ))
    actor_is_facilitator = member_perm.is_facilitator(actor, coop.id)
    if actor_is_facilitator and leader_class is None:
        raise field_error("leader_id", "That person is not a member of this co-op.")
    ensure(perm.can_create_team(
        actor_is_leader=leader_id == actor.person_id, actor_is_facilitator=actor_is_facilitator,
        leader_is_supported_member=leader_class == MemberClass.supported,
    ))
    if db.session.scalar(sa.select(Team.id).where(Team.cooperative_id == coop.id, Team.leader_id == leader_id)):
        raise Conflict("This person already has a team in this co-op.", code="team_exists")
    team = Team(cooperative_id=coop.id, leader_id=leader_id, created_by_id=actor.person_id,
                **{k: data.get(k) for k in ("display_name", "postcode_district", "min_visit_minutes", "timezone")})
    _place(team, data.get("postcode"), data.get("latitude"), data.get("longitude"))
    db.session.add(team)
    db.session.flush()
    access = team_access(actor, team)
    record(team, access, "team.created", f"team:{team.id}", after=_team_snapshot(team))
    return team


def update_team(actor: Actor, team_id: int, changes: dict) -> Team:
    """Change the team's name, area or settings (the leader or an arranger)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_team(access))
    before = _team_snapshot(team)
    if any(k in changes for k in ("postcode", "latitude", "longitude")):
        _place(team, changes.pop("postcode", team.postcode), changes.pop("latitude", None), changes.pop("longitude", None))
        if team.postcode:
            changes.pop("postcode_district", None)
    for key, value in changes.items():
        setattr(team, key, value)
    db.session.flush()
    after = _team_snapshot(team)
    if after != before:
        changed = rules.changed_fields(before, after)
        record(team, access, "team.updated", f"team:{team.id}",
               before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return team


def team_creation_choices(actor: Actor) -> list[dict]:
    """Co-ops where the actor may start a team: their own (as a supported member
    without one) or, as a facilitator, for supported members who have none."""
    coops: dict[int, dict] = {}
    own = db.session.scalars(sa.select(Membership).where(
        Membership.person_id == actor.person_id, Membership.member_class == MemberClass.supported,
        Membership.status != MembershipStatus.left)).all()
    for m in own:
        if not db.session.scalar(sa.select(Team.id).where(Team.cooperative_id == m.cooperative_id, Team.leader_id == actor.person_id)):
            coops.setdefault(m.cooperative_id, {"cooperative": m.cooperative, "self": True, "leaders": []})
    for coop_id, role in actor.staff_roles:
        if role != "facilitator":
            continue
        coop = db.session.get(Cooperative, coop_id)
        entry = coops.setdefault(coop_id, {"cooperative": coop, "self": False, "leaders": []})
        entry["leaders"] = list(db.session.scalars(
            sa.select(Person).join(Membership, Membership.person_id == Person.id).where(
                Membership.cooperative_id == coop_id, Membership.member_class == MemberClass.supported,
                Membership.status != MembershipStatus.left, Person.id != actor.person_id,
                ~sa.exists().where(Team.cooperative_id == coop_id, Team.leader_id == Person.id),
            ).order_by(Person.name)))
    return sorted(coops.values(), key=lambda e: e["cooperative"].name)


PRIVATE_FIELDS = ("address", "access_notes", "emergency_contacts", "if_something_is_wrong")


def get_private_details(actor: Actor, team_id: int) -> TeamPrivateDetails:
    """The visit address, how to get in and who to call (leader, circle, active members)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_private_details(access))
    details = db.session.scalar(sa.select(TeamPrivateDetails).where(TeamPrivateDetails.team_id == team.id))
    return details or TeamPrivateDetails(team_id=team.id, **dict.fromkeys(PRIVATE_FIELDS, ""))


def update_private_details(actor: Actor, team_id: int, data: dict) -> TeamPrivateDetails:
    """Change the private details (the leader or an arranger)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_private_details(access))
    details = db.session.scalar(sa.select(TeamPrivateDetails).where(TeamPrivateDetails.team_id == team.id))
    if details is None:
        details = TeamPrivateDetails(team_id=team.id, **dict.fromkeys(PRIVATE_FIELDS, ""))
        db.session.add(details)
    changed = [k for k in PRIVATE_FIELDS if k in data and data[k] != getattr(details, k)]
    for key in changed:
        setattr(details, key, data[key])
    details.updated_at = utcnow()
    details.updated_by_id = actor.person_id
    db.session.flush()
    if changed:
        # Which fields changed, never their content: the log is read by facilitators,
        # who do not see the address or door codes.
        record(team, access, "private_details.updated", f"team:{team.id}", after={"fields": changed})
    return details


def get_private_details_for_editing(actor: Actor, team_id: int) -> TeamPrivateDetails:
    _team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_private_details(access))
    return get_private_details(actor, team_id)

