"""Who may do what with resolutions, ballots and the register. Pure predicates."""

from __future__ import annotations

from careteams.members.permissions import Actor, is_admin, is_secretary


def can_manage_resolutions(actor: Actor, cooperative_id: int) -> bool:
    """Create, edit and open resolutions: the secretary."""
    return is_secretary(actor, cooperative_id)


def can_see_resolutions(actor: Actor, cooperative_id: int) -> bool:
    """Open and closed resolutions (and their results): the co-op's members and staff."""
    return cooperative_id in actor.member_of or actor.is_staff(cooperative_id)


def can_see_drafts(actor: Actor, cooperative_id: int) -> bool:
    return is_secretary(actor, cooperative_id)


def can_vote(actor: Actor, cooperative_id: int, in_electorate: bool) -> bool:
    """Vote, appoint a proxy or hold one: an active member who was in the frozen electorate."""
    return cooperative_id in actor.member_of and in_electorate


def can_view_register(actor: Actor, cooperative_id: int) -> bool:
    """The register and its export: the secretary, and admins (who may manage it too)."""
    return is_secretary(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_view_own_membership(actor: Actor, membership_person_id: int) -> bool:
    return actor.person_id == membership_person_id


def can_give_share(actor: Actor, teller_person_ids: set[int]) -> bool:
    """See one's own share, and give it to open the count: the resolution's tellers only."""
    return actor.person_id in teller_person_ids
