"""A small co-op with members in every class, a secretary, and helpers to run a vote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from careteams.db import utcnow
from careteams.extensions import db
from careteams.governance.models import Resolution
from careteams.governance.services import ballots, resolutions, results, tellers
from careteams.members.models import Cooperative, MemberClass, Membership, Person, StaffRoleName
from careteams.members.services import actor_for
from tests.factories import CooperativeFactory, MembershipFactory, PersonFactory, StaffRoleFactory


@dataclass
class Coop:
    coop: Cooperative
    secretary: Person
    members: dict[str, list[Membership]] = field(default_factory=dict)
    outsider: Person | None = None
    other_secretary: Person | None = None

    def member(self, member_class: str, n: int = 0) -> Membership:
        return self.members[member_class][n]

    def actor(self, who: Person | Membership):
        person = who.person if isinstance(who, Membership) else who
        return actor_for(person)


def build_coop(per_class: dict[str, int] | None = None, **coop_settings) -> Coop:
    """Flush (or, on a committed app, the caller commits) a co-op with its people."""
    coop = CooperativeFactory(quorum_min_members=0, quorum_percent=0, **coop_settings)
    secretary = PersonFactory(name="Sam Secretary")
    StaffRoleFactory(cooperative=coop, person=secretary, role=StaffRoleName.secretary)
    result = Coop(coop=coop, secretary=secretary)
    for member_class, n in (per_class or {"supported": 2, "worker": 3, "advocate": 1, "investor": 2}).items():
        result.members[member_class] = [
            MembershipFactory(cooperative=coop, member_class=MemberClass(member_class)) for _ in range(n)
        ]
    result.outsider = PersonFactory(name="Olly Outsider")
    other = CooperativeFactory()
    result.other_secretary = PersonFactory(name="Other Secretary")
    StaffRoleFactory(cooperative=other, person=result.other_secretary, role=StaffRoleName.secretary)
    MembershipFactory(cooperative=other, person=result.other_secretary, member_class=MemberClass.worker)
    db.session.flush()
    return result


@pytest.fixture
def gov(app) -> Coop:
    return build_coop()


def draft(c: Coop, kind: str = "ordinary", now: datetime | None = None, **data):
    now = now or utcnow()
    payload = {"title": "Adopt the new rota policy", "text": "That the co-op adopts the rota policy.",
               "kind": kind, "opens_at": now - timedelta(minutes=1), "closes_at": now + timedelta(days=7)}
    if kind == "poll" and "options" not in data:
        payload["options"] = ["Anna", "Ben", "Cleo"]
    payload.update(data)
    return resolutions.create_resolution(c.actor(c.secretary), c.coop, payload)


# Tellers' shares taken by the helpers below, by resolution id (tests only).
SHARES: dict[int, list[str]] = {}


def opened(c: Coop, kind: str = "ordinary", now: datetime | None = None, **data):
    """Open a resolution; its tellers are the secretary and a scrutineer (the first worker
    member), 2 of 2, and their shares are kept in SHARES."""
    now = now or utcnow()
    resolution = draft(c, kind, now, **data)
    scrutineer = c.member("worker").person
    resolution = open_with_tellers(c, resolution, now, [scrutineer])
    return resolution


def open_with_tellers(c: Coop, resolution, now: datetime | None, scrutineers: list[Person]):
    """Open (or schedule) with the secretary and `scrutineers` as tellers, 2 shares needed;
    every teller's share is kept in SHARES."""
    now = now or utcnow()
    resolution = resolutions.open_resolution(c.actor(c.secretary), c.coop, resolution, now,
                                             scrutineers=[p.id for p in scrutineers])
    SHARES[resolution.id] = [tellers.take_my_share(c.actor(p), c.coop, resolution, now)
                             for p in [c.secretary, *scrutineers]][:2]
    return resolution


def give_shares(resolution, now: datetime, tell: bool = True):
    """The tellers give the kept shares to a resolution the clock has closed."""
    return tellers.open_count(None, None, resolution, SHARES[resolution.id], now, tell=tell)


def close_and_count(resolution_id: int, now: datetime, tell: bool = True) -> bool:
    """Close (as the clock does) and, if that closed it, open the count with the kept shares."""
    if not results.close_resolution(resolution_id, now, tell=tell):
        return False
    resolution = db.session.get(Resolution, resolution_id)
    tellers.open_count(None, None, resolution, SHARES[resolution_id], now, tell=tell)
    return True


def option(resolution, key: str) -> int:
    return next(o.id for o in resolution.options if o.key == key)


def vote(c: Coop, who: Membership, resolution, key: str | None, now: datetime | None = None, on_behalf_of=None):
    return ballots.cast_ballot(c.actor(who), c.coop, resolution, option(resolution, key) if key else None,
                           on_behalf_of, now)


def choices(resolution) -> list[str | None]:
    """The stored ballots' option keys, opened with the kept shares, sorted (None: abstain): tests only."""
    return sorted((b.option for b in tellers.opened_ballots(resolution, SHARES[resolution.id])),
                  key=lambda o: o or "")
