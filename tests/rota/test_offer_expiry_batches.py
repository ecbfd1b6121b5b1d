"""rota.offers at federation scale (issue 20): expired offers are written in batches (one
savepoint and one batched UPDATE per 500), so the job's statements for expiring them do
not grow with their number; a poison offer still fails alone (tests/core/test_jobs_poison.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from careteams.extensions import db
from careteams.jobs_util import run_in_batches
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus
from careteams.rota.services.offers import offer_shift
from tests.helpers import QueryCounter
from tests.rota.conftest import make_shift

NOW = datetime(2027, 2, 1, 12, tzinfo=UTC)


def _offer_updates(fn, *args) -> tuple[object, int]:
    with QueryCounter(db.session.get_bind()) as counter:
        result = fn(*args)
    return result, sum(statement.startswith("UPDATE offer") for statement in counter.statements)


def _offered(world, shifts: int) -> list[Offer]:
    offers = []
    for day in range(shifts):
        shift = make_shift(world.team, NOW + timedelta(days=3 + day))
        offers += offer_shift(actor_for(world.leader), shift.id, now=NOW)
    return offers


def _expire_all(offers: list[Offer]):
    def expire(offer: Offer) -> None:
        offer.status, offer.code_live = OfferStatus.expired, False

    return run_in_batches("rota.offers", offers, expire, key=lambda o: f"offer {o.id}")


def test_expiring_offers_is_one_batched_update_whatever_their_number(world):
    few = _offered(world, 1)
    many = _offered(world, 6)
    assert len(many) > len(few) >= 2
    done, updates_few = _offer_updates(_expire_all, few)
    assert len(done.done) == len(few) and not done.failed
    done, updates_many = _offer_updates(_expire_all, many)
    assert len(done.done) == len(many) and not done.failed
    assert updates_few == updates_many == 1
    db.session.expire_all()
    assert {db.session.get(Offer, o.id).status for o in few + many} == {OfferStatus.expired}


def test_a_batch_is_cut_at_its_size(world):
    offers = _offered(world, 3)
    done, updates = _offer_updates(lambda: run_in_batches(
        "rota.offers", offers, lambda o: setattr(o, "code_live", False), size=2))
    assert len(done.done) == len(offers) and updates == (len(offers) + 1) // 2
