"""Several senders and repeated webhooks at once, on PostgreSQL with real commits."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.sms import services
from careteams.sms.gateway import SentText
from careteams.sms.jobs import send_outbox
from careteams.sms.models import InboundMessage, OutboundMessage
from careteams.sms.rules import DeliveryStatus
from tests.conftest import requires_postgres
from tests.sms.conftest import post_signed


class SlowRecordingGateway:
    """Records every send from every thread; slow enough that senders overlap."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def send(self, *, to, body, from_number=None, status_callback=None):
        time.sleep(0.002)
        with self.lock:
            self.sent.append((threading.current_thread().name, body))
            n = len(self.sent)
        return SentText(to, body, from_number, f"SM{n:032d}")


def test_two_senders_draining_one_outbox_send_each_message_once(committed_app, database_url):
    requires_postgres(database_url)
    app = committed_app
    with app.app_context():
        for n in range(60):
            services.enqueue(None, "+447700900123", f"message {n}", "test")
        db.session.commit()

    gateway = SlowRecordingGateway()
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    now = utcnow()

    def sender():
        try:
            with app.app_context():
                start.wait()
                send_outbox(now, batch_size=5, gateway=gateway)
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=sender, name=f"sender-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    bodies = [body for _, body in gateway.sent]
    assert sorted(bodies) == sorted(f"message {n}" for n in range(60))  # each exactly once
    with app.app_context():
        statuses = db.session.scalars(sa.select(OutboundMessage.status)).all()
        assert statuses == [DeliveryStatus.queued] * 60


def test_the_same_message_sid_delivered_concurrently_has_one_effect(committed_app, database_url):
    requires_postgres(database_url)
    from careteams.members import services as members
    from careteams.members.models import MemberClass, MembershipStatus
    from careteams.sms.commands import HANDLERS, load_handlers, sms_command

    app = committed_app
    with app.app_context():
        coop = members.create_cooperative("Valley Care", "valley", "Europe/London", sms_number="+447700900001")
        person = members.create_person("Wendy Ali", "wendy@example.org", "+447700900123")
        members.add_membership(None, coop, person, MemberClass.worker, MembershipStatus.active)
        db.session.commit()

    load_handlers()
    saved = dict(HANDLERS)
    HANDLERS.clear()  # a stand-in for the rota's SHIFTS, slow on purpose
    calls = []

    @sms_command("shifts")
    def shifts(ctx, command):
        calls.append(1)
        services.enqueue(ctx.cooperative, ctx.person, "Your shifts: none", "rota.shifts")
        time.sleep(0.05)  # hold the first transaction open while the repeats arrive
        return "You have no shifts booked."

    params = {"MessageSid": "SM" + "c" * 32, "AccountSid": "AC" + "0" * 32, "From": "+447700900123",
              "To": "+447700900001", "Body": "SHIFTS"}
    start = threading.Barrier(3)
    results: list[tuple[int, str]] = []

    def deliver():
        client = app.test_client()
        start.wait()
        response = post_signed(client, "/sms/inbound", params)
        results.append((response.status_code, response.get_data(as_text=True)))

    try:
        threads = [threading.Thread(target=deliver) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        HANDLERS.clear()
        HANDLERS.update(saved)
    assert [status for status, _ in results] == [200, 200, 200]
    assert all("You have no shifts booked." in body for _, body in results)
    assert len(calls) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboundMessage)) == 1


def test_fifty_concurrent_signed_acceptances_of_a_real_shift_book_one_worker(committed_app, database_url):
    """The done-when test: 50 workers each text "Y <their code>" for one real rota
    shift at the same moment, through the signed webhook. Exactly one is booked, the
    other 49 are told plainly that it is filled, every reply is well-formed TwiML
    with one message, and nothing answers 5xx."""
    requires_postgres(database_url)
    import xml.etree.ElementTree as ET
    from datetime import timedelta

    from careteams.members.services import actor_for
    from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
    from careteams.rota.services import common as rota_common
    from careteams.rota.services import offers as rota
    from careteams.sms.rules import render
    from tests.factories import PersonFactory
    from tests.rota.conftest import MONDAY, add_member, build_world, make_shift

    app = committed_app
    with app.app_context():
        world = build_world()
        workers = [add_member(world.team, PersonFactory()) for _ in range(48)] + [world.worker, world.worker2]
        shift = make_shift(world.team, MONDAY + timedelta(hours=9))
        offers = rota.offer_shift(actor_for(world.leader), shift.id)
        assert len(offers) == 50
        code_of = {o.person_id: o.code for o in offers}
        texts = [(person.id, person.phone, f"Y {code_of[person.id]}") for person in workers]
        coop_number, shift_id = world.coop.sms_number, shift.id
        db.session.commit()

    start = threading.Barrier(len(texts))
    results: dict[int, tuple[int, str]] = {}
    lock = threading.Lock()

    def deliver(n: int, person_id: int, phone: str, body: str):
        with app.app_context():
            client = app.test_client()
            params = {"MessageSid": f"SM{n:032d}", "AccountSid": "AC" + "0" * 32, "From": phone,
                      "To": coop_number, "Body": body}
            start.wait()
            try:
                response = post_signed(client, "/sms/inbound", params)
                with lock:
                    results[person_id] = (response.status_code, response.get_data(as_text=True))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver, args=(n, *text)) for n, text in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert len(results) == 50, "a webhook never answered"
    assert sorted(status for status, _ in results.values()) == [200] * 50
    replies = {}
    for person_id, (_, body) in results.items():
        root = ET.fromstring(body)
        assert root.tag == "Response" and [child.tag for child in root] == ["Message"], body
        replies[person_id] = root[0].text
    winners = [pid for pid, reply in replies.items() if reply.startswith("Booked: ")]
    assert len(winners) == 1
    assert sorted(reply for pid, reply in replies.items() if pid not in winners) == [render("filled")] * 49
    with app.app_context():
        shift = db.session.get(Shift, shift_id)
        assert shift.status == ShiftStatus.booked and shift.booked_person_id == winners[0]
        assert replies[winners[0]] == render("booked", when=rota_common.when_text(shift, "Europe/London"),
                                             team="Ann's team", code=code_of[winners[0]])
        statuses = dict(db.session.execute(sa.select(Offer.person_id, Offer.status)
                                           .where(Offer.shift_id == shift_id)).all())
        assert statuses.pop(winners[0]) == OfferStatus.accepted
        assert set(statuses.values()) == {OfferStatus.filled}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 50


def test_two_clocks_running_the_reminder_job_at_once_text_each_worker_once(committed_app, database_url):
    requires_postgres(database_url)
    from datetime import timedelta

    from careteams.members.services import actor_for
    from careteams.rota import jobs as rota_jobs
    from careteams.rota.services import offers as rota
    from tests.factories import PersonFactory
    from tests.rota.conftest import MONDAY, add_member, build_world, make_shift

    app = committed_app
    start_at = MONDAY + timedelta(hours=9)
    with app.app_context():
        world = build_world()
        workers = [add_member(world.team, PersonFactory()) for _ in range(10)]
        worker_ids = [w.id for w in workers]
        for n, worker in enumerate(workers):
            shift = make_shift(world.team, start_at + timedelta(minutes=n))
            rota.book_directly(actor_for(world.leader), shift.id, worker.id, now=start_at - timedelta(days=7))
        db.session.commit()

    now = start_at - timedelta(hours=23)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def clock():
        try:
            with app.app_context():
                barrier.wait()
                counts.append(rota_jobs.reminders(now))
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=clock) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    # And a third run afterwards, as a re-run of the job would be.
    with app.app_context():
        assert rota_jobs.reminders(now + timedelta(minutes=5)) == 0
        db.session.commit()
        rows = db.session.execute(sa.select(OutboundMessage.person_id, OutboundMessage.dedupe_key)
                                  .where(OutboundMessage.kind == "rota.reminder")).all()
    assert len(counts) == 2
    assert sorted(person_id for person_id, _ in rows) == sorted(worker_ids)  # one each, not two
    assert all(key.startswith("reminder:") and key.endswith(f":24h:{pid}") for pid, key in rows)
