"""Who may do what with a co-op, its register and its staff roles.

Pure predicates over an Actor (a person and the staff roles they hold); every
route, SMS command and job asks these, through careteams.errors.ensure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from careteams.members.enums import StaffRoleName


@dataclass(frozen=True)
class Actor:
    person_id: int
    # (cooperative_id, role) pairs.
    staff_roles: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    # cooperative_ids where the person has an active membership.
    member_of: frozenset[int] = field(default_factory=frozenset)

    def has_role(self, cooperative_id: int, role: StaffRoleName) -> bool:
        return (cooperative_id, role.value) in self.staff_roles

    def is_staff(self, cooperative_id: int) -> bool:
        return any(c == cooperative_id for c, _ in self.staff_roles)


def is_facilitator(actor: Actor, cooperative_id: int) -> bool:
    return actor.has_role(cooperative_id, StaffRoleName.facilitator)


def is_secretary(actor: Actor, cooperative_id: int) -> bool:
    return actor.has_role(cooperative_id, StaffRoleName.secretary)


def is_admin(actor: Actor, cooperative_id: int) -> bool:
    return actor.has_role(cooperative_id, StaffRoleName.admin)


def can_edit_cooperative_settings(actor: Actor, cooperative_id: int) -> bool:
    return is_admin(actor, cooperative_id)


def can_manage_staff_roles(actor: Actor, cooperative_id: int) -> bool:
    return is_admin(actor, cooperative_id)


def can_invite_person(actor: Actor, cooperative_id: int) -> bool:
    # Facilitators bring people in for teams; the secretary for the register.
    return is_facilitator(actor, cooperative_id) or is_secretary(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_view_people(actor: Actor, cooperative_id: int) -> bool:
    """The co-op's people list and each person's page: whoever may bring people in."""
    return can_invite_person(actor, cooperative_id)


def can_edit_person(actor: Actor, cooperative_id: int) -> bool:
    """Change the name, email or mobile of someone in the co-op's reach (its admins)."""
    return is_admin(actor, cooperative_id)


def can_deactivate_person(actor: Actor, cooperative_id: int, person_id: int) -> bool:
    """Switch someone's account off (or on again): the co-op's admins, never for themselves."""
    return is_admin(actor, cooperative_id) and person_id != actor.person_id


def can_manage_register(actor: Actor, cooperative_id: int) -> bool:
    # The secretary keeps the register; admins may too (issue 18: an admin takes a new
    # worker from invitation to an admitted membership without waiting for the secretary).
    return is_secretary(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_view_register(actor: Actor, cooperative_id: int) -> bool:
    return is_secretary(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_view_cooperative(actor: Actor, cooperative_id: int) -> bool:
    return cooperative_id in actor.member_of or actor.is_staff(cooperative_id)
