"""Test harness: the schema is built from migrations once per run (once per
xdist worker, each in its own database), one app serves every test of the
session, and each test runs inside an outer transaction that is rolled back (the
engine-level savepoint recipe), so tests are isolated and fast.

Isolation with one shared app: besides the rolled-back transaction, every test
gets its own app context (so its own `g` and login state), and after it the
app's config, its extensions registry (the SMS gateway, the mail outbox...), its
Jinja environment and the process-wide extension objects (the limiter, the API)
are put back exactly as they were; the limiter's counters are reset. Tests that
need a differently configured app build their own with make_app();
tests/test_isolation.py proves nothing leaks from one test to the next.

SQLite by default; PostgreSQL when CARETEAMS_TEST_DATABASE_URL is set. Tests that
need several real connections at once use `committed_app` instead, which works on
committed data and truncates every table afterwards (only in its own worker's
database).
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from careteams import create_app
from careteams.extensions import api, csrf, db, limiter, login_manager, mail, migrate

PG_URL = os.environ.get("CARETEAMS_TEST_DATABASE_URL")
# pytest-xdist names its workers gw0, gw1...; unset when the suite runs in one process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _faker_seed() -> int:
    """The seed for factory-boy's random data (names such as O'Neill, emails...):
    CARETEAMS_TEST_SEED, or a new one each run. It is printed in the header, so
    a failure that depends on the data can be run again with the same data.
    Under xdist the controller picks it and hands it to every worker."""
    import random

    return int(os.environ.get("CARETEAMS_TEST_SEED") or random.SystemRandom().randrange(10**6))


FAKER_SEED = _faker_seed()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist (controller side): every worker uses the controller's seed."""
    node.workerinput["careteams_seed"] = FAKER_SEED


def pytest_configure(config):
    """CARETEAMS_TEST_NOW=2028-03-01T10:00:00+00:00 runs the suite as if on that
    day (the clock keeps ticking from there). Tests must pass on any day: this
    finds the ones that quietly depend on today's date. (xdist workers inherit
    the environment, so each of them travels too.)"""
    global FAKER_SEED
    import factory.random

    workerinput = getattr(config, "workerinput", None)
    if workerinput and "careteams_seed" in workerinput:
        FAKER_SEED = workerinput["careteams_seed"]
    factory.random.reseed_random(FAKER_SEED)
    when = os.environ.get("CARETEAMS_TEST_NOW")
    if when:
        from datetime import datetime

        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(when), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


@pytest.fixture(autouse=True)
def _test_data_seed(request):
    """Each test's random data depends only on the seed and the test's id, not on
    which tests ran before it in the same process: so CARETEAMS_TEST_SEED replays
    a test's data whether the suite ran in one process or spread over workers."""
    import factory.random

    factory.random.reseed_random(f"{FAKER_SEED}:{request.node.nodeid}")


def pytest_report_header(config):
    lines = [f"careteams: test data seed {FAKER_SEED} (run again with CARETEAMS_TEST_SEED={FAKER_SEED})"]
    when = os.environ.get("CARETEAMS_TEST_NOW")
    if when:
        lines.append(f"careteams: running as if now were {when} (CARETEAMS_TEST_NOW)")
    return lines


def _worker_database(url: str) -> str:
    """Under xdist, a database of the worker's own (`test_gw0` next to `test`),
    created afresh from the configured one, so workers never share data (and
    committed_app's truncation touches only its own worker's tables)."""
    if not WORKER:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{WORKER}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _url() -> str:
    if PG_URL:
        url = PG_URL
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix):]
        return _worker_database(url)
    # A directory of this process's own: each xdist worker has its own file.
    path = Path(tempfile.mkdtemp(prefix=f"careteams-test-{WORKER or 'main'}-")) / "test.sqlite"
    return f"sqlite:///{path}"


def make_app(url: str, **overrides):
    # The mail backend fails the test if a request ever sends an email (tests/mail/backends.py).
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url,
                       "MAIL_BACKEND": "tests.mail.backends.EmailBackend", **overrides})


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


# The process-wide extension objects: init_app() on another app (make_app in a
# test, committed_app, the browser's live server) points them at that app's
# settings and storage (the limiter's `enabled` flag and counters, the API's
# config and spec); each test on the shared app starts with them pointed back.
_EXTENSIONS = (api, csrf, limiter, login_manager, mail, migrate)


class _AppState:
    """What a test may change on the shared app, saved once and put back after
    each test: config (deep-copied, so values changed in place come back too),
    `app.extensions`, the Jinja environment, and the extension objects."""

    def __init__(self, app):
        self.app = app
        self.config = copy.deepcopy(dict(app.config))
        self.extensions = dict(app.extensions)
        env = app.jinja_env
        self.jinja = (env.auto_reload, dict(env.globals), dict(env.filters), dict(env.tests))
        self.objects = [(ext, dict(vars(ext))) for ext in _EXTENSIONS]

    def enter(self) -> None:
        for ext, saved in self.objects:
            vars(ext).update(saved)
        limiter.reset()

    def restore(self) -> None:
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        mailman = app.extensions.get("mailman")
        if mailman is not None and "outbox" in vars(mailman):
            del mailman.outbox  # the locmem backend starts a new one
        app.extensions.clear()
        app.extensions.update(self.extensions)  # drops the SMS gateway: rebuilt, empty
        env = app.jinja_env
        auto_reload, env_globals, env_filters, env_tests = self.jinja
        env.auto_reload = auto_reload
        for current, saved in ((env.globals, env_globals), (env.filters, env_filters), (env.tests, env_tests)):
            current.clear()
            current.update(saved)
        limiter.reset()


@pytest.fixture(scope="session")
def _shared_app(database_url):
    """The one app of this test session (create_app costs ~0.13 s: per test,
    it was more than half of the suite's time)."""
    app = make_app(database_url)
    app.test_client_class = CommittingClient
    yield _AppState(app)
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def app(_shared_app):
    """The shared app, whose every session joins one outer transaction, rolled
    back after the test; its state is put back after the test (see _AppState)."""
    state = _shared_app
    app = state.app
    state.enter()
    ctx = app.app_context()
    ctx.push()
    engines = db.engines
    saved = []
    try:
        for key, engine in list(engines.items()):
            connection = engine.connect()
            transaction = connection.begin()
            engines[key] = connection
            saved.append((key, engine, connection, transaction))
        yield app
    finally:
        try:
            db.session.remove()
            for key, engine, connection, transaction in saved:
                try:
                    if transaction.is_active:
                        transaction.rollback()
                finally:
                    connection.close()
                    engines[key] = engine
        finally:
            ctx.pop()
            state.restore()


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


class _SentEmails(_SentTexts):
    """Emails kept by the locmem backend; reading it first runs the email sender
    (`mail.send_outbox`), as the clock would, so `mail_outbox[0].body` sees emails
    queued by a request. Nothing is sent while the request runs."""

    def _drain(self):
        from careteams.db import utcnow
        from careteams.mail.jobs import send_outbox

        send_outbox(utcnow())
        return self._sent


@pytest.fixture
def mail_outbox(app):
    """Emails sent by the outbox sender through the locmem backend (sent on each read)."""
    app.extensions["mailman"].outbox = []
    return _SentEmails(app.extensions["mailman"].outbox)


def requires_postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (set CARETEAMS_TEST_DATABASE_URL); CI always runs it")
