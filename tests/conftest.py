"""Test harness: the schema is built from migrations once per run, and each test
runs inside an outer transaction that is rolled back (the engine-level savepoint
recipe), so tests are isolated and fast.

SQLite by default; PostgreSQL when CARETEAMS_TEST_DATABASE_URL is set. Tests that
need several real connections at once use `committed_app` instead, which works on
committed data and truncates every table afterwards.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from careteams import create_app
from careteams.extensions import db, limiter

PG_URL = os.environ.get("CARETEAMS_TEST_DATABASE_URL")


def _faker_seed() -> int:
    """The seed for factory-boy's random data (names such as O'Neill, emails...):
    CARETEAMS_TEST_SEED, or a new one each run. It is printed in the header, so
    a failure that depends on the data can be run again with the same data."""
    import random

    return int(os.environ.get("CARETEAMS_TEST_SEED") or random.SystemRandom().randrange(10**6))


FAKER_SEED = _faker_seed()


def pytest_configure(config):
    """CARETEAMS_TEST_NOW=2028-03-01T10:00:00+00:00 runs the suite as if on that
    day (the clock keeps ticking from there). Tests must pass on any day: this
    finds the ones that quietly depend on today's date."""
    import factory.random

    factory.random.reseed_random(FAKER_SEED)
    when = os.environ.get("CARETEAMS_TEST_NOW")
    if when:
        from datetime import datetime

        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(when), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header(config):
    lines = [f"careteams: test data seed {FAKER_SEED} (run again with CARETEAMS_TEST_SEED={FAKER_SEED})"]
    when = os.environ.get("CARETEAMS_TEST_NOW")
    if when:
        lines.append(f"careteams: running as if now were {when} (CARETEAMS_TEST_NOW)")
    return lines


def _url() -> str:
    if PG_URL:
        url = PG_URL
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix):]
        return url
    path = Path(tempfile.mkdtemp(prefix="careteams-test-")) / "test.sqlite"
    return f"sqlite:///{path}"


def make_app(url: str, **overrides):
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture(scope="session")
def database_url() -> str:
    """A database whose schema was built by running every migration."""
    import flask_migrate

    url = _url()
    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


class CommittingClient(FlaskClient):
    """Commits the test's own setup before each request, as if it had happened
    earlier: a request that fails and rolls back then loses only its own work.
    (Commits only release a savepoint: the outer transaction is still rolled
    back after the test.)"""

    def open(self, *args, **kwargs):
        db.session.commit()
        # A fresh app context per request, as in production: its own `g` and
        # its own database session (on the same test connection).
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url):
    """An app whose every session joins one outer transaction, rolled back after."""
    app = make_app(database_url)
    app.test_client_class = CommittingClient
    ctx = app.app_context()
    ctx.push()
    engines = db.engines
    saved = []
    for key, engine in list(engines.items()):
        connection = engine.connect()
        transaction = connection.begin()
        engines[key] = connection
        saved.append((key, engine, connection, transaction))
    limiter.reset()
    try:
        yield app
    finally:
        db.session.remove()
        for key, engine, connection, transaction in saved:
            transaction.rollback()
            connection.close()
            engines[key] = engine
            engine.dispose()
        ctx.pop()


def truncate_all(engine: sa.engine.Engine) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(sa.text(f"DELETE FROM {name}"))


@pytest.fixture
def committed_app(database_url):
    """An app on real, committed data (for concurrency tests); cleaned afterwards."""
    app = make_app(database_url)
    with app.app_context():
        truncate_all(db.engine)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            truncate_all(db.engine)
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth_headers(app):
    """auth_headers(person) -> headers with a fresh bearer token for that person."""
    from careteams.auth.services import create_api_token

    def make(person) -> dict:
        _, secret = create_api_token(person, "test")
        db.session.flush()
        return {"Authorization": f"Bearer {secret}"}

    return make


class _SentTexts:
    """The memory gateway's sent texts; reading it first runs the outbox sender,
    as the clock would, so `sms_outbox[0].body` sees texts queued by a request."""

    def __init__(self, sent):
        self._sent = sent

    def _drain(self):
        from careteams.db import utcnow
        from careteams.sms.jobs import send_outbox

        send_outbox(utcnow())
        return self._sent

    def __len__(self):
        return len(self._drain())

    def __getitem__(self, index):
        return self._drain()[index]

    def __iter__(self):
        return iter(list(self._drain()))

    def __eq__(self, other):
        return list(self._drain()) == other

    def __repr__(self):
        return repr(self._sent)


@pytest.fixture
def sms_outbox(app):
    """Texts sent through the memory gateway (the outbox is sent on each read)."""
    from careteams.sms.gateway import get_gateway

    return _SentTexts(get_gateway().sent)


@pytest.fixture
def mail_outbox(app):
    """Emails kept by Flask-Mailman's locmem backend."""
    app.extensions["mailman"].outbox = []
    return app.extensions["mailman"].outbox


def requires_postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (set CARETEAMS_TEST_DATABASE_URL); CI always runs it")
