"""Who may do what with hours: pure predicates over a TeamAccess (teams.services.team_access).

- The worker whose hours they are logs, edits, submits, and accepts or rejects an adjustment.
- The leader, an arranger or a circle member wearing a hat with `confirm_hours`
  (an Hours checker) confirms, proposes an adjustment or disputes; never their own hours.
- The co-op's facilitators resolve disputes and make pay runs; they do not confirm hours.
- A dispute is a conversation: the worker answers, a checker replies (or confirms the
  hours as logged), a facilitator settles; everyone who sees the entry sees its history.
- The supported member (the leader), her arrangers and a circle member wearing a hat
  with `see_money` read the team's invoices (`can_see_team_money`); a worker reads her
  own statements (`can_see_statement`), as do the co-op's facilitators and admins.
- Anyone else does not know the entry exists (404).
"""

from __future__ import annotations

from careteams.members.permissions import Actor, is_admin, is_facilitator
from careteams.teams.permissions import TeamAccess, TeamPermission, holds


def is_checker(access: TeamAccess) -> bool:
    return holds(access, TeamPermission.confirm_hours)


def can_see_entry(access: TeamAccess, worker_id: int) -> bool:
    return access.person_id == worker_id or is_checker(access) or access.is_facilitator


def can_act_as_worker(access: TeamAccess, worker_id: int) -> bool:
    return access.person_id == worker_id


def can_log_hours(access: TeamAccess) -> bool:
    """A worker logs unplanned paid support only in a team where they have a paid place
    (trial or active); a volunteer or circle place never logs paid hours."""
    return access.has_paid_place


def can_check_entry(access: TeamAccess, worker_id: int) -> bool:
    """Nobody confirms (adjusts, disputes) their own hours."""
    return is_checker(access) and access.person_id != worker_id


def can_resolve_dispute(access: TeamAccess, worker_id: int) -> bool:
    return access.is_facilitator and access.person_id != worker_id


def can_answer_dispute(access: TeamAccess, worker_id: int) -> bool:
    """Only the worker answers a dispute about their hours."""
    return access.person_id == worker_id


def can_reply_to_dispute(access: TeamAccess, worker_id: int) -> bool:
    """The leader or an Hours checker replies to the worker (never about their own hours)."""
    return can_check_entry(access, worker_id)


def can_see_history(access: TeamAccess, worker_id: int) -> bool:
    return can_see_entry(access, worker_id)


def can_correct_entry(access: TeamAccess, worker_id: int) -> bool:
    return can_act_as_worker(access, worker_id) or can_check_entry(access, worker_id)


def can_run_pay(actor: Actor, cooperative_id: int) -> bool:
    return is_facilitator(actor, cooperative_id) or is_admin(actor, cooperative_id)


def can_set_pay_settings(actor: Actor, cooperative_id: int) -> bool:
    return is_admin(actor, cooperative_id)


def can_set_team_terms(access: TeamAccess) -> bool:
    """Funders, area band and agreed rates: the co-op's facilitators set them with the team."""
    return access.is_facilitator


def can_see_team_terms(access: TeamAccess) -> bool:
    return access.is_facilitator or is_checker(access)


def can_see_team_money(access: TeamAccess) -> bool:
    """The team's invoices, per visit and per funder: the supported member, her arrangers
    and a circle member whose hat carries `see_money` (no default hat does)."""
    return holds(access, TeamPermission.see_money)


def can_see_statement(actor: Actor, cooperative_id: int, worker_id: int) -> bool:
    """A worker's statement or payslip lines in a run: hers, and the co-op's pay staff."""
    return actor.person_id == worker_id or can_run_pay(actor, cooperative_id)
