"""Who may do what with a team's rota: pure predicates over a TeamAccess.

Seeing the team at all (else 404) is teams.permissions.can_see_team; these decide
what a person who can see it may do with its rota.
"""

from __future__ import annotations

from careteams.teams.permissions import TeamAccess, TeamPermission, can_see_private_details, holds


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


def can_act_on_escalated(access: TeamAccess) -> bool:
    """A visit the clock passed to the co-op's facilitators (rules.escalated_to_facilitators;
    the service refuses any other visit with 409): the co-op's facilitators may offer it to
    eligible workers of the co-op outside the team. The escalation stands in for the team's
    consent to an outside offer, for that visit alone: the leader and the circle were told and
    nobody filled it. A worker still says yes herself (the offer's accept path books her);
    facilitators never book anyone directly into a team they do not lead."""
    return access.is_facilitator


def can_cancel_shift(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.edit_rota)


def can_approve_swap(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.edit_rota)


def can_see_cover_and_swaps(access: TeamAccess) -> bool:
    """The team's page of cover requests and swaps: those who arrange cover (offer shifts)
    or decide swaps. Each action on it asks its own predicate."""
    return can_offer_shifts(access) or can_approve_swap(access)


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


# --- the worker's own visit page ----------------------------------------------


def can_see_own_visit(*, is_booked: bool, has_live_offer: bool) -> bool:
    """A worker's visit page: hers while she is booked on the visit (or was, once it is
    done) or holds a live offer for it; to anyone else it does not exist (404)."""
    return is_booked or has_live_offer


def can_see_visit_address(access: TeamAccess, *, is_booked: bool, around_visit: bool) -> bool:
    """The address and access notes on her visit page: only to the booked worker, only
    if the team's privacy rules let her see them (teams.permissions), and only around
    the visit (rules.around_visit). An offered worker has not said yes yet."""
    return is_booked and around_visit and can_see_private_details(access)
