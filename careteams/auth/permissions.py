"""Who may reset whose second factor. Pure predicates over an Actor (no Flask, no database)."""

from __future__ import annotations

from careteams.members.permissions import Actor, is_admin


def can_list_second_factors(actor: Actor, cooperative_id: int) -> bool:
    return is_admin(actor, cooperative_id)


def can_reset_second_factor(actor: Actor, cooperative_id: int, person_id: int, person_is_staff_here: bool) -> bool:
    """Another admin of the same co-op resets a lost factor; nobody resets their own
    (that would let whoever holds a stolen password replace the factor)."""
    return is_admin(actor, cooperative_id) and person_is_staff_here and person_id != actor.person_id
