"""Issue 20, the Y storm, on PostgreSQL with real threads and commits: a Y for a shift
someone else holds is answered "filled" from what is committed, without waiting for the
shift's row lock (here held by another transaction the whole time), and the storm still
books exactly one worker (tests/sms/test_concurrency.py has the 50-text version)."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.sms.rules import render
from tests.conftest import requires_postgres
from tests.sms.conftest import post_signed

HOLD_SECONDS = 60  # the lock holder's limit: far longer than a reply takes


def test_a_losing_y_is_answered_while_another_transaction_holds_the_shifts_lock(committed_app, database_url):
    requires_postgres(database_url)
    from careteams.members.services import actor_for
    from careteams.rota.models import Shift
    from careteams.rota.services import offers as rota
    from tests.rota.conftest import MONDAY, build_world, make_shift

    app = committed_app
    with app.app_context():
        world = build_world()
        shift = make_shift(world.team, MONDAY + timedelta(hours=9))
        offers = {o.person_id: o for o in rota.offer_shift(actor_for(world.leader), shift.id)}
        assert rota.accept_offer(world.worker, offers[world.worker.id].id).outcome == "booked"
        shift_id, code2 = shift.id, offers[world.worker2.id].code
        phone2, coop_number, winner_id = world.worker2.phone, world.coop.sms_number, world.worker.id
        db.session.commit()

    locked, replied = threading.Event(), threading.Event()
    held: dict[str, bool] = {}

    def hold_the_lock():
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT id FROM shift WHERE id = :id FOR UPDATE"), {"id": shift_id})
                locked.set()
                held["until_the_reply"] = replied.wait(HOLD_SECONDS)
                conn.rollback()
        finally:
            engine.dispose()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(30)
        with app.app_context():
            client = app.test_client()
            response = post_signed(client, "/sms/inbound", {
                "MessageSid": "SMSTORM" + "0" * 27, "AccountSid": "AC" + "0" * 32, "From": phone2,
                "To": coop_number, "Body": f"Y {code2}"})
            db.session.remove()
        replied.set()
    finally:
        replied.set()
        holder.join(HOLD_SECONDS + 10)
    assert held == {"until_the_reply": True}, "the reply waited for the lock to be released"
    assert response.status_code == 200
    assert ET.fromstring(response.get_data(as_text=True))[0].text == render("filled")
    with app.app_context():
        assert db.session.get(Shift, shift_id).booked_person_id == winner_id
