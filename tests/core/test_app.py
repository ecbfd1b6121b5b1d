"""The app shell: settings, health, errors, OpenAPI, time types and the clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from careteams import create_app
from careteams.extensions import db
from careteams.members.models import Cooperative
from tests.conftest import make_app, requires_postgres
from tests.factories import CooperativeFactory, PersonFactory


@pytest.mark.parametrize("key", [None, "", "dev-only-not-secret", "short"])
def test_production_refuses_a_development_or_missing_secret_key(monkeypatch, key):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@localhost/x")
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production"})


def test_production_starts_with_a_real_secret_key(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://x@localhost/x")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    app = create_app({"ENV_NAME": "production"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}


def test_openapi_document_lists_the_api(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/cooperatives/{slug}/people" in doc["paths"]
    assert "/api/v1/tokens" in doc["paths"]


def test_unknown_api_path_is_a_json_404_and_pages_get_html(client, auth_headers):
    assert client.get("/api/v1/nothing-here").status_code == 401  # the API says nothing to strangers
    api = client.get("/api/v1/nothing-here", headers=auth_headers(PersonFactory()))
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
    page = client.get("/nothing-here", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)


def test_wrong_method_is_a_405_envelope(client, auth_headers):
    response = client.put("/api/v1/me", json={}, headers=auth_headers(PersonFactory()))
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_naive_datetimes_are_refused_and_aware_ones_come_back_utc(app):
    coop = CooperativeFactory()
    coop.created_at = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("Europe/London"))  # BST, fold=0
    db.session.flush()
    db.session.expire(coop)
    assert coop.created_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    coop.created_at = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001
    with pytest.raises(Exception, match="naive"):
        db.session.flush()
    db.session.rollback()


def test_the_clock_registry_has_the_jobs_and_runs_one(app):
    from careteams.scheduler import build_scheduler, load_jobs, run_job

    jobs = load_jobs()
    assert "auth.purge_expired_links" in jobs
    scheduler = build_scheduler(app)
    assert {j.id for j in scheduler.get_jobs()} == set(jobs)
    assert scheduler._job_defaults["misfire_grace_time"] == app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"]
    assert run_job(app, "auth.purge_expired_links") == 0


def test_only_one_clock_holds_the_lock(committed_app, database_url):
    requires_postgres(database_url)
    from careteams.scheduler import release_clock_lock, try_clock_lock

    first = try_clock_lock(committed_app)
    assert first is not None
    second_app = make_app(database_url)
    results = []
    thread = threading.Thread(target=lambda: results.append(try_clock_lock(second_app)))
    thread.start()
    thread.join()
    assert results == [None], "a second clock got the lock while the first held it"
    first.invalidate()  # the first clock dies: its connection goes away
    # The server notices the closed connection a moment later; the standby
    # polls, as acquire_clock_lock does.
    third = None
    for _ in range(50):
        third = try_clock_lock(second_app)
        if third is not None:
            break
        time.sleep(0.1)
    assert third is not None, "the standby could not take over"
    release_clock_lock(third)


def test_clock_database_url_comes_from_the_environment(monkeypatch):
    import config

    monkeypatch.setenv("CLOCK_DATABASE_URL", "postgres://clock@db.internal:5432/careteams")
    assert config.load("production")["CLOCK_DATABASE_URL"] == "postgresql+psycopg://clock@db.internal:5432/careteams"
    monkeypatch.delenv("CLOCK_DATABASE_URL")
    assert config.load("production")["CLOCK_DATABASE_URL"] is None


def test_the_clock_lock_uses_clock_database_url_when_set(app):
    from careteams.scheduler import lock_engine

    assert lock_engine(app) is db.engine  # unset: the app's own engine
    app.config["CLOCK_DATABASE_URL"] = "postgresql+psycopg://clock@db.internal:5432/careteams"
    engine = lock_engine(app)
    assert engine is not db.engine and engine.url.host == "db.internal"
    assert lock_engine(app) is engine  # one engine per app, without a pool (a pooled lock would outlive the clock)
    assert type(engine.pool).__name__ == "NullPool"


def test_a_clock_on_clock_database_url_and_one_on_database_url_share_one_lock(committed_app, database_url):
    requires_postgres(database_url)
    from careteams.scheduler import lock_engine, release_clock_lock, try_clock_lock

    direct = make_app(database_url, CLOCK_DATABASE_URL=database_url)
    first = try_clock_lock(direct)
    assert first is not None and first.engine is lock_engine(direct)
    with direct.app_context():
        assert first.engine is not db.engine
    assert try_clock_lock(committed_app) is None, "a clock on the app's own engine got the lock too"
    release_clock_lock(first)
    for _ in range(50):
        second = try_clock_lock(committed_app)
        if second is not None:
            break
        time.sleep(0.1)
    assert second is not None
    release_clock_lock(second)
    lock_engine(direct).dispose()


def test_cooperative_timezone_defaults_from_settings(app):
    from careteams.members.services import create_cooperative

    app.config["TIMEZONE"] = "Europe/Dublin"
    coop = create_cooperative("Dublin Care", "dublin")
    assert isinstance(coop, Cooperative) and coop.timezone == "Europe/Dublin"
