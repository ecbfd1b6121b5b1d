"""The support plan: versions, comparisons, and facilitators' suggested changes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ensure
from careteams.extensions import db
from careteams.members.permissions import Actor
from careteams.teams import permissions as perm
from careteams.teams import rules
from careteams.teams.models import PlanSuggestion, SuggestionStatus, SupportPlanVersion, Team
from careteams.teams.permissions import TeamAccess, TeamPermission
from careteams.teams.services.access import get_visible_team
from careteams.teams.services.audit import record
from careteams.teams.services.common import field_error


def _latest_version(team: Team) -> SupportPlanVersion | None:
    return db.session.scalar(sa.select(SupportPlanVersion).where(SupportPlanVersion.team_id == team.id)
                             .order_by(SupportPlanVersion.number.desc()).limit(1))


def current_plan(actor: Actor, team_id: int) -> tuple[SupportPlanVersion | None, dict, bool]:
    """The latest plan as this person may read it: (version, sections, trial_view)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_shared_plan(access))
    version = _latest_version(team)
    sections = version.sections if version else rules.empty_plan()
    if perm.can_read_plan(access):
        return version, sections, False
    return version, rules.shared_with_trial(sections), True


def list_plan_versions(actor: Actor, team_id: int) -> list[SupportPlanVersion]:
    """Every saved version, newest first."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_plan(access))
    return list(db.session.scalars(sa.select(SupportPlanVersion).where(SupportPlanVersion.team_id == team.id)
                                   .order_by(SupportPlanVersion.number.desc())))


def _version(team: Team, number: int) -> SupportPlanVersion:
    version = db.session.scalar(sa.select(SupportPlanVersion).where(
        SupportPlanVersion.team_id == team.id, SupportPlanVersion.number == number))
    if version is None:
        raise NotFound("No such version of the plan.")
    return version


def get_plan_version(actor: Actor, team_id: int, number: int) -> SupportPlanVersion:
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_plan(access))
    return _version(team, number)


def compare_plan_versions(actor: Actor, team_id: int, first: int, second: int) -> tuple[
        SupportPlanVersion, SupportPlanVersion, list[rules.SectionChange]]:
    """Two versions side by side, section by section."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_plan(access))
    a, b = _version(team, first), _version(team, second)
    return a, b, rules.compare_plans(a.sections, b.sections)


def _new_version(team: Team, access: TeamAccess, sections: dict, behalf: str | None, now: datetime,
                 base_number: int | None) -> SupportPlanVersion:
    latest = _latest_version(team)
    latest_number = latest.number if latest else 0
    if base_number is not None and base_number != latest_number:
        raise Conflict("Someone saved the plan while you were editing it. Reload, check their changes and save again.",
                       code="stale_plan")
    previous = latest.sections if latest else rules.empty_plan()
    version = SupportPlanVersion(team_id=team.id, number=latest_number + 1, sections=sections,
                                 author_id=access.person_id, on_behalf=behalf or perm.on_behalf(access, TeamPermission.edit_plan),
                                 created_at=now)
    db.session.add(version)
    db.session.flush()
    # The log names the sections that changed and the versions; the content stays in the plan.
    record(team, access, "plan.saved", f"support_plan:{team.id}",
           before={"version": latest_number or None},
           after={"version": version.number, "sections": rules.changed_sections(previous, sections)},
           permission=TeamPermission.edit_plan, behalf=behalf, now=now)
    return version


def save_plan(actor: Actor, team_id: int, sections: dict, base_version: int | None = None,
              now: datetime | None = None) -> SupportPlanVersion:
    """Save the plan as a new version (the leader, a Plan keeper or an arranger)."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_plan(access))
    latest = _latest_version(team)
    try:
        merged = rules.apply_changes(latest.sections if latest else rules.empty_plan(), sections)
    except ValueError as exc:
        raise field_error("sections", str(exc)) from None
    return _new_version(team, access, merged, None, now, base_version)


def list_suggestions(actor: Actor, team_id: int) -> list[PlanSuggestion]:
    """Suggested changes to the plan, newest first (leader, circle, facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_see_suggestions(access))
    return list(db.session.scalars(sa.select(PlanSuggestion).where(PlanSuggestion.team_id == team.id)
                                   .order_by(PlanSuggestion.id.desc())))


def suggest_plan_change(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> PlanSuggestion:
    """A facilitator suggests a change; nothing changes until the leader accepts it."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_suggest_plan_change(access))
    try:
        rules.apply_changes(rules.empty_plan(), data["sections"])
    except ValueError as exc:
        raise field_error("sections", str(exc)) from None
    if not data["sections"]:
        raise field_error("sections", "Suggest a change to at least one section.")
    latest = _latest_version(team)
    suggestion = PlanSuggestion(team_id=team.id, base_version_number=latest.number if latest else None,
                                sections={k: rules.normalise_sections({k: v})[k] for k, v in data["sections"].items()},
                                note=(data.get("note") or "").strip(), author_id=actor.person_id, created_at=now)
    db.session.add(suggestion)
    db.session.flush()
    record(team, access, "plan.suggested", f"plan_suggestion:{suggestion.id}",
           after={"sections": sorted(data["sections"])}, now=now)
    return suggestion


def answer_suggestion(actor: Actor, team_id: int, suggestion_id: int, accept: bool,
                      now: datetime | None = None) -> PlanSuggestion:
    """The leader (or Plan keeper) accepts a suggestion, making a new version, or declines it."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    suggestion = db.session.get(PlanSuggestion, suggestion_id)
    if suggestion is None or suggestion.team_id != team.id:
        raise NotFound("No such suggestion.")
    ensure(perm.can_answer_suggestion(access))
    if suggestion.status != SuggestionStatus.open:
        raise Conflict("This suggestion has already been answered.", code="not_pending")
    suggestion.status = SuggestionStatus.accepted if accept else SuggestionStatus.declined
    suggestion.answered_by_id = actor.person_id
    suggestion.answered_at = now
    if accept:
        latest = _latest_version(team)
        merged = rules.apply_changes(latest.sections if latest else rules.empty_plan(), suggestion.sections)
        version = _new_version(team, access, merged, None, now, None)
        suggestion.resulting_version_number = version.number
    db.session.flush()
    record(team, access, "plan.suggestion_accepted" if accept else "plan.suggestion_declined",
           f"plan_suggestion:{suggestion.id}", after={"version": suggestion.resulting_version_number},
           permission=TeamPermission.edit_plan, now=now)
    return suggestion


def plan_for_editing(actor: Actor, team_id: int) -> tuple[Team, SupportPlanVersion | None]:
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_edit_plan(access))
    return team, _latest_version(team)

