"""The sender never strands texts (issue 13): the console gateway's message ids are
unique across processes and restarts, and one message whose send or recording fails
is settled on its own while the rest of its claimed batch goes."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.sms import services
from careteams.sms.gateway import ConsoleGateway, MemoryGateway, SentText
from careteams.sms.jobs import send_outbox
from careteams.sms.models import OutboundMessage
from careteams.sms.rules import DeliveryStatus


def _statuses() -> list[DeliveryStatus]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboundMessage.status).order_by(OutboundMessage.id)))


def test_a_restarted_console_sender_does_not_reuse_message_ids(app, capsys):
    """`flask sms simulate` twice, or the demo restarted: each process has its own gateway."""
    services.enqueue(None, "+447700900123", "first run", "test")
    assert send_outbox(utcnow(), gateway=ConsoleGateway()) == {"accepted": 1}
    services.enqueue(None, "+447700900123", "second run", "test")
    services.enqueue(None, "+447700900124", "second run too", "test")
    assert send_outbox(utcnow(), gateway=ConsoleGateway()) == {"accepted": 2}  # a new process
    assert _statuses() == [DeliveryStatus.queued] * 3
    sids = db.session.scalars(sa.select(OutboundMessage.sid)).all()
    assert len(set(sids)) == 3 and all(sid.startswith("SMCONSOLE") and len(sid) <= 64 for sid in sids)
    assert "second run too" in capsys.readouterr().out


def test_memory_gateways_in_two_processes_do_not_reuse_ids_either():
    first = MemoryGateway().send(to="+447700900123", body="a")
    second = MemoryGateway().send(to="+447700900123", body="b")
    assert first.sid != second.sid


class SameIdGateway:
    """A provider that hands out one id twice (what the console gateway did after a restart)."""

    def __init__(self):
        self.sent: list[str] = []

    def send(self, *, to, body, from_number=None, status_callback=None):
        self.sent.append(body)
        return SentText(to, body, from_number, "SMSAME" + "0" * 28)


def test_a_clashing_message_id_never_strands_the_claimed_batch(app):
    for n in range(3):
        services.enqueue(None, "+447700900123", f"text {n}", "test")
    gateway = SameIdGateway()
    counts = send_outbox(utcnow(), gateway=gateway)
    assert gateway.sent == ["text 0", "text 1", "text 2"]  # every text went, once
    assert counts == {"accepted": 3}
    assert DeliveryStatus.claimed not in _statuses()
    assert _statuses() == [DeliveryStatus.queued] * 3
    rows = db.session.execute(sa.select(OutboundMessage.sid, OutboundMessage.error_message)
                              .order_by(OutboundMessage.id)).all()
    assert rows[0] == ("SMSAME" + "0" * 28, None)
    assert all(sid is None and "could not be recorded" in why for sid, why in rows[1:])
    # Nothing is sent again.
    assert send_outbox(utcnow(), gateway=gateway) == {}
    assert len(gateway.sent) == 3


def test_a_failure_before_the_send_puts_the_text_back_in_the_queue(app, monkeypatch):
    for n in range(2):
        services.enqueue(None, "+447700900123", f"text {n}", "test")
    calls = []

    def broken_callback_url(message_id):
        calls.append(message_id)
        if len(calls) == 1:
            raise RuntimeError("misconfigured")
        return None

    monkeypatch.setattr(services, "status_callback_url", broken_callback_url)
    gateway = MemoryGateway()
    counts = send_outbox(utcnow(), gateway=gateway)
    assert counts == {"retry": 1, "accepted": 1}
    assert [t.body for t in gateway.sent] == ["text 1"]
    assert _statuses() == [DeliveryStatus.pending, DeliveryStatus.queued]  # never left claimed
