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
from careteams.members.models import MemberClass, Membership, MembershipStatus, Person


def worker_eligibility(person_ids: Iterable[int], required_skills: Iterable[str], at: datetime,
                       cooperative_id: int | None = None) -> dict[int, list[str]]:
    """Reasons each worker may not take a shift needing `required_skills` at `at` (empty = eligible).

    A worker with no profile has no valid checks, so is never eligible. With `cooperative_id`,
    only the profile (and checks) kept in that co-op count."""
    return profiles.worker_eligibility(list(person_ids), list(required_skills), at, cooperative_id)


def coop_worker_places(cooperative_id: int, person_ids: Iterable[int] | None = None) -> dict[int, tuple[float, float]]:
    """The co-op's workers who may be offered its shifts (an active worker membership, an
    active account, a profile in this co-op that is available), with where they live."""
    query = (sa.select(WorkerProfile.person_id, WorkerProfile.latitude, WorkerProfile.longitude)
             .join(Membership, (Membership.person_id == WorkerProfile.person_id)
                   & (Membership.cooperative_id == WorkerProfile.cooperative_id))
             .join(Person, Person.id == WorkerProfile.person_id)
             .where(WorkerProfile.cooperative_id == cooperative_id, WorkerProfile.available,
                    Membership.member_class == MemberClass.worker, Membership.status == MembershipStatus.active,
                    Person.active))
    if person_ids is not None:
        query = query.where(WorkerProfile.person_id.in_(list(person_ids)))
    return {pid: (lat, lon) for pid, lat, lon in db.session.execute(query)}


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
