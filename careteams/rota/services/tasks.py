"""Tasks from the support plan a visit (or a recurring visit) may carry: the plan's
routines, personal care and outcomes, read only by those who may read the plan."""

from __future__ import annotations

from careteams.errors import ValidationError
from careteams.members.permissions import Actor
from careteams.rota import rules
from careteams.teams import permissions as team_perm
from careteams.teams.models import Team
from careteams.teams.services import plans


def plan_tasks(actor: Actor, team: Team, access) -> list[str]:
    """The tasks of the team's current support plan a visit may carry (none for someone
    who may not read the plan)."""
    if not team_perm.can_read_plan(access):
        return []
    _, sections, _ = plans.current_plan(actor, team.id)
    return rules.plan_tasks(sections)


def chosen_tasks(actor: Actor, team: Team, access, chosen: list[str]) -> list[str]:
    """The chosen tasks in the plan's order, each once; a 422 for any task not in the plan."""
    if not chosen:
        return []
    allowed = plan_tasks(actor, team, access)
    if any(t not in allowed for t in chosen):
        raise ValidationError(details={"fields": {"tasks": ["Choose tasks from the current support plan."]}})
    return [t for t in allowed if t in set(chosen)]
