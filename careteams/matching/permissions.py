"""Who may do what in matching: pure predicates over an Actor or a TeamAccess.

The team side acts through the leader, an arranger or a hat: posting a vacancy
needs `invite_people` (the Team builder hat), answering and confirming needs
`answer_matches`. The worker side is the worker alone. Facilitators review,
hold and report, but never answer for either side.
"""

from __future__ import annotations

from careteams.matching.enums import Side
from careteams.matching.rules import Action
from careteams.members.enums import MemberClass
from careteams.members.permissions import Actor, is_admin, is_facilitator
from careteams.teams.permissions import TeamAccess, TeamPermission, holds

# Which side may ask for each action (the state machine then says whether it fits now).
ACTION_SIDES: dict[Action, frozenset[Side]] = {
    Action.answer_yes: frozenset({Side.team, Side.worker}),
    Action.answer_no: frozenset({Side.team, Side.worker}),
    Action.approve: frozenset({Side.facilitator}),
    Action.decline: frozenset({Side.facilitator}),
    Action.hold: frozenset({Side.facilitator}),
    Action.release: frozenset({Side.facilitator}),
    Action.record_introduction: frozenset({Side.team, Side.worker, Side.facilitator}),
    Action.start_trial: frozenset({Side.team, Side.worker}),
    Action.record_shift: frozenset({Side.team, Side.worker}),
    Action.confirm: frozenset({Side.team, Side.worker}),
    Action.withdraw: frozenset({Side.team, Side.worker}),
}


def can_post_vacancy(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.invite_people)


def can_answer_for_team(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.answer_matches)


def can_view_team_vacancies(access: TeamAccess) -> bool:
    """The team side (posting or answering) and the co-op's facilitators."""
    return can_post_vacancy(access) or can_answer_for_team(access) or access.is_facilitator


def can_read_team_note(access: TeamAccess) -> bool:
    """The team side's private note is the team side's: a facilitator as such never reads it."""
    return can_post_vacancy(access) or can_answer_for_team(access)


# The facilitator's review of a match: approving or declining it, holding it, releasing a hold.
REVIEW_ACTIONS = frozenset({Action.approve, Action.decline, Action.hold, Action.release})


def can_review_match(actor: Actor, cooperative_id: int, team_answered_by_id: int | None, worker_id: int) -> bool:
    """A facilitator of the co-op reviews a match, never someone who answered it:
    whoever answered for the team (or the worker herself) is a party, not a reviewer."""
    return is_facilitator(actor, cooperative_id) and actor.person_id not in (team_answered_by_id, worker_id)


def answered_the_match(actor: Actor, team_answered_by_id: int | None, worker_id: int) -> bool:
    """Whether the actor gave one side's answer (why a review is refused: separation of duties)."""
    return actor.person_id in (team_answered_by_id, worker_id)


def can_keep_worker_profile(actor: Actor, cooperative_id: int, member_class: MemberClass | None) -> bool:
    return cooperative_id in actor.member_of and member_class == MemberClass.worker


def can_give_equality_data(actor: Actor, cooperative_id: int, member_class: MemberClass | None) -> bool:
    """Equality data is a worker member's own, given voluntarily (the page and the API ask this)."""
    return can_keep_worker_profile(actor, cooperative_id, member_class)


def can_edit_skills(actor: Actor, cooperative_id: int) -> bool:
    return is_facilitator(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_edit_matching_settings(actor: Actor, cooperative_id: int) -> bool:
    return is_admin(actor, cooperative_id)


def can_record_checks(actor: Actor, cooperative_id: int) -> bool:
    # Checks are verified by co-op staff (its facilitators and admins) from the documents,
    # never self-declared. A check concerns the worker, not a team's private life.
    return is_facilitator(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_view_queue(actor: Actor, cooperative_id: int) -> bool:
    return is_facilitator(actor, cooperative_id)


def can_view_day(actor: Actor, cooperative_id: int) -> bool:
    """The facilitators' day across the co-op's teams: its facilitators and admins."""
    return is_facilitator(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_view_fairness(actor: Actor, cooperative_id: int) -> bool:
    return is_facilitator(actor, cooperative_id)


def may_take(action: Action, sides: frozenset[Side]) -> bool:
    """Whether any side the person acts for may ask for `action` at all."""
    return bool(ACTION_SIDES[action] & sides)


def side_for(action: Action, sides: frozenset[Side]) -> Side:
    """The side a person acts as: the worker acts for themselves before anything else."""
    for side in (Side.worker, Side.team, Side.facilitator):
        if side in sides and side in ACTION_SIDES[action]:
            return side
    raise ValueError("no side may take this action")
