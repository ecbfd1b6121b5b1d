"""Issue 20, the Y storm: a Y for a shift someone else already holds is answered from
what is committed ("filled", the same text as before) without queueing for the shift's
row lock, in a fixed number of statements; the winner still books through the lock.
The PostgreSQL, real-threads versions are in tests/sms/test_storm_concurrency.py."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.extensions import db
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services import offers as rota_offers
from careteams.sms.rules import render
from tests.factories import PersonFactory
from tests.helpers import QueryCounter
from tests.rota.conftest import add_member

from .test_sms import booked_text, offered, say

# The losing Y, statement by statement: the sender (person, co-op, her place in it and her
# opt-outs), the inbound row, the code's co-ops, the offer with its shift as committed
# (answered there, before the handler's savepoint), the reply. It was 19 before issue 20.
LOSING_Y_STATEMENTS = 5


def test_a_losing_y_says_filled_without_the_lock_in_a_fixed_number_of_statements(world, monkeypatch):
    others = [add_member(world.team, PersonFactory()) for _ in range(6)]
    shift, offers = offered(world)
    locked: list[int] = []
    real_lock = rota_offers.shift_for_update

    def spy(shift_id):
        locked.append(shift_id)
        return real_lock(shift_id)

    monkeypatch.setattr(rota_offers, "shift_for_update", spy)
    code = offers[world.worker.id].code
    assert say(world, world.worker, f"Y {code}") == booked_text(shift, code)
    assert locked == [shift.id]  # the winner books through the lock

    counts = []
    for loser in [world.worker2, *others]:
        locked.clear()
        with QueryCounter(db.engine) as counter:
            reply = say(world, loser, f"Y {offers[loser.id].code}")
        # The same words as before the fast path (sms/rules.py TEMPLATES["filled"]).
        assert reply == render("filled") == "Sorry, that shift has just been filled. You are not booked for it."
        assert locked == [], "a losing Y queued for the shift's lock"
        assert not any("FOR UPDATE" in s.upper() for s in counter.statements)
        counts.append(counter.count)
    assert counts == [LOSING_Y_STATEMENTS] * len(counts), counts
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).booked_person_id == world.worker.id
    statuses = dict(db.session.execute(sa.select(Offer.person_id, Offer.status).where(Offer.shift_id == shift.id)).all())
    assert statuses.pop(world.worker.id) == OfferStatus.accepted
    assert set(statuses.values()) == {OfferStatus.filled}


def test_the_losing_path_reads_what_is_committed_not_what_the_session_held(world):
    """The session saw the shift filled; behind its back the booking was undone and the
    offers reopened (committed by someone else). A Y must book, not answer "filled" from
    the stale objects."""
    shift, offers = offered(world)
    code, code2 = offers[world.worker.id].code, offers[world.worker2.id].code
    assert say(world, world.worker, f"Y {code}") == booked_text(shift, code)
    stale = db.session.get(Offer, offers[world.worker2.id].id)
    assert stale.status == OfferStatus.filled and stale.shift.booked_person_id == world.worker.id
    db.session.execute(sa.update(Shift).where(Shift.id == shift.id)
                       .values(status=ShiftStatus.offered, booked_person_id=None, booked_at=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Offer).where(Offer.shift_id == shift.id)
                       .values(status=OfferStatus.open, code_live=True, answered_at=None)
                       .execution_options(synchronize_session=False))
    assert stale.status == OfferStatus.filled  # what this session still holds

    assert say(world, world.worker2, f"Y {code2}") == booked_text(shift, code2)
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).booked_person_id == world.worker2.id


def test_the_other_answers_read_without_the_lock_are_the_same(world, monkeypatch):
    """Her own booking, her NO and a cancelled visit are answered from what is committed,
    with the same words as through the lock."""
    from careteams.members.services import actor_for
    from careteams.rota.services.common import when_text
    from careteams.rota.services.shifts import cancel_shift

    locked: list[int] = []
    real_lock = rota_offers.shift_for_update
    monkeypatch.setattr(rota_offers, "shift_for_update", lambda shift_id: locked.append(shift_id) or real_lock(shift_id))
    shift, offers = offered(world)
    code, code2 = offers[world.worker.id].code, offers[world.worker2.id].code
    assert say(world, world.worker, f"Y {code}") == booked_text(shift, code)
    other, other_offers = offered(world, start=shift.starts_at.replace(hour=14))
    other_code = other_offers[world.worker2.id].code
    assert say(world, world.worker2, f"N {other_code}").startswith("Thanks")
    locked.clear()
    assert say(world, world.worker, f"Y {code}") == render(
        "already_yours", when=when_text(shift, "Europe/London"), team="Ann's team", code=code)
    assert locked == []
    cancel_shift(actor_for(world.leader), shift.id, reason="family")
    locked.clear()

    assert say(world, world.worker2, f"Y {other_code}") == render("said_no")
    assert say(world, world.worker2, f"Y {code2}") == render("visit_cancelled")
    assert locked == []
    assert say(world, world.worker, f"Y {code}") == render("visit_cancelled")
