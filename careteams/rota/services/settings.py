"""Each co-op's rota settings: the defaults, and its admins changing them."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from careteams.errors import ValidationError, ensure
from careteams.extensions import db
from careteams.members.permissions import Actor, is_admin
from careteams.rota import rules
from careteams.rota.models import RotaSettings


def settings_for(cooperative_id: int) -> RotaSettings:
    """The co-op's rota settings, or the defaults (not saved) when it has none."""
    row = db.session.scalar(sa.select(RotaSettings).where(RotaSettings.cooperative_id == cooperative_id))
    if row is not None:
        return row
    return _defaults(cooperative_id)


def settings_for_many(cooperative_ids: Iterable[int]) -> dict[int, RotaSettings]:
    """settings_for for several co-ops in one query (a worker's offers across co-ops)."""
    ids = set(cooperative_ids)
    if not ids:
        return {}
    rows = {r.cooperative_id: r for r in db.session.scalars(
        sa.select(RotaSettings).where(RotaSettings.cooperative_id.in_(ids)))}
    return {cid: rows.get(cid) or _defaults(cid) for cid in ids}


def _defaults(cooperative_id: int) -> RotaSettings:
    return RotaSettings(cooperative_id=cooperative_id, blocking_checks=[], allow_short_personal_care=False,
                        travel_speed_kmh=20, offer_wave_size=0, offer_ttl_minutes=120,
                        missed_visit_minutes=15, horizon_weeks=8)


def update_settings(actor: Actor, cooperative_id: int, changes: dict) -> RotaSettings:
    """Change a co-op's rota settings (its admins)."""
    ensure(is_admin(actor, cooperative_id), not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    unknown = set(changes.get("blocking_checks", [])) - set(rules.CHECK_CODES)
    if unknown:
        raise ValidationError(details={"fields": {"blocking_checks": [f"Unknown checks: {', '.join(sorted(unknown))}."]}})
    row = db.session.scalar(sa.select(RotaSettings).where(RotaSettings.cooperative_id == cooperative_id))
    if row is None:
        row = settings_for(cooperative_id)
        db.session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.flush()
    return row
