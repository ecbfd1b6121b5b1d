"""Replies that tell the truth under real concurrency (issue 13): PostgreSQL, real
threads, real commits, signed webhooks.

- A worker who sends `Y 482` twice at once is booked once; one reply says "Booked",
  the other "That shift is already yours", and her code keeps working.
- Two `COVER 482` at once send one wave: every other worker gets one cover offer.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.sms.rules import render
from tests.conftest import requires_postgres
from tests.sms.conftest import post_signed

TRIALS = 5  # the old code lost about 9 races in 10: five trials catch it for sure
_sids = iter(range(1, 10**9))


def _deliver_at_once(app, texts: list[tuple[str, str, str]]) -> list[str]:
    """Post each (from, to, body) through the signed webhook at the same moment; the replies."""
    start = threading.Barrier(len(texts))
    replies: list[str | None] = [None] * len(texts)
    errors: list[BaseException] = []

    def deliver(n: int, from_: str, to: str, body: str):
        try:
            with app.app_context():
                client = app.test_client()
                params = {"MessageSid": f"SMTRUTH{sids[n]:027d}",
                          "AccountSid": "AC" + "0" * 32, "From": from_, "To": to, "Body": body}
                start.wait()
                try:
                    response = post_signed(client, "/sms/inbound", params)
                    assert response.status_code == 200, response.status_code
                    root = ET.fromstring(response.get_data(as_text=True))
                    replies[n] = root[0].text if len(root) else ""
                finally:
                    db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    sids = [next(_sids) for _ in texts]
    threads = [threading.Thread(target=deliver, args=(n, *t)) for n, t in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return replies  # type: ignore[return-value]


def test_y_sent_twice_at_once_books_her_and_both_replies_say_so(committed_app, database_url):
    requires_postgres(database_url)
    from careteams.members.services import actor_for
    from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
    from careteams.rota.services import offers as rota
    from careteams.rota.services.common import when_text
    from tests.rota.conftest import MONDAY, build_world, make_shift

    app = committed_app
    with app.app_context():
        world = build_world()
        trials = []
        for n in range(TRIALS):
            shift = make_shift(world.team, MONDAY + timedelta(days=n, hours=9))
            offers = {o.person_id: o for o in rota.offer_shift(actor_for(world.leader), shift.id)}
            trials.append((shift.id, offers[world.worker.id].id, offers[world.worker.id].code))
        phone, coop_number, worker_id = world.worker.phone, world.coop.sms_number, world.worker.id
        db.session.commit()

    for shift_id, offer_id, code in trials:
        replies = _deliver_at_once(app, [(phone, coop_number, f"Y {code}")] * 2)
        with app.app_context():
            shift = db.session.get(Shift, shift_id)
            assert shift.status == ShiftStatus.booked and shift.booked_person_id == worker_id
            values = {"when": when_text(shift, "Europe/London"), "team": "Ann's team", "code": code}
            assert sorted(replies) == sorted([render("booked", **values), render("already_yours", **values)])
            offer = db.session.get(Offer, offer_id)
            assert offer.status == OfferStatus.accepted and offer.code_live
        # Her code keeps working: SHIFTS shows it and COVER takes it.
        shifts_reply, = _deliver_at_once(app, [(phone, coop_number, "SHIFTS")])
        assert f"({code})" in shifts_reply
        cover_reply, = _deliver_at_once(app, [(phone, coop_number, f"COVER {code}")])
        assert cover_reply.startswith("We're looking for cover")


def test_cover_asked_twice_at_once_sends_one_wave(committed_app, database_url):
    requires_postgres(database_url)
    from careteams.members.services import actor_for
    from careteams.rota.models import Offer, Shift
    from careteams.rota.services import offers as rota
    from tests.factories import PersonFactory
    from tests.rota.conftest import MONDAY, add_member, build_world, make_shift

    app = committed_app
    with app.app_context():
        world = build_world()
        others = [add_member(world.team, PersonFactory()) for _ in range(3)] + [world.worker2]
        other_ids = sorted(p.id for p in others)
        trials = []
        for n in range(TRIALS):
            shift = make_shift(world.team, MONDAY + timedelta(days=n, hours=9))
            result = rota.book_directly(actor_for(world.leader), shift.id, world.worker.id)
            assert result.outcome == "booked"
            code = db.session.scalar(sa.select(Offer.code).where(Offer.shift_id == shift.id,
                                                                 Offer.person_id == world.worker.id))
            trials.append((shift.id, code))
        phone, coop_number = world.worker.phone, world.coop.sms_number
        db.session.commit()

    for shift_id, code in trials:
        replies = _deliver_at_once(app, [(phone, coop_number, f"COVER {code}")] * 2)
        assert all(reply.startswith("We're looking for cover") for reply in replies), replies
        with app.app_context():
            offered_to = db.session.scalars(sa.select(Offer.person_id).where(
                Offer.shift_id == shift_id, Offer.is_cover)).all()
            assert sorted(offered_to) == other_ids  # one cover offer (and its one text) each, not two
            assert db.session.get(Shift, shift_id).cover_requested_at is not None
