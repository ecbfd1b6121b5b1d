"""Worker profiles: skills, availability, checks, equality data, and who may work when."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams import geo
from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import (
    AvailabilityWindow,
    EqualityData,
    MatchingSettings,
    WorkerCheck,
    WorkerProfile,
)
from careteams.matching.services.common import check_facts, profile_of
from careteams.matching.services.settings import skills_by_id
from careteams.members.models import Cooperative, Membership, MembershipStatus
from careteams.members.permissions import Actor


def _member_class(actor: Actor, coop_id: int):
    return db.session.scalar(sa.select(Membership.member_class).where(
        Membership.cooperative_id == coop_id, Membership.person_id == actor.person_id,
        Membership.status == MembershipStatus.active))


def get_own_profile(actor: Actor, coop: Cooperative) -> WorkerProfile:
    """The actor's own worker profile in this co-op."""
    profile = profile_of(coop.id, actor.person_id)
    if profile is None:
        raise NotFound("You have no worker profile here yet.")
    return profile


def save_profile(actor: Actor, coop: Cooperative, data: dict) -> WorkerProfile:
    """Create or update the actor's own worker profile (worker members only)."""
    ensure(perm.can_keep_worker_profile(actor, coop.id, _member_class(actor, coop.id)))
    skills = skills_by_id(coop.id, data.pop("skill_ids", []), "skill_ids")
    windows = data.pop("windows", [])
    postcode, latitude, longitude = data.pop("postcode", None), data.pop("latitude", None), data.pop("longitude", None)
    profile = profile_of(coop.id, actor.person_id)
    if profile is None:
        profile = WorkerProfile(cooperative_id=coop.id, person_id=actor.person_id)
        db.session.add(profile)
    # The postcode's point from the geocoder; if it cannot answer now, saved all the same
    # and left out of suggestions until the retry job finds it (matching.geocode_places).
    geo.set_place(profile, postcode, latitude, longitude)
    if profile.postcode:
        data["district"] = geo.district_of(profile.postcode)
    for key, value in data.items():
        setattr(profile, key, value)
    profile.skills = skills
    profile.windows = [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in windows]
    db.session.flush()
    return profile


def record_check(actor: Actor, coop: Cooperative, person_id: int, data: dict) -> WorkerCheck:
    """Record a check or training item a facilitator has seen the evidence for."""
    ensure(perm.can_record_checks(actor, coop.id))
    profile = profile_of(coop.id, person_id)
    if profile is None:
        raise NotFound("That person has no worker profile here.")
    check = WorkerCheck(worker_profile_id=profile.id, kind=data["kind"], name=data.get("name") or "",
                        reference=(data.get("reference") or "").strip(), checked_on=data["checked_on"],
                        expires_on=data.get("expires_on"), recorded_by_id=actor.person_id)
    db.session.add(check)
    db.session.flush()
    db.session.expire(profile, ["checks"])
    return check


def _own_equality_row(actor: Actor, coop: Cooperative) -> EqualityData | None:
    return db.session.scalar(sa.select(EqualityData).where(EqualityData.cooperative_id == coop.id,
                                                           EqualityData.person_id == actor.person_id))


def may_give_equality_data(actor: Actor, coop: Cooperative) -> bool:
    """Whether the actor may give (or change) equality data in this co-op."""
    return perm.can_give_equality_data(actor, coop.id, _member_class(actor, coop.id))


def own_equality_data(actor: Actor, coop: Cooperative, *, changing: bool = False) -> tuple[EqualityData | None, bool]:
    """The actor's own equality answers here (or None) and whether she may give or change them.

    Someone who may not give any (no longer a worker member) sees only answers she gave
    before, to withdraw them; with none, or when `changing`, she is refused."""
    row = _own_equality_row(actor, coop)
    may_give = may_give_equality_data(actor, coop)
    if row is None or changing:
        ensure(may_give)
    return row, may_give


def save_equality_data(actor: Actor, coop: Cooperative, data: dict) -> EqualityData:
    """The worker's own, voluntary equality data (only ever reported in aggregate)."""
    ensure(may_give_equality_data(actor, coop))
    row = _own_equality_row(actor, coop)
    if row is None:
        row = EqualityData(cooperative_id=coop.id, person_id=actor.person_id)
        db.session.add(row)
    for key in ("ethnicity", "gender", "age_band", "disability"):
        setattr(row, key, data.get(key) or None)
    db.session.flush()
    return row


def forget_equality_data(actor: Actor, coop: Cooperative) -> bool:
    """Remove the actor's equality data entirely; whether there was any.

    No permission to ask: anyone may withdraw her own answers, even after she has
    stopped being a worker member (consent withdrawn means the data goes)."""
    result = db.session.execute(sa.delete(EqualityData).where(EqualityData.cooperative_id == coop.id,
                                                              EqualityData.person_id == actor.person_id))
    db.session.flush()
    return bool(result.rowcount)


def worker_eligibility(person_ids: Iterable[int], required_skills: Iterable[str], at: datetime | date,
                       cooperative_id: int | None = None) -> dict[int, list[str]]:
    """For each person: why they may not work at `at` (an empty list means they may).

    Looks at the worker profile (in `cooperative_id`, or any), the skills held by
    name and whether every required check is valid on that day. Two queries.
    """
    ids = list(dict.fromkeys(person_ids))
    needed = {s.strip().casefold(): s.strip() for s in required_skills if s.strip()}
    query = (sa.select(WorkerProfile, Cooperative.timezone)
             .join(Cooperative, Cooperative.id == WorkerProfile.cooperative_id)
             .where(WorkerProfile.person_id.in_(ids)).order_by(WorkerProfile.id))
    if cooperative_id is not None:
        query = query.where(WorkerProfile.cooperative_id == cooperative_id)
    profiles, zones = {}, {}
    for profile, zone in db.session.execute(query):
        profiles[profile.person_id], zones[profile.person_id] = profile, zone
    training = {s.cooperative_id: s.required_training for s in db.session.scalars(
        sa.select(MatchingSettings).where(MatchingSettings.cooperative_id.in_({p.cooperative_id for p in profiles.values()})))}
    result: dict[int, list[str]] = {}
    for pid in ids:
        profile = profiles.get(pid)
        if profile is None:
            result[pid] = ["no worker profile"]
            continue
        # A check is valid or not on the co-op's local date at `at` (a visit at 00:30 BST
        # on 1 June is on 1 June, though it is still 31 May in UTC).
        on = at.astimezone(ZoneInfo(zones[pid])).date() if isinstance(at, datetime) else at
        reasons = rules.check_problems(check_facts(profile.checks), on, training.get(profile.cooperative_id, []))
        held = {s.name.casefold() for s in profile.skills}
        reasons += [f"missing skill: {needed[k]}" for k in sorted(needed) if k not in held]
        result[pid] = reasons
    return result


def weekly_hours_opt_out(person_id: int) -> date | None:
    """The date the worker signed out of the 48-hour average week, or None."""
    return db.session.scalar(sa.select(sa.func.max(WorkerProfile.opt_out_48h_signed_on)).where(
        WorkerProfile.person_id == person_id))
