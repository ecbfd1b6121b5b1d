"""A person's place in a team: invitations, trial, active, leaving; both sides consent."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ensure
from careteams.extensions import db
from careteams.members.permissions import Actor
from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import Team, TeamMember, TeamMemberStatus
from careteams.teams.permissions import TeamAccess, TeamPermission
from careteams.teams.services.access import CURRENT_MEMBER_STATUSES, get_visible_team, team_access
from careteams.teams.services.audit import record
from careteams.teams.services.common import field_error, find_or_invite_person, local_today, tell
from careteams.teams.signals import team_member_ended, trial_confirmation_asked


def _member_snapshot(m: TeamMember) -> dict:
    # Who the invitee is goes in the team's log only once they have said yes (issue 14).
    said_yes = m.accepted_at is not None
    return {"person_id": m.person_id if said_yes else None, "person": m.person.name if said_yes else None,
            "role": m.role.value, "status": m.status.value}


def _current_place(team: Team, person_id: int) -> TeamMember | None:
    return db.session.scalar(sa.select(TeamMember).where(
        TeamMember.team_id == team.id, TeamMember.person_id == person_id,
        TeamMember.status.in_(CURRENT_MEMBER_STATUSES)))


def list_members(actor: Actor, team_id: int) -> tuple[list[TeamMember], TeamAccess]:
    """Everyone who is or was in the team (history is kept), newest first."""
    team, access = get_visible_team(actor, team_id)
    members = list(db.session.scalars(
        sa.select(TeamMember).where(TeamMember.team_id == team.id).order_by(TeamMember.invited_at.desc(), TeamMember.id.desc())
    ))
    return members, access


def invite_to_team(actor: Actor, team_id: int, data: dict) -> TeamMember:
    """Invite family, a neighbour or a volunteer; they join only when they accept."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_invite(access))
    role = data["role"]
    if role not in rules.DIRECT_INVITE_ROLES:
        raise field_error("role", "Paid workers join through matching, not a direct invitation.")
    person = find_or_invite_person(actor, team, data)
    if person.id == team.leader_id:
        raise field_error("email", "The team's leader is already at the heart of the team.")
    if _current_place(team, person.id) is not None:
        raise Conflict("This person is already in the team or already invited.", code="already_in_team")
    member = TeamMember(team_id=team.id, person_id=person.id, role=role, status=TeamMemberStatus.invited,
                        invited_by_id=actor.person_id, invited_at=utcnow())
    db.session.add(member)
    db.session.flush()
    record(team, access, "member.invited", f"team_member:{member.id}", after=_member_snapshot(member),
           permission=TeamPermission.invite_people)
    tell(person, team, "An invitation on careteams", "You have been invited to join a care team. Log in to say yes or no:")
    return member


def answer_invitation(actor: Actor, member_id: int, accept: bool, now: datetime | None = None) -> TeamMember:
    """The invitee's own yes or no; only they can give it."""
    now = now or utcnow()
    member = db.session.get(TeamMember, member_id)
    # Only the invitee learns that the invitation exists.
    ensure(member is not None and member.person_id == actor.person_id, not_found=True)
    if member.status != TeamMemberStatus.invited:
        raise Conflict("This invitation has already been answered or withdrawn.", code="not_pending")
    team = member.team
    before = _member_snapshot(member)
    member.accepted_at = now if accept else None
    if accept:
        member.status = rules.status_on_accepting(member.role)
        member.started_on = local_today(team, now)
        if member.status == TeamMemberStatus.active:
            member.active_on = member.started_on
    else:
        member.status = TeamMemberStatus.declined
        member.ended_on = local_today(team, now)
    db.session.flush()
    record(team, team_access(actor, team, now), "member.accepted" if accept else "member.declined",
           f"team_member:{member.id}", before=before, after=_member_snapshot(member), behalf="self", now=now)
    return member


def _get_member(team: Team, member_id: int) -> TeamMember:
    member = db.session.get(TeamMember, member_id)
    if member is None or member.team_id != team.id:
        raise NotFound("No such team member.")
    return member


def confirm_member(actor: Actor, team_id: int, member_id: int, now: datetime | None = None) -> TeamMember:
    """Trial to active: the member and the team side each confirm; both are needed.

    One path, one state machine: a trial place is a match's, so the confirmation is
    the match's `confirm` (matching answers trial_confirmation_asked), which needs a
    recorded trial shift. A trial place with no match behind it cannot be confirmed."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    member = _get_member(team, member_id)
    is_self = member.person_id == actor.person_id
    ensure(is_self or perm.can_confirm_for_team(access))
    if member.status != TeamMemberStatus.trial:
        raise Conflict("Only a trial membership can be confirmed.", code="not_on_trial")
    before = _member_snapshot(member)
    handled = any(answer for _, answer in trial_confirmation_asked.send(member, actor=actor, now=now))
    if not handled:
        raise Conflict("A trial place is confirmed through its match, after a trial shift.",
                       code="confirm_through_match")
    db.session.flush()
    db.session.refresh(member)
    record(team, access, "member.confirmed", f"team_member:{member.id}", before=before,
           after={**_member_snapshot(member), "side": "member" if is_self else "team"},
           permission=None if is_self else TeamPermission.answer_matches, behalf="self" if is_self else None, now=now)
    return member


def end_membership(actor: Actor, team_id: int, member_id: int, note: str | None = None,
                   now: datetime | None = None) -> TeamMember:
    """Either side ends it, at any time: the leader or a Team builder, or the member
    themselves (leaving). History is kept; the rota hears through team_member_ended."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    member = _get_member(team, member_id)
    is_self = member.person_id == actor.person_id
    ensure(is_self or perm.can_end_membership(access))
    if member.status not in CURRENT_MEMBER_STATUSES:
        raise Conflict("This membership has already ended.", code="already_ended")
    before = _member_snapshot(member)
    was_serving = member.status in (TeamMemberStatus.trial, TeamMemberStatus.active)
    member.status = TeamMemberStatus.left
    member.ended_on = local_today(team, now)
    member.ended_by_id = actor.person_id
    member.end_note = (note or "").strip() or None
    db.session.flush()
    record(team, access, "member.left" if is_self else "member.ended", f"team_member:{member.id}",
           before=before, after=_member_snapshot(member),
           permission=None if is_self else TeamPermission.end_membership, behalf="self" if is_self else None, now=now)
    if was_serving:
        team_member_ended.send(member)
    return member


def leave_team(actor: Actor, team_id: int, note: str | None = None) -> TeamMember:
    """The member ends their own place in the team."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_leave(access))
    member = _current_place(team, actor.person_id)
    return end_membership(actor, team_id, member.id, note)


def get_member_for_ending(actor: Actor, team_id: int, member_id: int) -> TeamMember:
    """The membership someone is about to end, if they may end it."""
    team, access = get_visible_team(actor, team_id)
    member = _get_member(team, member_id)
    ensure(member.person_id == actor.person_id or perm.can_end_membership(access))
    return member

