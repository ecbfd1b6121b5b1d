"""Who may do what with a team's rota: pure predicates over a TeamAccess.

Seeing the team at all (else 404) is teams.permissions.can_see_team; these decide
what a person who can see it may do with its rota.
"""

from __future__ import annotations

from careteams.teams.permissions import TeamAccess, TeamPermission, holds


def can_view_rota(access: TeamAccess) -> bool:
    """The leader, the circle, the co-op's facilitators and the team's active members.
    A trial worker sees only their own shifts."""
    return access.is_leader or access.in_circle or access.is_facilitator or access.is_active_member


def can_edit_rota(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.edit_rota)


def can_offer_shifts(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.edit_rota) or holds(access, TeamPermission.offer_shifts)


def can_consent_outside_offer(access: TeamAccess) -> bool:
    """Offering a shift to someone outside the team: the leader or a Rota wrangler, per shift."""
    return holds(access, TeamPermission.edit_rota)


def can_cancel_shift(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.edit_rota)


def can_approve_swap(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.edit_rota)


def can_take_team_shifts(access: TeamAccess) -> bool:
    """Offers go to active paid workers only (a trial worker is booked directly)."""
    return access.is_active_member and access.has_paid_place


def can_be_booked(access: TeamAccess, is_trial_shift: bool) -> bool:
    """Only a paid place (which comes through matching) is bookable; a volunteer or family place never is."""
    return access.has_paid_place and (access.is_active_member or (is_trial_shift and access.is_trial_member))


def can_have_team_feed(access: TeamAccess) -> bool:
    """The circle's calendar of the whole rota."""
    return access.is_leader or access.in_circle


def can_follow_offers(access: TeamAccess) -> bool:
    """Who was offered a visit, who said no, who has not answered: those who offer shifts,
    and the co-op's facilitators (the clock escalates unfilled visits to them)."""
    return can_offer_shifts(access) or access.is_facilitator
