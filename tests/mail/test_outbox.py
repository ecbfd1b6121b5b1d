"""The email outbox and its sender: retries, unknown, an unreachable server, a
poison email, two senders at once, the CLI (the issue's findings themselves are
in test_after_commit.py)."""

from __future__ import annotations

import smtplib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from careteams import notify
from careteams.extensions import db
from careteams.mail import rules, services
from careteams.mail.enums import EmailStatus
from careteams.mail.jobs import INTERVAL_SECONDS, send_outbox
from careteams.mail.models import OutboundEmail
from careteams.scheduler import load_jobs
from careteams.sms import rules as sms_rules
from tests.conftest import requires_postgres
from tests.mail import backends

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _emails(status: EmailStatus | None = None) -> list[OutboundEmail]:
    query = sa.select(OutboundEmail).order_by(OutboundEmail.id)
    if status is not None:
        query = query.where(OutboundEmail.status == status)
    return list(db.session.scalars(query))


class FakeConnection:
    """A Flask-Mailman backend standing in for an SMTP server: `refuse` maps an
    address to the exception sending to it raises; `unreachable` makes open() fail."""

    def __init__(self, refuse: dict | None = None, unreachable: Exception | None = None):
        self.refuse = refuse or {}
        self.unreachable = unreachable
        self.sent: list = []
        self.opened = 0
        self.closed = 0

    def open(self):
        self.opened += 1
        if self.unreachable is not None:
            raise self.unreachable
        return True

    def close(self):
        self.closed += 1

    def send_messages(self, messages):
        for message in messages:
            error = self.refuse.get(message.to[0])
            if error is not None:
                raise error
            self.sent.append(message)
        return len(messages)


# --- the sender -------------------------------------------------------------------


def test_the_clock_sends_emails_every_few_seconds():
    registered = load_jobs()["mail.send_outbox"]
    assert registered.trigger == "interval" and registered.trigger_args == {"seconds": INTERVAL_SECONDS}
    assert INTERVAL_SECONDS <= 5


def test_a_rolled_back_change_queues_no_email(app):
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            notify.queue(notify.Email(to="a@example.org", subject="s", body="b"))
            raise RuntimeError("the change fails")
    with notify.quiet():
        notify.queue(notify.Email(to="b@example.org", subject="s", body="b"))
    assert _emails() == []


def test_a_header_cannot_be_smuggled_and_a_bad_address_is_kept_failed(app):
    good = services.enqueue("a@example.org", "Hello\nBcc: x@example.org", "b", now=NOW)
    bad = services.enqueue("not an address", "s", "b", now=NOW)
    assert good.subject == "Hello Bcc: x@example.org"
    assert bad.status == EmailStatus.failed and bad.error_message == "not a valid email address"
    assert services.enqueue("  ", "s", "b") is None


def test_retry_rules_are_the_sms_outbox_rules():
    assert rules.MAX_ATTEMPTS == sms_rules.MAX_ATTEMPTS
    assert rules.CLAIM_TIMEOUT == sms_rules.CLAIM_TIMEOUT
    assert [rules.retry_delay(n) for n in range(1, 10)] == [sms_rules.retry_delay(n) for n in range(1, 10)]


def test_a_temporary_refusal_is_retried_later_and_given_up_after_max_attempts(app):
    services.enqueue("busy@example.org", "s", "b", now=NOW)
    refusal = smtplib.SMTPRecipientsRefused({"busy@example.org": (451, b"try later")})
    connection = FakeConnection(refuse={"busy@example.org": refusal})
    now = NOW
    for attempt in range(1, rules.MAX_ATTEMPTS):
        assert send_outbox(now, connection=connection) == {"retry": 1}
        [row] = _emails()
        db.session.refresh(row)
        assert row.status == EmailStatus.pending and row.attempts == attempt and row.error_code == "451"
        assert row.next_attempt_at == now + rules.retry_delay(attempt)
        assert send_outbox(now, connection=connection) == {}  # not due yet
        now = row.next_attempt_at
    assert send_outbox(now, connection=connection) == {"failed": 1}
    [row] = _emails()
    db.session.refresh(row)
    assert row.status == EmailStatus.failed and row.error_message.startswith("gave up after 6 attempts")
    assert row.body == ""


def test_a_permanent_refusal_fails_at_once_and_the_others_still_go(app):
    for address in ("a@example.org", "gone@example.org", "c@example.org"):
        services.enqueue(address, "s", "b", now=NOW)
    refusal = smtplib.SMTPRecipientsRefused({"gone@example.org": (550, b"no such user")})
    connection = FakeConnection(refuse={"gone@example.org": refusal})
    assert send_outbox(NOW, connection=connection) == {"sent": 2, "failed": 1}
    assert [m.to[0] for m in connection.sent] == ["a@example.org", "c@example.org"]
    assert {e.to_address: e.status for e in _emails()}["gone@example.org"] == EmailStatus.failed


def test_a_timeout_after_the_message_left_is_unknown_never_resent(app):
    services.enqueue("slow@example.org", "s", "b", now=NOW)
    services.enqueue("fine@example.org", "s", "b", now=NOW)
    connection = FakeConnection(refuse={"slow@example.org": TimeoutError("timed out")})
    assert send_outbox(NOW, connection=connection) == {"unknown": 1, "sent": 1}
    assert send_outbox(NOW + timedelta(days=1), connection=connection) == {}
    slow = _emails()[0]
    db.session.refresh(slow)
    assert slow.status == EmailStatus.unknown and slow.error_message == "TimeoutError"


def test_a_mail_server_that_cannot_be_reached_ends_the_run_and_nothing_is_lost(app):
    for n in range(3):
        services.enqueue(f"p{n}@example.org", "s", "b", now=NOW)
    down = FakeConnection(unreachable=TimeoutError("connect timed out"))
    assert send_outbox(NOW, connection=down) == {"unreachable": 1}
    assert down.opened == 1  # the others did not wait for the same timeout
    rows = _emails()
    for row in rows:
        db.session.refresh(row)
    assert [(r.status, r.attempts) for r in rows] == [(EmailStatus.pending, 1), (EmailStatus.pending, 0),
                                                      (EmailStatus.pending, 0)]
    up = FakeConnection()
    assert send_outbox(NOW + timedelta(minutes=1), connection=up) == {"sent": 3}


def test_a_poison_email_is_set_aside_alone_and_the_job_carries_on(app, monkeypatch, caplog):
    """An error nobody foresaw while sending one email (here: in classifying a
    refusal) rolls back that email alone; it is marked unknown and the rest go."""
    for address in ("a@example.org", "poison@example.org", "c@example.org"):
        services.enqueue(address, "s", "b", now=NOW)

    def broken(exc):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "classify_send_error", broken)
    connection = FakeConnection(refuse={"poison@example.org": smtplib.SMTPDataError(554, b"no")})
    assert send_outbox(NOW, connection=connection) == {"sent": 2, "unknown": 1}
    assert [m.to[0] for m in connection.sent] == ["a@example.org", "c@example.org"]
    assert {e.to_address: e.status for e in _emails()}["poison@example.org"] == EmailStatus.unknown
    assert "outbound_email:" in caplog.text


def test_a_sender_that_vanished_mid_send_leaves_unknown_not_resent(app):
    services.enqueue("a@example.org", "s", "b", now=NOW)
    assert services.claim_due(NOW, 10)
    db.session.commit()
    assert send_outbox(NOW + rules.CLAIM_TIMEOUT - timedelta(seconds=1), connection=FakeConnection()) == {}
    assert _emails(EmailStatus.claimed)
    assert send_outbox(NOW + rules.CLAIM_TIMEOUT + timedelta(seconds=1), connection=FakeConnection()) == {}
    [row] = _emails()
    db.session.refresh(row)
    assert row.status == EmailStatus.unknown and row.body == ""


def test_two_senders_never_send_one_email_twice(app):
    services.enqueue("a@example.org", "s", "b", now=NOW)
    first = services.claim_due(NOW, 10)
    assert first and services.claim_due(NOW, 10) == []


def test_mail_outbox_cli_shows_states_and_never_bodies(app):
    services.enqueue("a@example.org", "Your link", "secret-link-body", now=NOW)
    services.enqueue("nope", "s", "b", now=NOW)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "outbox"])
    assert result.exit_code == 0, result.output
    assert "failed 1" in result.output and "pending 1" in result.output
    assert "a@example.org" in result.output and "secret-link-body" not in result.output
    failed = app.test_cli_runner().invoke(args=["mail", "outbox", "--status", "failed"])
    assert "not a valid email address" in failed.output and "a@example.org" not in failed.output


def test_the_mail_outbox_fixture_runs_the_sender(app, mail_outbox):
    notify.queue(notify.Email(to="a@example.org", subject="s", body="hello"))
    db.session.commit()
    assert [m.body for m in mail_outbox] == ["hello"]
    assert _emails()[0].status == EmailStatus.sent


def test_two_senders_at_once_send_each_email_once(committed_app, database_url):
    """Two clocks (or a clock and `flask mail send`) at the same moment, on real
    connections: FOR UPDATE SKIP LOCKED and the claim token give each email to one."""
    requires_postgres(database_url)
    committed_app.extensions["mailman"].backend = backends.PATH
    committed_app.extensions["mailman"].outbox = []
    with committed_app.app_context():
        for n in range(12):
            services.enqueue(f"p{n}@example.org", "s", f"body {n}", now=NOW)
        db.session.commit()

    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def sender() -> None:
        with committed_app.app_context():
            barrier.wait()
            try:
                results.append(send_outbox(NOW, batch_size=3))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sent = [m.to[0] for m in committed_app.extensions["mailman"].outbox]
    assert sorted(sent) == sorted(f"p{n}@example.org" for n in range(12))
    assert sum(r.get("sent", 0) for r in results) == 12
