"""The clock process: one APScheduler instance built from one registry of jobs.

Run it with `flask --app careteams scheduler run` (the Procfile's `clock`). Never
start a scheduler inside web workers: each would run every job.

Only one clock acts at a time: on PostgreSQL the clock holds a session-level
advisory lock on a dedicated connection, and a second clock waits as a standby
until the first one dies. On SQLite a single clock process is assumed. Every job
is also idempotent in the database (conditional updates, unique keys), so a
second clock or a re-run never duplicates an effect.

One bad row never stops a job: every job runs its items (series, offers, reminders,
entries, resolutions, hats, links...) through `careteams.jobs_util.run_each`, a
savepoint per item. An item that fails is rolled back alone, logged, and said once to
its co-op's facilitators; the job carries on and `run_job` commits the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import Flask

from careteams.db import utcnow
from careteams.domains import domain_modules
from careteams.extensions import db

log = logging.getLogger(__name__)

# An arbitrary 64-bit key for pg_try_advisory_lock, fixed for this product.
CLOCK_LOCK_KEY = 0x6361726574656D73  # "caretems"


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[datetime], object]  # takes `now`, flushes; the runner commits
    trigger: str = "interval"
    trigger_args: dict = field(default_factory=dict)


REGISTRY: dict[str, Job] = {}


def job(job_id: str, trigger: str = "interval", **trigger_args):
    """Register a function `f(now)` as a periodic job of the clock."""

    def decorator(func):
        REGISTRY[job_id] = Job(job_id, func, trigger, trigger_args)
        return func

    return decorator


def load_jobs() -> dict[str, Job]:
    """Import every domain's jobs module so the registry is complete."""
    domain_modules("jobs")
    return REGISTRY


def run_job(app: Flask, job_id: str, now: datetime | None = None):
    """Run one job in its own app context and transaction: commit, or roll back."""
    registered = load_jobs()[job_id]
    with app.app_context():
        try:
            result = registered.func(now or utcnow())
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job_id)
            raise
        finally:
            db.session.remove()


def build_scheduler(app: Flask):
    # Only the clock process needs APScheduler; web workers never load it.
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        timezone="UTC",
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
        },
    )
    for registered in load_jobs().values():
        scheduler.add_job(_safe_run, registered.trigger, args=[app, registered.id], id=registered.id,
                          replace_existing=True, **registered.trigger_args)
    return scheduler


def _safe_run(app: Flask, job_id: str) -> None:
    try:
        run_job(app, job_id)
    except Exception:  # noqa: S110  (logged in run_job; the clock keeps going)
        pass


def lock_engine(app: Flask) -> sa.engine.Engine:
    """The engine the clock's lock connection comes from: CLOCK_DATABASE_URL's if set
    (a direct connection, where the app's own goes through a transaction-mode pooler
    that would hand the locked session to someone else), else the app's own engine.
    The jobs themselves always use the app's engine: they need transactions only."""
    url = app.config.get("CLOCK_DATABASE_URL")
    if not url:
        with app.app_context():
            return db.engine
    engine = app.extensions.get("careteams.clock_lock_engine")
    if engine is None:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        app.extensions["careteams.clock_lock_engine"] = engine
    return engine


def acquire_clock_lock(app: Flask, wait_seconds: float = 10.0, poll: float = 5.0):
    """Hold the clock lock: returns a connection to keep open, or None on SQLite.

    Blocks (as a standby) until the lock is free.
    """
    engine = lock_engine(app)
    if engine.dialect.name != "postgresql":
        return None
    conn = engine.connect()
    while True:
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": CLOCK_LOCK_KEY}).scalar()
        conn.commit()
        if got:
            return conn
        log.info("another clock holds the lock; waiting as a standby")
        time.sleep(poll)


def try_clock_lock(app: Flask):
    """One attempt: a connection holding the lock, or None if another clock has it."""
    conn = lock_engine(app).connect()
    got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": CLOCK_LOCK_KEY}).scalar()
    conn.commit()
    if got:
        return conn
    release_clock_lock(conn)
    return None


def release_clock_lock(conn) -> None:
    """Drop the clock lock by closing the real connection (not back to the pool,
    where the session-level lock would survive)."""
    conn.invalidate()
    conn.close()


def run_clock(app: Flask) -> None:
    lock = acquire_clock_lock(app)
    scheduler = build_scheduler(app)
    log.info("clock started with jobs: %s", ", ".join(sorted(REGISTRY)))
    try:
        scheduler.start()
    finally:
        if lock is not None:
            release_clock_lock(lock)
