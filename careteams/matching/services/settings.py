"""The co-op's matching settings (review switch, required training) and its skill list."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching.models import MatchingSettings, Skill
from careteams.matching.services.common import (
    DEFAULT_CHECK_WARNING_DAYS,
    DEFAULT_INTRODUCTION_STALE_DAYS,
)
from careteams.members.models import Cooperative
from careteams.members.permissions import Actor


def matching_settings(cooperative_id: int) -> MatchingSettings:
    """The co-op's matching settings (defaults when never changed; not added to the session)."""
    found = db.session.scalar(sa.select(MatchingSettings).where(MatchingSettings.cooperative_id == cooperative_id))
    return found or MatchingSettings(cooperative_id=cooperative_id, review_required=True,
                                     introduction_stale_days=DEFAULT_INTRODUCTION_STALE_DAYS,
                                     check_warning_days=DEFAULT_CHECK_WARNING_DAYS, required_training=[])


def update_matching_settings(actor: Actor, coop: Cooperative, changes: dict) -> MatchingSettings:
    """Change the co-op's matching settings (admins), e.g. switch facilitator review off."""
    ensure(perm.can_edit_matching_settings(actor, coop.id))
    current = matching_settings(coop.id)
    if current.id is None:
        db.session.add(current)
    for key, value in changes.items():
        setattr(current, key, value)
    db.session.flush()
    return current


def list_skills(actor: Actor, coop: Cooperative) -> list[Skill]:
    """The co-op's skill list (anyone who belongs to or works for the co-op)."""
    return list(db.session.scalars(sa.select(Skill).where(Skill.cooperative_id == coop.id).order_by(Skill.name)))


def add_skill(actor: Actor, coop: Cooperative, name: str) -> Skill:
    """Add a skill to the co-op's list (facilitators and admins)."""
    ensure(perm.can_edit_skills(actor, coop.id))
    name = name.strip()
    if db.session.scalar(sa.select(Skill.id).where(Skill.cooperative_id == coop.id,
                                                   sa.func.lower(Skill.name) == name.lower())):
        raise Conflict("That skill is already on the list.", details={"fields": {"name": ["Already on the list."]}})
    skill = Skill(cooperative_id=coop.id, name=name, active=True)
    db.session.add(skill)
    db.session.flush()
    return skill


def update_skill(actor: Actor, coop: Cooperative, skill_id: int, changes: dict) -> Skill:
    """Rename a skill or take it off the list for new choices (facilitators and admins)."""
    ensure(perm.can_edit_skills(actor, coop.id))
    skill = db.session.get(Skill, skill_id)
    if skill is None or skill.cooperative_id != coop.id:
        raise NotFound("No such skill.")
    name = (changes.get("name") or "").strip()
    if name and db.session.scalar(sa.select(Skill.id).where(Skill.cooperative_id == coop.id, Skill.id != skill.id,
                                                            sa.func.lower(Skill.name) == name.lower())):
        raise Conflict("Another skill has that name.", details={"fields": {"name": ["Another skill has that name."]}})
    for key, value in changes.items():
        setattr(skill, key, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return skill


def skills_by_id(coop_id: int, ids: Iterable[int], field: str) -> list[Skill]:
    ids = set(ids)
    if not ids:
        return []
    found = list(db.session.scalars(sa.select(Skill).where(Skill.cooperative_id == coop_id, Skill.id.in_(ids),
                                                             Skill.active.is_(True))))
    if len(found) != len(ids):
        raise ValidationError(details={"fields": {field: ["Choose skills from the co-op's list."]}})
    return found
