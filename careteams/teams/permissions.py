"""Who may do what in a team: pure predicates over a TeamAccess.

A team is private to its leader, its circle (people wearing hats), its members
and its co-op's facilitators; to everyone else it does not exist (404).
A TeamAccess is built by teams.services.access.team_access(actor, team) and says what
the actor is to that team; these predicates decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from careteams.teams.enums import TeamMemberStatus, TeamPermission, TeamRole


@dataclass(frozen=True)
class TeamAccess:
    person_id: int
    team_id: int
    is_leader: bool = False
    is_facilitator: bool = False  # of the team's co-op
    is_arranger: bool = False
    # Permissions from hats that are accepted, not expired and not taken back.
    hat_permissions: frozenset[str] = field(default_factory=frozenset)
    member_status: TeamMemberStatus | None = None  # the actor's current place, if any
    member_role: TeamRole | None = None  # the role of that place (paid worker, volunteer, family...)
    # (permission, hat name) pairs for the hats in force: says on whose behalf
    # a circle member acted, for the audit log.
    hat_grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def in_circle(self) -> bool:
        return bool(self.hat_permissions) or self.is_arranger

    @property
    def is_active_member(self) -> bool:
        return self.member_status == TeamMemberStatus.active

    @property
    def is_trial_member(self) -> bool:
        return self.member_status == TeamMemberStatus.trial

    @property
    def has_paid_place(self) -> bool:
        """A paid worker's place (trial or active), which only matching gives. A circle or
        volunteer place never makes anyone bookable, offered, or able to log paid hours."""
        return self.member_role == TeamRole.paid_worker and self.member_status in (
            TeamMemberStatus.trial, TeamMemberStatus.active)


def holds(access: TeamAccess, permission: TeamPermission) -> bool:
    """The leader and an arranger hold every permission; others only through hats."""
    return access.is_leader or access.is_arranger or permission.value in access.hat_permissions


def has_own_standing(access: TeamAccess) -> bool:
    """She leads the team, is in its circle, or has a place in it (trial or active): a
    standing of her own, not only her co-op's facilitator's."""
    return (access.is_leader or access.in_circle
            or access.member_status in (TeamMemberStatus.active, TeamMemberStatus.trial))


def can_see_team(access: TeamAccess) -> bool:
    return has_own_standing(access) or access.is_facilitator


# --- what each team action needs ---------------------------------------------
# Every service asks one of these; refused actors who can see the team get 403,
# everyone else already got 404 from get_visible_team.


def can_edit_team(access: TeamAccess) -> bool:
    """Name, area and settings: the leader (or an arranger acting for them)."""
    return access.is_leader or access.is_arranger


def can_see_private_details(access: TeamAccess) -> bool:
    # Not facilitators and not trial workers: the address and door codes are for
    # the people the leader has said yes to.
    return access.is_leader or access.in_circle or access.is_active_member


def can_edit_private_details(access: TeamAccess) -> bool:
    return access.is_leader or access.is_arranger


def can_invite(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.invite_people)


def can_confirm_for_team(access: TeamAccess) -> bool:
    """Confirm, for the team, that a trial member becomes active: the same side that
    answers the match in matching (one state machine, one rule)."""
    return holds(access, TeamPermission.answer_matches)


def can_end_membership(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.end_membership)


def can_manage_hats(access: TeamAccess) -> bool:
    """Offer and take back hats: the leader's own power, which an arranger holds for them."""
    return access.is_leader or access.is_arranger


def can_see_circle_details(access: TeamAccess) -> bool:
    """Who wears which hat, offers waiting, arrangers and the reason they were appointed."""
    return access.is_leader or access.in_circle or access.is_facilitator


def can_appoint_arranger(access: TeamAccess) -> bool:
    """Propose an arranger (never oneself); it takes effect only with a second yes."""
    return access.is_facilitator


def can_agree_arranger(access: TeamAccess, *, is_coop_admin: bool, proposed_by_id: int, arranger_id: int) -> bool:
    """The second yes to a proposed arranger: another facilitator or an admin of the
    co-op, or the leader. Never the one who proposed it, nor the person proposed."""
    if access.person_id in (proposed_by_id, arranger_id):
        return False
    return access.is_leader or access.is_facilitator or is_coop_admin


def can_decline_arranger(access: TeamAccess, *, is_coop_admin: bool, proposed_by_id: int, arranger_id: int) -> bool:
    """Say no to a proposal: whoever could agree, or the proposer taking it back."""
    return access.person_id == proposed_by_id or can_agree_arranger(
        access, is_coop_admin=is_coop_admin, proposed_by_id=proposed_by_id, arranger_id=arranger_id)


def can_end_arranger(access: TeamAccess, *, arranger_id: int | None = None) -> bool:
    # The leader can always take their own team back; an arranger may step down.
    return access.is_facilitator or access.is_leader or (arranger_id is not None and access.person_id == arranger_id)


def can_read_plan(access: TeamAccess) -> bool:
    """The whole plan; a trial member reads only the sections shared with trial workers."""
    return access.is_leader or access.in_circle or access.is_facilitator or access.is_active_member


def can_read_shared_plan(access: TeamAccess) -> bool:
    return can_read_plan(access) or access.is_trial_member


def can_edit_plan(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.edit_plan)


def can_suggest_plan_change(access: TeamAccess) -> bool:
    return access.is_facilitator


def can_see_suggestions(access: TeamAccess) -> bool:
    return access.is_leader or access.in_circle or access.is_facilitator


def can_leave(access: TeamAccess) -> bool:
    return access.member_status in (TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active)


def can_answer_suggestion(access: TeamAccess) -> bool:
    return can_edit_plan(access)


def can_read_audit(access: TeamAccess) -> bool:
    return access.is_leader or access.in_circle or access.is_facilitator


def can_create_team(*, actor_is_leader: bool, actor_is_facilitator: bool, leader_is_supported_member: bool) -> bool:
    """A supported member starts their own team, or a facilitator starts it for them."""
    return leader_is_supported_member and (actor_is_leader or actor_is_facilitator)


def on_behalf(access: TeamAccess, permission: TeamPermission | None = None) -> str:
    """Whose authority an action used, for the audit log."""
    if access.is_leader:
        return "leader"
    if access.is_arranger:
        return "arranger"
    if permission is not None:
        names = sorted(name for perm, name in access.hat_grants if perm == permission.value)
        if names:
            return "hat:" + ", ".join(names)
    if access.is_facilitator:
        return "facilitator"
    return "self"


def can_define_hat_types(is_coop_admin: bool) -> bool:
    """Another kind of hat (a name and the permissions it carries) is defined by the co-op's admins."""
    return is_coop_admin
