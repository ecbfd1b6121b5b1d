"""Worker-profile lookups the rota needs, behind one seam (a helper of the rota's services).

The matching domain owns worker profiles (skills, checks such as DBS, the 48-hour
opt-out); the rota asks through these functions only, so tests can monkeypatch
one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import WorkerProfile
from careteams.matching.services import profiles


def worker_eligibility(person_ids: Iterable[int], required_skills: Iterable[str], at: datetime) -> dict[int, list[str]]:
    """Reasons each worker may not take a shift needing `required_skills` at `at` (empty = eligible).

    A worker with no profile has no valid checks, so is never eligible."""
    return profiles.worker_eligibility(list(person_ids), list(required_skills), at)


def weekly_hours_opt_out(person_id: int) -> bool:
    """Whether the worker opted out of the 48-hour average week in writing."""
    return profiles.weekly_hours_opt_out(person_id) is not None


def weekly_hours_opt_outs(person_ids: Iterable[int]) -> dict[int, bool]:
    """weekly_hours_opt_out for many workers in one query (rota pages)."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return {}
    opted = set(db.session.scalars(sa.select(WorkerProfile.person_id).where(
        WorkerProfile.person_id.in_(ids), WorkerProfile.opt_out_48h_signed_on.is_not(None))))
    return {pid: pid in opted for pid in ids}
