"""The email outbox: emails leave only after commit, never inside a request, and a
bad email or a hung mail server never stops the sender (issue 13, "Messages only
after commit, and never inside a request")."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from careteams import notify
from careteams.extensions import db, mail
from careteams.mail import rules, services
from careteams.mail.enums import EmailStatus
from careteams.mail.jobs import INTERVAL_SECONDS, send_outbox
from careteams.mail.models import OutboundEmail
from careteams.members.models import ContactChannel, Person
from careteams.scheduler import load_jobs, run_job
from careteams.sms import rules as sms_rules
from tests.conftest import requires_postgres
from tests.factories import PersonFactory
from tests.helpers import csrf_from
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


# --- Found: delivered at a savepoint's release, before the commit ------------------


def test_an_email_queued_before_a_savepoint_leaves_only_after_the_commit(committed_app, database_url,
                                                                          monkeypatch):
    """Shaped like governance's tell_electorate: an email to one person, then a text
    to the next (its own savepoint). The email used to go when that savepoint was
    released, while the change was uncommitted and its row locks held. At the
    moment of sending, a second connection must see the change committed."""
    requires_postgres(database_url)  # read committed on a real second connection
    committed_app.extensions["mailman"].backend = backends.PATH
    with committed_app.app_context():
        emailer = PersonFactory(name="Edna Before", preferred_channel=ContactChannel.email)
        texter = PersonFactory(preferred_channel=ContactChannel.sms)
        db.session.commit()
        ids = {"emailer": emailer.id, "texter_phone": texter.phone, "email": emailer.email}

    seen: list[str | None] = []

    def look_from_another_connection(messages) -> None:
        with db.engine.connect() as other:
            seen.append(other.execute(sa.select(Person.name).where(Person.id == ids["emailer"])).scalar())

    monkeypatch.setattr(backends, "on_send", [look_from_another_connection])

    with committed_app.app_context():
        person = db.session.get(Person, ids["emailer"])
        person.name = "Edna After"
        db.session.flush()
        notify.queue(notify.Email(to=ids["email"], subject="Your co-op", body="Something changed."))
        notify.queue(notify.Text(to=ids["texter_phone"], body="Something changed."))  # a savepoint
        assert seen == [], f"an email left before the transaction committed (it saw {seen})"
        db.session.commit()
        db.session.remove()
    assert seen == [], "nothing is sent at commit either: the sender job sends"

    run_job(committed_app, "mail.send_outbox")
    assert seen == ["Edna After"]  # the change was committed when the email went


# --- Found: no request opens a connection to the mail server -----------------------


def test_a_request_that_emails_only_writes_the_outbox(client, app, monkeypatch):
    """Password reset by email: the request answers without touching the mail
    server (the test backend fails a request that does); the sender sends later."""
    monkeypatch.setattr(app.extensions["mailman"], "backend", backends.PATH)
    monkeypatch.setattr(app.extensions["mailman"], "outbox", [], raising=False)
    person = PersonFactory(preferred_channel=ContactChannel.email)
    csrf = csrf_from(client.get("/reset").get_data(as_text=True))
    assert client.post("/reset", data={"email": person.email, "csrf_token": csrf}).status_code == 200
    assert app.extensions["mailman"].outbox == []
    [queued] = _emails()
    assert queued.to_address == person.email and queued.status == EmailStatus.pending
    assert "/reset/" in queued.body
    assert send_outbox(datetime.now(UTC)) == {"sent": 1}
    [sent] = app.extensions["mailman"].outbox
    assert sent.to == [person.email] and "/reset/" in sent.body
    assert _emails()[0].status == EmailStatus.sent
    assert _emails()[0].body == ""  # the one-time link does not outlive the email


def test_on_committed_data_the_reset_link_is_committed_when_its_email_leaves(committed_app, database_url,
                                                                              monkeypatch):
    requires_postgres(database_url)
    committed_app.extensions["mailman"].backend = backends.PATH
    with committed_app.app_context():
        person = PersonFactory(preferred_channel=ContactChannel.email)
        db.session.commit()
        person_id, email = person.id, person.email

    links: list[int] = []

    def count_links(messages) -> None:
        with db.engine.connect() as other:
            links.append(other.execute(sa.text(
                "SELECT count(*) FROM one_time_link WHERE person_id = :p"), {"p": person_id}).scalar())

    monkeypatch.setattr(backends, "on_send", [count_links])
    client = committed_app.test_client()
    csrf = csrf_from(client.get("/reset").get_data(as_text=True))
    assert client.post("/reset", data={"email": email, "csrf_token": csrf}).status_code == 200
    assert links == []
    assert run_job(committed_app, "mail.send_outbox") == {"sent": 1}
    assert links == [1]


def test_smtp_connections_have_a_timeout(app):
    assert app.config["MAIL_TIMEOUT"] and 0 < app.config["MAIL_TIMEOUT"] <= 30
    assert mail.get_connection(backend="smtp").timeout == app.config["MAIL_TIMEOUT"]


def test_the_timeout_comes_from_the_environment(monkeypatch):
    import config

    monkeypatch.setenv("MAIL_TIMEOUT", "7.5")
    assert config.load("production")["MAIL_TIMEOUT"] == 7.5
    monkeypatch.delenv("MAIL_TIMEOUT")
    assert config.load("production")["MAIL_TIMEOUT"] == config.Base.MAIL_TIMEOUT


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
