"""The outbox: texts are rows written with the change, sent by the sender job through
the real twilio Client (over a fake HTTP transport), retried only when safe."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from careteams import notify
from careteams.db import utcnow
from careteams.extensions import db
from careteams.sms import services
from careteams.sms.jobs import send_outbox
from careteams.sms.models import OutboundMessage, SmsOptOut
from careteams.sms.rules import MAX_ATTEMPTS, DeliveryStatus
from tests.factories import CooperativeFactory, PersonFactory
from tests.sms.conftest import connection_refused, read_timeout, twilio_error


def _rows():
    return list(db.session.scalars(sa.select(OutboundMessage).order_by(OutboundMessage.id)))


def _reload(message: OutboundMessage) -> OutboundMessage:
    db.session.expire_all()
    return db.session.get(OutboundMessage, message.id)


def test_enqueue_writes_a_pending_row_and_sends_nothing_yet(app, twilio_http):
    coop = CooperativeFactory(sms_number="+447700900001")
    person = PersonFactory(phone="+447700900123")
    message = services.enqueue(coop, person, "Hello", "test")
    assert message.status == DeliveryStatus.pending
    assert (message.to_number, message.from_number, message.person_id) == ("+447700900123", "+447700900001", person.id)
    assert twilio_http.requests == []


def test_enqueue_by_number_finds_the_person_and_normalises(app, twilio_http):
    person = PersonFactory(phone="+447700900123")
    message = services.enqueue(None, "07700 900123", "Hello", "test")
    assert message.to_number == "+447700900123" and message.person_id == person.id


def test_a_dedupe_key_never_queues_twice(app, twilio_http):
    coop = CooperativeFactory()
    person = PersonFactory()
    first = services.enqueue(coop, person, "Reminder", "reminder", dedupe_key="reminder:shift:1:24h")
    again = services.enqueue(coop, person, "Reminder", "reminder", dedupe_key="reminder:shift:1:24h")
    assert again.id == first.id
    assert len(_rows()) == 1
    send_outbox(utcnow())
    services.enqueue(coop, person, "Reminder", "reminder", dedupe_key="reminder:shift:1:24h")
    send_outbox(utcnow())
    assert len(twilio_http.requests) == 1


def test_an_invalid_number_is_recorded_as_failed_not_sent(app, twilio_http):
    message = services.enqueue(None, "call me", "Hello", "test")
    assert message.status == DeliveryStatus.failed and message.error_message == "not a valid phone number"
    send_outbox(utcnow())
    assert twilio_http.requests == []


def test_notify_text_goes_to_the_outbox_in_the_same_transaction(app, twilio_http):
    coop = CooperativeFactory(sms_number="+447700900001")
    PersonFactory(phone="+447700900123")
    notify.queue(notify.Text(to="+447700900123", body="Your link", from_number="+447700900001"))
    [row] = _rows()
    assert (row.kind, row.cooperative_id, row.status) == ("notice", coop.id, DeliveryStatus.pending)
    # Rolled back with the change that caused it: nothing is ever sent.
    db.session.rollback()
    assert _rows() == []
    send_outbox(utcnow())
    assert twilio_http.requests == []


def test_sender_sends_through_twilio_and_records_the_sid(app, twilio_http, monkeypatch):
    app.config["PUBLIC_BASE_URL"] = "https://care.example.org"
    coop = CooperativeFactory(sms_number="+447700900001")
    message = services.enqueue(coop, PersonFactory(phone="+447700900123"), "Booked: Tue 10:00", "test")
    result = send_outbox(utcnow())
    assert result == {"accepted": 1}
    [request] = twilio_http.requests
    assert request["method"] == "POST" and request["uri"].endswith("/Messages.json")
    assert request["data"]["To"] == "+447700900123" and request["data"]["From"] == "+447700900001"
    assert request["data"]["Body"] == "Booked: Tue 10:00"
    assert request["data"]["StatusCallback"] == f"https://care.example.org/sms/status?outbound={message.id}"
    message = _reload(message)
    assert message.status == DeliveryStatus.queued and message.sid.startswith("SM") and message.attempts == 1
    # Sent once: a second run finds nothing to do.
    assert send_outbox(utcnow()) == {}
    assert len(twilio_http.requests) == 1


def test_rate_limited_is_retried_with_backoff_then_sent(app, twilio_http):
    twilio_http.script = [twilio_error(429, 20429, "Too Many Requests"), twilio_error(503, 20503, "Service unavailable")]
    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    now = utcnow()
    assert send_outbox(now) == {"retry": 1}
    message = _reload(message)
    assert message.status == DeliveryStatus.pending and message.error_code == "20429"
    assert message.next_attempt_at == now + timedelta(seconds=30)
    # Not before the backoff.
    assert send_outbox(now + timedelta(seconds=10)) == {}
    assert send_outbox(now + timedelta(seconds=30)) == {"retry": 1}
    assert _reload(message).next_attempt_at == now + timedelta(seconds=90)
    assert send_outbox(now + timedelta(seconds=90)) == {"accepted": 1}
    message = _reload(message)
    assert message.status == DeliveryStatus.queued and message.attempts == 3
    assert len(twilio_http.requests) == 3


def test_connection_refused_is_retried(app, twilio_http):
    twilio_http.script = [connection_refused()]
    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    now = utcnow()
    assert send_outbox(now) == {"retry": 1}
    assert _reload(message).status == DeliveryStatus.pending
    assert send_outbox(now + timedelta(minutes=1)) == {"accepted": 1}


def test_retries_give_up_visibly(app, twilio_http):
    twilio_http.default = lambda data: twilio_error(503, 20503, "Service unavailable")
    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    now = utcnow()
    for _ in range(MAX_ATTEMPTS):
        send_outbox(now)
        now += timedelta(hours=2)
    message = _reload(message)
    assert message.status == DeliveryStatus.failed and "gave up" in message.error_message
    assert len(twilio_http.requests) == MAX_ATTEMPTS
    send_outbox(now)
    assert len(twilio_http.requests) == MAX_ATTEMPTS


def test_opted_out_error_21610_fails_without_retry_and_records_the_opt_out(app, twilio_http):
    twilio_http.script = [twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")]
    person = PersonFactory(phone="+447700900123")
    message = services.enqueue(None, person, "Hi", "test")
    later = services.enqueue(None, person, "Another", "test")
    assert send_outbox(utcnow()) == {"failed": 1, "skipped": 1}
    message = _reload(message)
    assert (message.status, message.error_code) == (DeliveryStatus.failed, "21610")
    assert _reload(later).status == DeliveryStatus.skipped
    assert services.is_opted_out("+447700900123", person)
    send_outbox(utcnow() + timedelta(days=1))
    assert len(twilio_http.requests) == 1


def test_other_permanent_failures_are_recorded_not_retried(app, twilio_http):
    twilio_http.script = [twilio_error(400, 21211, "The 'To' number is not a valid phone number.")]
    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    assert send_outbox(utcnow()) == {"failed": 1}
    message = _reload(message)
    assert message.status == DeliveryStatus.failed and message.error_code == "21211"
    assert "not a valid phone number" in message.error_message
    send_outbox(utcnow() + timedelta(days=1))
    assert len(twilio_http.requests) == 1


def test_a_timeout_after_sending_is_unknown_and_never_resent(app, twilio_http):
    twilio_http.script = [read_timeout()]
    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    assert send_outbox(utcnow()) == {"unknown": 1}
    message = _reload(message)
    assert message.status == DeliveryStatus.unknown and message.sid is None
    send_outbox(utcnow() + timedelta(days=1))
    assert len(twilio_http.requests) == 1


def test_a_500_from_twilio_is_unknown_not_retried(app, twilio_http):
    twilio_http.script = [twilio_error(500, 20500, "Internal Server Error")]
    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    assert send_outbox(utcnow()) == {"unknown": 1}
    assert _reload(message).status == DeliveryStatus.unknown


def test_a_sender_that_died_mid_send_leaves_unknown_not_a_resend(app, twilio_http):
    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    now = utcnow()
    assert services.claim_outbound(now, 10) == [message.id]  # ...and then the process died
    send_outbox(now + timedelta(minutes=5))
    assert _reload(message).status == DeliveryStatus.claimed
    send_outbox(now + timedelta(minutes=11))
    assert _reload(message).status == DeliveryStatus.unknown
    assert twilio_http.requests == []


def test_texts_to_an_opted_out_person_are_skipped_visibly(app, twilio_http):
    person = PersonFactory(phone="+447700900123")
    services.record_opt_out("+447700900123", person, None, "STOP")
    message = services.enqueue(None, person, "Hi", "test")
    assert message.status == DeliveryStatus.skipped
    send_outbox(utcnow())
    assert twilio_http.requests == []


def test_opting_out_after_queueing_stops_the_queued_text(app, twilio_http):
    person = PersonFactory(phone="+447700900123")
    other = services.enqueue(None, PersonFactory(), "Hi", "test")
    message = services.enqueue(None, person, "Hi", "test")
    services.record_opt_out("+447700900123", person, None, "STOP")
    assert send_outbox(utcnow()) == {"accepted": 1}
    assert _reload(message).status == DeliveryStatus.skipped
    assert _reload(other).status == DeliveryStatus.queued
    assert [r["data"]["To"] for r in twilio_http.requests] == [other.to_number]


def test_opt_out_is_per_person_across_numbers(app, twilio_http):
    person = PersonFactory(phone="+447700900123")
    services.record_opt_out("+447700900123", person, None, "STOP")
    person.phone = "+447700900999"  # a new phone does not quietly opt them back in
    db.session.flush()
    assert services.enqueue(None, person, "Hi", "test").status == DeliveryStatus.skipped
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsOptOut)) == 1


def test_sms_outbox_fixture_sees_texts_after_the_sender_runs(app, sms_outbox):
    services.enqueue(None, PersonFactory(phone="+447700900123"), "Hello", "test")
    assert [(t.to, t.body) for t in sms_outbox] == [("+447700900123", "Hello")]
    assert _rows()[0].status == DeliveryStatus.queued


def test_invitation_by_text_is_queued_in_the_outbox(app, sms_outbox):
    from careteams.auth.services import send_invitation

    person = PersonFactory(phone="+447700900123")
    coop = CooperativeFactory(sms_number="+447700900001")
    with app.test_request_context():
        send_invitation(person, None, coop.name, from_number=coop.sms_number)
    [row] = _rows()
    assert row.to_number == "+447700900123" and row.status == DeliveryStatus.pending
    assert len(sms_outbox) == 1 and sms_outbox[0].from_number == "+447700900001"


def test_only_errors_before_the_request_left_are_retryable():
    import requests
    from urllib3.exceptions import ProtocolError

    from careteams.sms.gateway import classify
    from careteams.sms.rules import SendOutcome

    assert classify(connection_refused()).outcome == SendOutcome.retry
    assert classify(requests.exceptions.ConnectTimeout("connect timed out")).outcome == SendOutcome.retry
    assert classify(ConnectionRefusedError(111, "Connection refused")).outcome == SendOutcome.retry
    # The connection dropped after the request was written: Twilio may have it.
    aborted = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104)))
    assert classify(aborted).outcome == SendOutcome.unknown
    assert classify(read_timeout()).outcome == SendOutcome.unknown
    assert classify(RuntimeError("boom")).outcome == SendOutcome.unknown
