#!/usr/bin/env python3
"""The clock's jobs and a month's pay run against a generated federation (issue 20).

    .venv/bin/python scripts/bench_jobs.py postgresql://postgres@127.0.0.1:5432/jobs_fed

The database is one scripts/federation.py filled (best with `--coop1-teams 2000
--entries-per-month 400000`): it left each job about one interval's work at the
moment it was made (`bench_marker.made_at`; see federation.clock_state), so every job
runs with that moment as `now`. Each job runs once as the clock runs it (its
registered function in an app context, then a flush), each from the same state: its
transaction is rolled back after it is measured, so the commit itself is not timed.
Rows are PostgreSQL's own counts for the transaction (pg_stat_xact_user_tables):
written = inserted + updated + deleted, read = fetched by index + read by scans.

Then the month's pay run (hours.services.runs.close_run, as the co-op's facilitator
asks it) for the last full month of co-op 1 (`--coop`), with Python's peak memory
(tracemalloc) and the process's peak resident size (ru_maxrss), rolled back too.

Prints a Markdown table; writes build/bench/jobs.json and build/bench/jobs.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The jobs the issue names, and the cheap bookkeeping ones. Not run: the outboxes
# (sms/mail.send_outbox send through a gateway) and matching.geocode_places (a geocoder).
JOBS = ("rota.materialise", "rota.offers", "rota.complete", "rota.missed_visits", "rota.reminders",
        "hours.pending", "hours.auto_confirm", "hours.remind", "teams.expire_hats", "governance.open_and_close",
        "auth.purge_expired_links")
WELL_INSIDE = 0.25  # a job should take at most this share of its interval


def interval_seconds(trigger_args: dict) -> float:
    return timedelta(**{k: v for k, v in trigger_args.items()
                        if k in ("weeks", "days", "hours", "minutes", "seconds")}).total_seconds()


def _xact_rows(db) -> dict[str, int]:
    import sqlalchemy as sa

    row = db.session.execute(sa.text(
        "SELECT coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_del), 0), "
        "coalesce(sum(seq_tup_read), 0), coalesce(sum(idx_tup_fetch), 0) FROM pg_stat_xact_user_tables")).one()
    return {"inserted": int(row[0]), "updated": int(row[1]), "deleted": int(row[2]),
            "read": int(row[3]) + int(row[4])}


def _minus(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a[k] - b[k] for k in a}


def _items(result) -> int:
    if isinstance(result, dict):
        return sum(v for v in result.values() if isinstance(v, int))
    return int(result or 0)


def make_app(url: str):
    os.environ.update(DATABASE_URL=url, CARETEAMS_ENV="production", SECRET_KEY="bench-only-secret-key-0123456789abcdef",
                      SMS_BACKEND="console", MAIL_BACKEND="console", GEOCODER="fixed")
    from careteams import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def made_at(app) -> datetime:
    import sqlalchemy as sa

    from careteams.extensions import db

    with app.app_context():
        try:
            return db.session.execute(sa.text("SELECT made_at FROM bench_marker")).scalar_one()
        finally:
            db.session.remove()


def run_jobs(app, now: datetime, names=JOBS) -> list[dict]:
    import sqlalchemy as sa

    from careteams.extensions import db
    from careteams.scheduler import load_jobs

    registry = load_jobs()
    out = []
    for name in names:
        registered = registry[name]
        statements = [0]
        with app.app_context():
            engine = db.engine
            engine.dispose()  # a new backend: PostgreSQL 15+ keeps a backend's unreported counts in the xact views

            def count(*_args, _s=statements):
                _s[0] += 1

            sa.event.listen(engine, "before_cursor_execute", count)
            try:
                base = _xact_rows(db)  # the transaction starts here: its counts are the job's
                statements[0] = 0
                started = time.perf_counter()
                result = registered.func(now)
                db.session.flush()
                seconds = time.perf_counter() - started
                n_statements = statements[0]
                rows = _minus(_xact_rows(db), base)
            finally:
                sa.event.remove(engine, "before_cursor_execute", count)
                db.session.rollback()
                db.session.remove()
        interval = interval_seconds(registered.trigger_args)
        written = rows["inserted"] + rows["updated"] + rows["deleted"]
        out.append({"job": name, "interval_s": interval, "items": _items(result), "result": result,
                    "rows_written": written, "rows_read": rows["read"], **rows, "statements": n_statements,
                    "seconds": round(seconds, 3),
                    "rows_per_s": round((written + rows["read"]) / seconds) if seconds else None,
                    "share_of_interval": seconds / interval})
        print(f"  {name}: {seconds:.2f} s, {_items(result)} items, {written} rows written, {rows['read']} read",
              file=sys.stderr)
    return out


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def run_pay(app, now: datetime, cooperative_id: int) -> dict:
    import sqlalchemy as sa

    from careteams.extensions import db
    from careteams.hours.models import RunEntry, RunHeldBack, RunLine
    from careteams.hours.services.runs import close_run
    from careteams.members.models import StaffRole, StaffRoleName
    from careteams.members.permissions import Actor
    from careteams.teams.models import Team

    with app.app_context():
        try:
            person_id = db.session.scalar(sa.select(StaffRole.person_id).where(
                StaffRole.cooperative_id == cooperative_id, StaffRole.role == StaffRoleName.facilitator).limit(1))
            teams = db.session.scalar(sa.select(sa.func.count()).select_from(Team).where(
                Team.cooperative_id == cooperative_id))
            actor = Actor(person_id=person_id, staff_roles=frozenset({(cooperative_id, "facilitator")}))
            from zoneinfo import ZoneInfo

            from careteams.members.models import Cooperative

            zone = db.session.get(Cooperative, cooperative_id).timezone
            period = previous_month(now.astimezone(ZoneInfo(zone)).date())
            db.session.rollback()
            db.engine.dispose()
            base = _xact_rows(db)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            tracemalloc.start()
            started = time.perf_counter()
            outcome = close_run(actor, cooperative_id, period, now)
            db.session.flush()
            seconds = time.perf_counter() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            run_id = outcome.run.id
            entries = db.session.scalar(sa.select(sa.func.count()).select_from(RunEntry).where(RunEntry.run_id == run_id))
            lines = db.session.scalar(sa.select(sa.func.count()).select_from(RunLine).join(
                RunEntry, RunEntry.id == RunLine.run_entry_id).where(RunEntry.run_id == run_id))
            held = db.session.scalar(sa.select(sa.func.count()).select_from(RunHeldBack).where(
                RunHeldBack.run_id == run_id))
            rows = _minus(_xact_rows(db), base)
        finally:
            db.session.rollback()
            db.session.remove()
    written = rows["inserted"] + rows["updated"] + rows["deleted"]
    return {"cooperative_id": cooperative_id, "teams": teams, "period_start": period.isoformat(),
            "entries": entries, "lines": lines, "held_back": held, "rows_written": written, "rows_read": rows["read"],
            "seconds": round(seconds, 3), "entries_per_s": round(entries / seconds) if seconds else None,
            "rows_written_per_s": round(written / seconds) if seconds else None,
            "tracemalloc_peak_mb": round(peak / 2**20, 1), "ru_maxrss_mb_before": round(rss_before / 1024, 1),
            "ru_maxrss_mb_after": round(rss_after / 1024, 1)}


def markdown(jobs: list[dict], pay: dict | None, load: str) -> str:
    out = ["| job | interval | items | rows written | rows read | statements | time (s) | rows/s | share of interval |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for j in jobs:
        share = j["share_of_interval"]
        flag = "" if share <= WELL_INSIDE else " **over 25%**"
        out.append(f"| {j['job']} | {_span(j['interval_s'])} | {j['items']:,} | {j['rows_written']:,} | "
                   f"{j['rows_read']:,} | {j['statements']:,} | {j['seconds']:.2f} | {j['rows_per_s'] or 0:,} | "
                   f"{share:.1%}{flag} |")
    if pay:
        out += ["", "| pay run | teams | entries | lines | held back | rows written | time (s) | entries/s | "
                "rows written/s | Python peak (tracemalloc) | peak RSS (ru_maxrss) before -> after |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                f"| co-op {pay['cooperative_id']}, month from {pay['period_start']} | {pay['teams']:,} | "
                f"{pay['entries']:,} | {pay['lines']:,} | {pay['held_back']:,} | {pay['rows_written']:,} | "
                f"{pay['seconds']:.1f} | {pay['entries_per_s'] or 0:,} | {pay['rows_written_per_s'] or 0:,} | "
                f"{pay['tracemalloc_peak_mb']} MB | {pay['ru_maxrss_mb_before']} -> {pay['ru_maxrss_mb_after']} MB |"]
    out += ["", f"Load average when measured: {load}. rows/s: rows written and read per second of the job."]
    return "\n".join(out) + "\n"


def _span(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the generated database (postgresql://...)")
    parser.add_argument("--coop", type=int, default=1, help="the co-op whose month is paid (default 1)")
    parser.add_argument("--jobs", default=",".join(JOBS), help="comma-separated job ids")
    parser.add_argument("--no-pay", action="store_true")
    parser.add_argument("--out", default="build/bench")
    args = parser.parse_args(argv)
    url = args.url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app = make_app(url)
    now = made_at(app)
    print(f"now = {now.isoformat()} (when the database was filled)", file=sys.stderr)
    load_before = os.getloadavg()
    jobs = run_jobs(app, now, [j for j in args.jobs.split(",") if j])
    pay = None if args.no_pay else run_pay(app, now, args.coop)
    load_after = os.getloadavg()
    load = f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (1-minute)"
    text = markdown(jobs, pay, load)
    print(text)
    result = {"now": now.isoformat(), "load": load, "jobs": jobs, "pay_run": pay}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "jobs.json").write_text(json.dumps(result, indent=2, default=str))
    (out / "jobs.md").write_text(text)
    with app.app_context():
        from careteams.extensions import db

        db.engine.dispose()
    return result


if __name__ == "__main__":
    main()
