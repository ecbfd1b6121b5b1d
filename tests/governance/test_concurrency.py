"""Real concurrency on PostgreSQL: one ballot per member, nothing counted after the close."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict
from careteams.extensions import db
from careteams.governance.models import (
    Ballot,
    ElectorateEntry,
    ProxyAppointment,
    ProxyStatus,
    Resolution,
)
from careteams.governance.services import ballots, results
from careteams.members.models import Cooperative, Membership, Person
from careteams.members.services import actor_for
from tests.conftest import requires_postgres
from tests.governance.conftest import build_coop, opened

pytestmark = [pytest.mark.postgres, pytest.mark.concurrency]


def _setup(app, per_class):
    with app.app_context():
        c = build_coop(per_class)
        r = opened(c, now=utcnow())
        ids = {
            "coop": c.coop.id, "resolution": r.id, "for": next(o.id for o in r.options if o.key == "for"),
            "members": [m.id for ms in c.members.values() for m in ms],
        }
        db.session.commit()
        db.session.remove()
    return ids


def _run(app, n_threads, work, stagger: float = 0.0):
    """Run work(i) in n threads released together (thread i after i * stagger seconds,
    to spread arrivals around the close); each has its own app context and session."""
    barrier = threading.Barrier(n_threads)
    outcomes: list = [None] * n_threads

    def target(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                if stagger:
                    time.sleep(i * stagger)  # real time only spaces the arrivals; the domain's time is injected
                outcomes[i] = work(i)
                db.session.commit()
            except Conflict as exc:
                db.session.rollback()
                outcomes[i] = exc
            except Exception as exc:  # reported, so the test fails with the reason
                db.session.rollback()
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _load(ids, membership_id):
    coop = db.session.get(Cooperative, ids["coop"])
    resolution = db.session.get(Resolution, ids["resolution"])
    membership = db.session.get(Membership, membership_id)
    return actor_for(db.session.get(Person, membership.person_id)), coop, resolution


def test_fifty_simultaneous_ballots_from_one_member_store_one(committed_app, database_url):
    requires_postgres(database_url)
    ids = _setup(committed_app, {"worker": 3})
    voter = ids["members"][0]

    def work(i):
        actor, coop, resolution = _load(ids, voter)
        return ballots.cast_ballot(actor, coop, resolution, ids["for"])

    outcomes = _run(committed_app, 50, work)
    receipts = [o for o in outcomes if isinstance(o, dict)]
    others = [o for o in outcomes if not isinstance(o, dict)]
    assert len(receipts) == 1, others[:3]
    assert all(isinstance(o, Conflict) and o.code == "already_voted" for o in others), others[:3]
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
        assert db.session.scalar(sa.select(Ballot.receipt)) == receipts[0]["receipt"]
        voted = db.session.scalars(sa.select(ElectorateEntry.membership_id).where(ElectorateEntry.has_voted.is_(True))).all()
        assert voted == [voter]


@pytest.mark.parametrize("scenario", ["close_holds_lock_first", "ballots_hold_locks_first", "free_race"])
def test_a_ballot_racing_the_close_is_counted_before_it_or_refused(committed_app, database_url, scenario):
    """Ballots cast inside the voting time while the clock closes: each one is either
    in the published count or refused; none is stored uncounted."""
    requires_postgres(database_url)
    ids = _setup(committed_app, {"worker": 12, "investor": 3})
    with committed_app.app_context():
        closes_at = db.session.get(Resolution, ids["resolution"]).closes_at
    voters = ids["members"]
    n = len(voters) + 1
    close_started, ballots_started = threading.Event(), threading.Semaphore(0)
    hold = 0.3  # seconds a transaction stays open, uncommitted, while the others arrive

    def close(i):
        if scenario == "ballots_hold_locks_first":
            for _ in voters:
                assert ballots_started.acquire(timeout=30)
        done = results.close_resolution(ids["resolution"], closes_at)
        close_started.set()
        if scenario == "close_holds_lock_first":
            time.sleep(hold)  # the close has updated the row but not committed yet
        return done

    def ballot(i):
        if scenario == "close_holds_lock_first":
            assert close_started.wait(timeout=30)
        actor, coop, resolution = _load(ids, voters[i - 1])
        # Still inside the voting time: only the close itself can stop this ballot.
        try:
            return ballots.cast_ballot(actor, coop, resolution, ids["for"], now=closes_at - timedelta(seconds=1))
        finally:
            if scenario == "ballots_hold_locks_first":
                ballots_started.release()
                time.sleep(hold)  # cast but not committed while the close begins

    outcomes = _run(committed_app, n, lambda i: close(i) if i == 0 else ballot(i),
                    stagger=0.01 if scenario == "free_race" else 0.0)
    assert outcomes[0] is True, outcomes[0]
    counted = [o["receipt"] for o in outcomes[1:] if isinstance(o, dict)]
    refused = [o for o in outcomes[1:] if not isinstance(o, dict)]
    assert all(isinstance(o, Conflict) and o.code == "voting_not_open" for o in refused), refused[:3]
    assert len(counted) + len(refused) == len(voters)
    if scenario == "close_holds_lock_first":
        assert counted == []  # they waited for the close, then saw it closed
    if scenario == "ballots_hold_locks_first":
        assert len(counted) == len(voters)  # the close waited for them and counted them
    with committed_app.app_context():
        resolution = db.session.get(Resolution, ids["resolution"])
        stored = db.session.scalars(sa.select(Ballot.receipt)).all()
        # Every ballot stored was counted, every ballot counted was stored: none slipped in after.
        assert sorted(stored) == sorted(counted) == resolution.result["receipts"]
        assert resolution.result["quorum"]["heads"] == len(counted)
        assert resolution.result["ballots_by_group"]["all"] == len(counted)


def test_two_clocks_close_once(committed_app, database_url):
    requires_postgres(database_url)
    ids = _setup(committed_app, {"worker": 3})
    with committed_app.app_context():
        closes_at = db.session.get(Resolution, ids["resolution"]).closes_at
    from careteams.governance.jobs import open_and_close

    outcomes = _run(committed_app, 2, lambda i: open_and_close(closes_at + timedelta(seconds=i)))
    assert sorted(o["closed"] for o in outcomes) == [0, 1], outcomes


def test_proxy_limit_holds_under_simultaneous_appointments(committed_app, database_url):
    requires_postgres(database_url)
    ids = _setup(committed_app, {"worker": 12})
    with committed_app.app_context():
        coop = db.session.get(Cooperative, ids["coop"])
        coop.proxy_limit = 2
        db.session.commit()
    holder, appointers = ids["members"][0], ids["members"][1:]

    def work(i):
        actor, coop, resolution = _load(ids, appointers[i])
        return ballots.appoint_proxy(actor, coop, resolution, holder).id

    outcomes = _run(committed_app, len(appointers), work)
    assert sum(isinstance(o, int) for o in outcomes) == 2, outcomes
    assert all(o.code == "proxy_limit" for o in outcomes if not isinstance(o, int))
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProxyAppointment)) == 2


@pytest.mark.parametrize("attempt", range(3))
def test_appointer_and_proxy_voting_at_once_make_one_ballot(committed_app, database_url, attempt):
    requires_postgres(database_url)
    ids = _setup(committed_app, {"worker": 3})
    appointer, holder = ids["members"][0], ids["members"][1]
    with committed_app.app_context():
        actor, coop, resolution = _load(ids, appointer)
        ballots.appoint_proxy(actor, coop, resolution, holder)
        db.session.commit()

    def work(i):
        if i == 0:
            actor, coop, resolution = _load(ids, appointer)
            return ("in person", ballots.cast_ballot(actor, coop, resolution, ids["for"]))
        actor, coop, resolution = _load(ids, holder)
        return ("by proxy", ballots.cast_ballot(actor, coop, resolution, ids["for"], on_behalf_of=appointer))

    outcomes = _run(committed_app, 2, work)
    cast = [o for o in outcomes if isinstance(o, tuple)]
    assert len(cast) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, tuple))
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
        status = db.session.scalar(sa.select(ProxyAppointment.status))
        assert status == (ProxyStatus.cancelled if cast[0][0] == "in person" else ProxyStatus.used)
