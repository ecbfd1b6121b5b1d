"""The team's audit log: append an entry, read the history."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import ensure
from careteams.extensions import db
from careteams.members.permissions import Actor
from careteams.teams import permissions as perm
from careteams.teams.models import AuditEntry, Team
from careteams.teams.permissions import TeamAccess, TeamPermission
from careteams.teams.services import places
from careteams.teams.services.access import get_visible_team


def record(team: Team, access: TeamAccess | None, action: str, subject: str, *,
           before: dict | None = None, after: dict | None = None,
           permission: TeamPermission | None = None, behalf: str | None = None,
           now: datetime | None = None) -> AuditEntry:
    """Append one entry to the team's audit log (no plan or health content in it)."""
    entry = AuditEntry(
        team_id=team.id, at=now or utcnow(), actor_id=access.person_id if access else None,
        on_behalf=behalf or (perm.on_behalf(access, permission) if access else "system"),
        action=action, subject=subject, before=before, after=after,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


class AuditView:
    """An entry as one reader sees it: the team's coordinates exact or an area (places)."""

    def __init__(self, entry: AuditEntry, access: TeamAccess):
        self.entry = entry
        self.before = places.audit_values(access, entry.before)
        self.after = places.audit_values(access, entry.after)

    def __getattr__(self, name):  # id, at, actor, action... come from the entry
        return getattr(self.entry, name)


def team_history(actor: Actor, team_id: int) -> list[AuditView]:
    """The team's audit log, oldest first (leader, circle, facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_read_audit(access))
    return [AuditView(entry, access) for entry in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.team_id == team.id).order_by(AuditEntry.at, AuditEntry.id)
    )]

