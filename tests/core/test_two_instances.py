"""More than one machine, proved on one: two gunicorn instances, two clocks and two
outbox senders, all separate processes on one PostgreSQL database.

A team has one offered shift and N workers with open offers; a "Y <code>" storm,
signed as Twilio signs, is split across both instances by threads released at once.
Meanwhile reminders of booked shifts fall due while both clocks run, and both
senders drain the outbox (offers, reminders, the leader's notice...). The test
finds exactly one booking, each reminder queued and sent once, each outbox text
handed to a gateway once, and exactly one clock holding the advisory lock while the
other stood by. Every subprocess is killed in a `finally`; every wait has a deadline.

PostgreSQL only (the whole point is several real connections): CI runs it in its
PostgreSQL pass. The non-web processes are tests/core/multi_process.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.scheduler import CLOCK_LOCK_KEY
from careteams.sms.models import InboundMessage, OutboundMessage
from careteams.sms.rules import DeliveryStatus, render
from tests.conftest import requires_postgres
from tests.sms.conftest import sign

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 30  # workers with an open offer for the one shift, each texting "Y <code>"
REMINDED = 4  # booked shifts whose 24-hour reminder falls due while both clocks run
DEADLINE = 40.0  # seconds for the whole run, start to finish; it takes far less
STANDBY = "another clock holds the lock; waiting as a standby"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Subprocesses, each in its own process group (gunicorn's workers included),
    output to files; `stop` ends every one: SIGTERM, then SIGKILL."""

    def __init__(self, directory: Path, env: dict) -> None:
        self.directory, self.env = directory, env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        with open(self.directory / f"{name}.out", "wb") as out, open(self.directory / f"{name}.err", "wb") as err:
            self.running[name] = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=out,
                                                  stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)

    def err(self, name: str) -> str:
        return (self.directory / f"{name}.err").read_text(errors="replace")

    def check_alive(self) -> None:
        for name, proc in self.running.items():
            assert proc.poll() is None, f"{name} exited ({proc.returncode}):\n{self.err(name)[-3000:]}"

    def stop(self) -> None:
        for proc in self.running.values():
            _signal_group(proc, signal.SIGTERM)
        for proc in self.running.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=5)
            _signal_group(proc, signal.SIGKILL)  # gunicorn's workers, if their master went first


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group this test made for it (start_new_session)
    except ProcessLookupError:
        pass


def wait_for(what: str, condition, deadline: float, procs: Processes, every: float = 0.1):
    while time.monotonic() < deadline:
        procs.check_alive()
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_two_instances_two_clocks_two_senders_book_once_and_send_once(committed_app, database_url, tmp_path):
    requires_postgres(database_url)
    if os.environ.get("CARETEAMS_TEST_NOW"):
        pytest.skip("the subprocesses run on the real clock, not CARETEAMS_TEST_NOW's")
    from careteams.members.services import actor_for
    from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
    from careteams.rota.services import offers as rota
    from tests.factories import PersonFactory
    from tests.rota.conftest import add_member, build_world, make_shift

    started = time.monotonic()
    deadline = started + DEADLINE
    app = committed_app

    # The seed, committed: one offered shift three days ahead and WORKERS open offers.
    with app.app_context():
        world = build_world()
        workers = [add_member(world.team, PersonFactory()) for _ in range(WORKERS - 2)] + [world.worker,
                                                                                           world.worker2]
        shift = make_shift(world.team, utcnow().replace(microsecond=0) + timedelta(days=3))
        offers = rota.offer_shift(actor_for(world.leader), shift.id)
        assert len(offers) == WORKERS
        code_of = {o.person_id: o.code for o in offers}
        texts = [(p.id, p.phone, f"Y {code_of[p.id]}") for p in workers]
        reminded = [add_member(world.team, PersonFactory()) for _ in range(REMINDED)]
        team_id, leader_id, reminded_ids = world.team.id, world.leader.id, [p.id for p in reminded]
        coop_number, shift_id = world.coop.sms_number, shift.id
        db.session.commit()

    env = {**os.environ, "CARETEAMS_ENV": "testing", "CARETEAMS_TEST_DATABASE_URL": database_url,
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    procs = Processes(tmp_path, env)
    ports = [free_port(), free_port()]
    try:
        # As the Procfile's `web` line, twice, on two ports: two workers of four threads each.
        for n, port in enumerate(ports):
            procs.start(f"web{n}", "-m", "gunicorn", "careteams:create_app()", "--bind", f"127.0.0.1:{port}",
                        "--workers", "2", "--threads", "4", "--timeout", "30", "--graceful-timeout", "2",
                        "--access-logfile", str(tmp_path / f"web{n}.access"))
        for n in range(2):
            # One clock locks through CLOCK_DATABASE_URL, the other through the app's engine.
            procs.start(f"clock{n}", "-m", "tests.core.multi_process", "clock", database_url,
                        str(tmp_path / f"clock{n}.status"), *(["direct"] if n == 0 else []))
            procs.start(f"sender{n}", "-m", "tests.core.multi_process", "sender", database_url,
                        str(tmp_path / f"sender{n}.sent"))

        for port in ports:
            wait_for(f"the instance on port {port}", lambda port=port: healthy(port), deadline, procs)
        holders = wait_for("a clock to hold the lock", lambda: [n for n in range(2) if
                                                                 (tmp_path / f"clock{n}.status").exists()
                                                                 and (tmp_path / f"clock{n}.status").read_text()],
                           deadline, procs)
        wait_for("the other clock to stand by", lambda: any(STANDBY in procs.err(f"clock{n}") for n in range(2)),
                 deadline, procs)

        # Reminders that fall due two seconds from now, with both clocks running.
        with app.app_context():
            due = utcnow() + timedelta(seconds=2)
            leader = actor_for(db.session.get(type(world.leader), leader_id))
            team = db.session.get(type(world.team), team_id)
            for n, person_id in enumerate(reminded_ids):
                booked = make_shift(team, due + timedelta(hours=24, milliseconds=100 * n))
                rota.book_directly(leader, booked.id, person_id)
            db.session.commit()

        # The storm: every worker's "Y <code>" at once, alternately to each instance.
        barrier = threading.Barrier(len(texts))
        results: dict[int, tuple[int, int, str]] = {}
        lock = threading.Lock()

        def deliver(n: int, person_id: int, phone: str, body: str) -> None:
            port = ports[n % 2]
            url = f"http://127.0.0.1:{port}/sms/inbound"
            params = {"MessageSid": f"SM{n:032d}", "AccountSid": "AC" + "0" * 32, "From": phone,
                      "To": coop_number, "Body": body}
            barrier.wait(timeout=20)
            response = requests.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params)},
                                     timeout=20)
            with lock:
                results[person_id] = (port, response.status_code, response.text)

        threads = [threading.Thread(target=deliver, args=(n, *text), daemon=True) for n, text in enumerate(texts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic()))

        def settled():
            with app.app_context():
                reminders = db.session.scalar(sa.select(sa.func.count()).select_from(OutboundMessage)
                                              .where(OutboundMessage.kind == "rota.reminder"))
                waiting = db.session.scalar(sa.select(sa.func.count()).select_from(OutboundMessage).where(
                    OutboundMessage.status.in_([DeliveryStatus.pending, DeliveryStatus.claimed])))
                db.session.remove()
            return reminders == REMINDED and waiting == 0

        wait_for("the reminders and every text to be sent", settled, deadline, procs, every=0.25)

        # Exactly one session in this database holds the clock's advisory lock: the clock that said so.
        with app.app_context():
            lock_holders = db.session.scalars(sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND ((classid::bigint << 32) | objid::bigint) = :key"), {"key": CLOCK_LOCK_KEY}).all()
            db.session.remove()
        procs.check_alive()  # nothing died along the way
    finally:
        procs.stop()
    wall = time.monotonic() - started

    # The storm: every request answered, both instances used, one winner.
    assert len(results) == WORKERS, "a webhook never answered"
    assert sorted(status for _, status, _ in results.values()) == [200] * WORKERS
    assert Counter(port for port, _, _ in results.values()) == {ports[0]: WORKERS // 2, ports[1]: WORKERS // 2}
    for n in range(2):
        served = (tmp_path / f"web{n}.access").read_text().count("POST /sms/inbound")
        assert served == WORKERS // 2, f"instance {n} served {served} texts"
    replies = {}
    for person_id, (_, _, body) in results.items():
        root = ET.fromstring(body)
        assert [child.tag for child in root] == ["Message"], body
        replies[person_id] = root[0].text
    winners = [pid for pid, reply in replies.items() if reply.startswith("Booked: ")]
    assert len(winners) == 1
    assert sorted(r for pid, r in replies.items() if pid not in winners) == [render("filled")] * (WORKERS - 1)

    with app.app_context():
        booked = db.session.get(Shift, shift_id)
        assert booked.status == ShiftStatus.booked and booked.booked_person_id == winners[0]
        statuses = Counter(db.session.scalars(sa.select(Offer.status).where(Offer.shift_id == shift_id)))
        assert statuses == {OfferStatus.accepted: 1, OfferStatus.filled: WORKERS - 1}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == WORKERS

        # Each reminder queued once, for its worker.
        reminders = db.session.execute(sa.select(OutboundMessage.id, OutboundMessage.person_id)
                                       .where(OutboundMessage.kind == "rota.reminder")).all()
        assert sorted(pid for _, pid in reminders) == sorted(reminded_ids)
        outbox = dict(db.session.execute(sa.select(OutboundMessage.id, OutboundMessage.status)).all())
        db.session.remove()

    # Each outbox text handed to a gateway exactly once, by one sender or the other.
    deliveries: Counter[int] = Counter()
    by_sender = []
    for n in range(2):
        path = tmp_path / f"sender{n}.sent"
        lines = path.read_text().split() if path.exists() else []
        ids = [int(outbound) for outbound in lines[1::2]]
        by_sender.append(len(ids))
        deliveries.update(ids)
    assert len(outbox) >= WORKERS + REMINDED  # the offers and the reminders at least
    assert deliveries == Counter(dict.fromkeys(outbox, 1)), "a text was sent twice, or never"
    assert set(outbox.values()) == {DeliveryStatus.queued}
    assert all(deliveries[outbound_id] == 1 for outbound_id, _ in reminders)

    # One clock held the lock, the other stood by.
    assert len(holders) == 1
    holder = holders[0]
    assert (tmp_path / f"clock{holder}.status").read_text().split() == ["held", str(lock_holders[0])]
    assert len(lock_holders) == 1
    assert STANDBY in procs.err(f"clock{1 - holder}")
    assert not (tmp_path / f"clock{1 - holder}.status").exists()
    print(f"two instances: {WORKERS} texts, {len(outbox)} outbox texts sent ({by_sender[0]} + {by_sender[1]}),"
          f" wall time {wall:.1f} s")
    assert wall < DEADLINE + 15
