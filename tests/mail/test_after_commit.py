"""Issue 13's findings about email: an email queued before a savepoint went when the
savepoint was released (SQLAlchemy fires after_commit there), before the request's
transaction committed and while its row locks were held; and emails were sent by
the request itself, with no SMTP timeout, so a hung mail server hung the request.

This file imports only what existed before the outbox, so it runs (and fails for
the right reasons) on the code as it was: the sender is reached through the
clock's registry and the `mail_outbox` fixture.
"""

from __future__ import annotations

import sqlalchemy as sa

from careteams import notify
from careteams.extensions import db, mail
from careteams.members.models import ContactChannel, Person
from careteams.scheduler import run_job
from tests.conftest import requires_postgres
from tests.factories import PersonFactory
from tests.helpers import csrf_from
from tests.mail import backends


def test_an_email_queued_before_a_savepoint_leaves_only_after_the_commit(committed_app, database_url,
                                                                          monkeypatch):
    """Shaped like governance's tell_electorate: an email to one person, then a text
    to the next (its own savepoint). The email used to go when that savepoint was
    released, while the change was uncommitted and its row locks held. At the
    moment of sending, a second connection must see the change committed."""
    requires_postgres(database_url)  # read committed, on a real second connection
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


def test_a_request_that_emails_only_writes_the_outbox(client, app, monkeypatch, mail_outbox):
    """Password reset by email: the request answers without touching the mail
    server (the test backend fails a request that does); the sender sends later."""
    monkeypatch.setattr(app.extensions["mailman"], "backend", backends.PATH)
    person = PersonFactory(preferred_channel=ContactChannel.email)
    csrf = csrf_from(client.get("/reset").get_data(as_text=True))
    assert client.post("/reset", data={"email": person.email, "csrf_token": csrf}).status_code == 200
    assert app.extensions["mailman"].outbox == []  # nothing sent by the request
    queued = db.session.execute(sa.text("SELECT to_address, status FROM outbound_email")).all()
    assert [tuple(row) for row in queued] == [(person.email, "pending")]
    [sent] = mail_outbox  # runs the sender, as the clock would
    assert sent.to == [person.email] and "/reset/" in sent.body
    rows = db.session.execute(sa.text("SELECT status, body FROM outbound_email")).all()
    assert [tuple(row) for row in rows] == [("sent", "")]  # the one-time link does not outlive the email


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
    assert app.config.get("MAIL_TIMEOUT") and 0 < app.config["MAIL_TIMEOUT"] <= 30
    assert mail.get_connection(backend="smtp").timeout == app.config["MAIL_TIMEOUT"]


def test_the_timeout_comes_from_the_environment(monkeypatch):
    import config

    monkeypatch.setenv("MAIL_TIMEOUT", "7.5")
    assert config.load("production")["MAIL_TIMEOUT"] == 7.5
    monkeypatch.delenv("MAIL_TIMEOUT")
    assert config.load("production")["MAIL_TIMEOUT"] == config.Base.MAIL_TIMEOUT
