"""The clock's work in scripts/federation.py (VERSION 3) and scripts/bench_jobs.py, at a
tiny scale in a throwaway database (PostgreSQL pass only): series, entries in the
states the jobs act on, offers on a two-hour life and a bigger co-op 1 pass every
constraint; each job finds its interval's work; the benchmark runs end to end."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.core.test_federation_generator import TINY, scratch_url  # noqa: F401  (the fixture)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import bench_jobs  # noqa: E402
import federation  # noqa: E402

pytestmark = [pytest.mark.postgres]

NOW = datetime(2026, 3, 4, 10, 5, tzinfo=UTC)  # a Wednesday; the last full month is February
JOBS_TINY = replace(TINY, coop1_teams=12, entries_per_month=600)


def test_the_clock_work_is_made_within_the_constraints(scratch_url):  # noqa: F811
    import psycopg

    with psycopg.connect(scratch_url) as conn:
        counts = federation.generate(conn, JOBS_TINY, now=NOW, out=open(os.devnull, "w"))
        q = lambda sql, *args: conn.execute(sql, args).fetchall()  # noqa: E731
        # Co-op 1 has the teams asked for (and the Y storm's), its workers in proportion.
        assert q("SELECT cooperative_id, count(*) FROM team GROUP BY 1 ORDER BY 1") == [(1, 13), (2, 8)]
        assert q("SELECT cooperative_id, count(*) FROM worker_profile GROUP BY 1 ORDER BY 1") == [(1, 36 + 5), (2, 24)]
        # No worker holds two overlapping visits, series visits included.
        assert q("SELECT count(*) FROM shift a JOIN shift b ON a.booked_person_id = b.booked_person_id AND a.id < b.id "
                 "AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)") == [(0,)]
        # 1 or 2 weekly series a team, each with its own worker; occurrences up to a week short of the horizon.
        assert 20 <= counts["shift_series"] <= 40
        made_to = NOW.date() + timedelta(weeks=federation.HORIZON_WEEKS - 1)
        rows = q("SELECT s.series_id, max(s.occurrence_date), count(DISTINCT extract(isodow FROM s.occurrence_date)), "
                 "count(DISTINCT s.booked_person_id) FROM shift s WHERE s.series_id IS NOT NULL GROUP BY 1")
        assert len(rows) == counts["shift_series"]
        assert all(last <= made_to and last > made_to - timedelta(days=7) and days == 1 and people == 1
                   for _, last, days, people in rows)
        # Entries in each state the jobs act on; none of the submitted overdue by more than 15 minutes.
        states = dict(q("SELECT status, count(*) FROM timesheet_entry GROUP BY 1"))
        assert {"pending", "submitted", "confirmed"} <= set(states)
        overdue = q("SELECT count(*) FROM timesheet_entry WHERE status = 'submitted' AND submitted_at + "
                    "interval '72 hours' <= %s - interval '15 minutes'", NOW)
        assert overdue == [(0,)]
        # The last full month (February) has about entries_per_month entries for the pay run.
        february = q("SELECT count(*) FROM timesheet_entry WHERE started_at >= '2026-02-01' AND started_at < '2026-03-01'")
        assert 400 < february[0][0] < 900
        # Offers live two hours: those sent 120-125 minutes ago have just expired.
        live = q("SELECT min(expires_at), max(expires_at) FROM offer o JOIN shift s ON s.id = o.shift_id "
                 "WHERE s.team_id <> (SELECT team_id FROM bench_storm)")
        assert live[0][0] > NOW - timedelta(minutes=5) and live[0][1] <= NOW + timedelta(minutes=120)
        assert q("SELECT count(*) FROM coop_pay_rate") == [(2,)]


def test_bench_jobs_runs_each_job_and_the_pay_run_end_to_end(scratch_url, tmp_path, monkeypatch):  # noqa: F811
    import psycopg

    with psycopg.connect(scratch_url) as conn:
        federation.generate(conn, JOBS_TINY, now=NOW, out=open(os.devnull, "w"))
        series = conn.execute("SELECT count(*) FROM shift_series").fetchone()[0]
        shifts = conn.execute("SELECT count(*) FROM shift").fetchone()[0]
    for key in ("DATABASE_URL", "CARETEAMS_ENV", "SECRET_KEY", "SMS_BACKEND", "MAIL_BACKEND", "GEOCODER"):
        monkeypatch.setenv(key, "")  # bench_jobs sets them; monkeypatch puts them back
    result = bench_jobs.main([scratch_url, "--out", str(tmp_path)])
    jobs = {j["job"]: j for j in result["jobs"]}
    assert set(jobs) == set(bench_jobs.JOBS)
    assert jobs["rota.materialise"]["items"] == series  # each weekly series adds its last week
    assert jobs["rota.materialise"]["inserted"] >= series
    assert all(j["seconds"] > 0 and 0 < j["share_of_interval"] < 1 and j["statements"] > 0 for j in jobs.values())
    pay = result["pay_run"]
    assert pay["period_start"] == "2026-02-01" and pay["teams"] == 13
    assert pay["entries"] > 200 and pay["held_back"] == 0 and pay["lines"] >= pay["entries"]
    assert pay["tracemalloc_peak_mb"] > 0 and pay["ru_maxrss_mb_after"] > 0
    assert json.loads((tmp_path / "jobs.json").read_text())["pay_run"]["entries"] == pay["entries"]
    assert "| rota.materialise | 1 h |" in (tmp_path / "jobs.md").read_text()
    # Every job was rolled back: the database is as it was made.
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("SELECT count(*) FROM shift").fetchone()[0] == shifts
        assert conn.execute("SELECT count(*) FROM pay_run").fetchone()[0] == 0
