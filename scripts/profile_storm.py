#!/usr/bin/env python3
"""Profile the Y storm's texts in process: the SQL statements and the Python time of a
winning and of a losing "Y 100" (scripts/bench_federation's storm, one text at a time).

    .venv/bin/python scripts/profile_storm.py postgresql://postgres@127.0.0.1:5432/storm_small -n 50
    .venv/bin/python scripts/profile_storm.py URL -n 50 --sql       # print each statement of a losing Y
    .venv/bin/python scripts/profile_storm.py URL -n 200 --cprofile  # the top of a cProfile of the losers

The database is one scripts/bench_federation filled (its bench_storm table names the
storm's visit, co-op number and workers' phones). Like the storm, it first puts the
visit back to "offered to all". Runs the app as gunicorn does (CARETEAMS_ENV=production,
the same Twilio token as the benchmark), through Flask's test client: no network.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("PROFILE_APP_ROOT") or Path(__file__).resolve().parent.parent)  # another checkout: the code before
sys.path.insert(0, str(ROOT))

TWILIO_TOKEN = "bench-only-twilio-token"  # noqa: S105  (as scripts/bench_federation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a database scripts/bench_federation filled")
    parser.add_argument("-n", type=int, default=50, help="texts (the first wins, the rest lose)")
    parser.add_argument("--sql", action="store_true", help="print the statements of one losing Y")
    parser.add_argument("--cprofile", action="store_true", help="cProfile the losing texts")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.url, CARETEAMS_ENV="production", CARETEAMS_BENCH="1",
                      SECRET_KEY="bench-only-secret-key-0123456789abcdef", SMS_BACKEND="console",
                      MAIL_BACKEND="console", GEOCODER="fixed", TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
    import psycopg
    import sqlalchemy as sa
    from twilio.request_validator import RequestValidator

    from careteams import create_app
    from careteams.extensions import db

    with psycopg.connect(args.url) as conn:
        shift_id, sms_number, phones = conn.execute("SELECT shift_id, sms_number, phones FROM bench_storm").fetchone()
        phones = json.loads(phones)
        conn.execute("UPDATE shift SET status = 'offered', booked_person_id = NULL, booked_at = NULL "
                     "WHERE id = %s", (shift_id,))
        conn.execute("UPDATE offer SET status = 'open', code_live = true, answered_at = NULL WHERE shift_id = %s",
                     (shift_id,))
    app = create_app()
    client = app.test_client()
    validator = RequestValidator(TWILIO_TOKEN)
    url = "http://localhost/sms/inbound"
    run = time.time_ns()
    statements: list[str] = []
    cpu_ms: list[float] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def text(i: int):
        form = {"MessageSid": f"SP{run:020d}{i:012d}", "From": phones[i % len(phones)], "To": sms_number,
                "Body": "Y 100"}
        statements.clear()
        headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        started, cpu = time.perf_counter(), time.process_time()
        response = client.post(url, data=form, headers=headers)
        ms = (time.perf_counter() - started) * 1000
        cpu_ms.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_data(as_text=True), list(statements), ms

    sa.event.listen(engine, "before_cursor_execute", record)
    reply, first, ms = text(0)
    print(f"winner: {len(first)} statements, {ms:.1f} ms: {reply}")
    if args.sql:
        for s in first:
            print("   W", " ".join(s.split())[:200])
    losers = []
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu_ms.clear()
    for i in range(1, args.n):
        losers.append(text(i))
    loser_cpu = sorted(cpu_ms)
    if profiler is not None:
        profiler.disable()
    times = sorted(ms for _, _, ms in losers)
    counts = sorted(len(s) for _, s, _ in losers)
    print(f"losers: {len(losers)}, statements min {counts[0]} max {counts[-1]}, "
          f"ms p50 {times[len(times) // 2]:.1f} p95 {times[int(len(times) * 0.95) - 1]:.1f}")
    print("a loser's reply:", losers[-1][0])
    if args.sql:
        for s in losers[-1][1]:
            print("   L", " ".join(s.split())[:200])
    health, health_cpu = [], []
    for _ in range(args.n):
        started, cpu = time.perf_counter(), time.process_time()
        client.get("/healthz")
        health.append((time.perf_counter() - started) * 1000)
        health_cpu.append((time.process_time() - cpu) * 1000)
    health.sort()
    health_cpu.sort()
    mid = len(health) // 2
    print(f"/healthz in process: p50 {health[mid]:.1f} ms, loser p50 / healthz p50 = "
          f"{times[len(times) // 2] / health[mid]:.1f}x")
    print(f"this process's CPU per request, p50: loser {loser_cpu[len(loser_cpu) // 2]:.2f} ms, "
          f"/healthz {health_cpu[mid]:.2f} ms ({loser_cpu[len(loser_cpu) // 2] / health_cpu[mid]:.1f}x)")
    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(int(os.environ.get("PROFILE_LINES", "45")))


if __name__ == "__main__":
    main()
