"""What the pages show at a glance: the team page, answers waiting for a person, home links."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.permissions import Actor, is_admin
from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import Hat, HatStatus, SuggestionStatus, TeamMember, TeamMemberStatus
from careteams.teams.services.access import CURRENT_MEMBER_STATUSES, get_visible_team
from careteams.teams.services.arrangers import list_arrangers
from careteams.teams.services.audit import team_history
from careteams.teams.services.circle import list_hats
from careteams.teams.services.plans import current_plan, list_suggestions
from careteams.teams.services.teams import get_private_details


def team_page(actor: Actor, team_id: int) -> dict:
    """Everything the team page shows this person, each part only if they may see it."""
    team, access = get_visible_team(actor, team_id)
    now = utcnow()
    members = list(db.session.scalars(
        sa.select(TeamMember).where(TeamMember.team_id == team.id).order_by(TeamMember.invited_at, TeamMember.id)))
    hats, _ = list_hats(actor, team_id)
    page: dict = {
        "team": team, "access": access, "now": now,
        "is_my_team": access.is_leader,
        "current": [m for m in members if m.status in (TeamMemberStatus.trial, TeamMemberStatus.active)],
        "invited": [m for m in members if m.status == TeamMemberStatus.invited],
        "past": [m for m in members if m.status in (TeamMemberStatus.left, TeamMemberStatus.declined)],
        "my_place": next((m for m in members if m.person_id == actor.person_id and m.status in CURRENT_MEMBER_STATUSES), None),
        "hats_worn": [h for h in hats if h.in_force(now)],
        "hats_offered": [h for h in hats if h.status == HatStatus.offered and h.ended_at is None],
        "hats_past": [h for h in hats if not h.in_force(now) and not (h.status == HatStatus.offered and h.ended_at is None)],
        "can": {
            "edit_team": perm.can_edit_team(access),
            "invite": perm.can_invite(access),
            "confirm": perm.can_confirm_for_team(access),
            "end_membership": perm.can_end_membership(access),
            "manage_hats": perm.can_manage_hats(access),
            "see_circle": perm.can_see_circle_details(access),
            "appoint_arranger": perm.can_appoint_arranger(access),
            "end_arranger": perm.can_end_arranger(access),
            "edit_plan": perm.can_edit_plan(access),
            "read_full_plan": perm.can_read_plan(access),
            "suggest": perm.can_suggest_plan_change(access),
            "answer_suggestion": perm.can_answer_suggestion(access),
            "see_private": perm.can_see_private_details(access),
            "edit_private": perm.can_edit_private_details(access),
            "read_history": perm.can_read_audit(access),
            "read_notes": access.is_leader or access.in_circle,
        },
    }
    open_rows = [a for a in list_arrangers(actor, team_id) if a.ended_at is None] if page["can"]["see_circle"] else []
    page["arrangers"] = [a for a in open_rows if a.status == "agreed"]
    # Proposals grant nothing until a second person agrees; the leader and circle see the reason.
    flags = {"is_coop_admin": is_admin(actor, team.cooperative_id)}
    page["arranger_proposals"] = [
        {"arranger": a,
         "can_agree": perm.can_agree_arranger(access, **flags, proposed_by_id=a.appointed_by_id, arranger_id=a.person_id),
         "can_decline": perm.can_decline_arranger(access, **flags, proposed_by_id=a.appointed_by_id,
                                                  arranger_id=a.person_id)}
        for a in open_rows if a.status == "proposed"]
    if perm.can_read_shared_plan(access):
        page["plan_version"], page["plan"], page["plan_trial_view"] = current_plan(actor, team_id)
    if perm.can_see_suggestions(access):
        page["suggestions"] = [s for s in list_suggestions(actor, team_id) if s.status == SuggestionStatus.open]
    if page["can"]["see_private"]:
        page["private"] = get_private_details(actor, team_id)
    if page["can"]["read_history"]:
        page["history"] = team_history(actor, team_id)[-10:][::-1]
    return page


def pending_for(actor: Actor) -> dict:
    """Invitations to teams and hat offers waiting for this person's answer."""
    now = utcnow()
    invitations = list(db.session.scalars(sa.select(TeamMember).where(
        TeamMember.person_id == actor.person_id, TeamMember.status == TeamMemberStatus.invited
    ).order_by(TeamMember.id)))
    offers = [h for h in db.session.scalars(sa.select(Hat).where(
        Hat.person_id == actor.person_id, Hat.status == HatStatus.offered, Hat.ended_at.is_(None)
    ).order_by(Hat.id)) if rules.hat_answerable(h.status, h.expires_at, now)]
    return {"invitations": invitations, "hat_offers": offers}
