#!/usr/bin/env python3
"""Time suggestions for one vacancy over 10,000 and 50,000 worker profiles.

Not a test: it prints timings and the number of SQL statements per suggestion
run (which should be the same for every size), and beside them the SQL prefilter
alone (the same hard filters, `SELECT id FROM worker_profile WHERE ...`, every row
fetched), their ratio and the time per worker in the pool (which should not rise
with the pool).

    .venv/bin/python scripts/bench_matching.py                      # a throwaway SQLite file
    .venv/bin/python scripts/bench_matching.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python scripts/bench_matching.py --sizes 10000 50000 100000 --runs 5
    .venv/bin/python scripts/bench_matching.py --database-url ... --sizes 3000 10000 30000 --explain

On PostgreSQL the database is migrated to head and everything the script adds
is rolled back at the end (nothing is committed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from careteams import create_app  # noqa: E402
from careteams.extensions import db  # noqa: E402

HOME = (53.742, -2.014)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size (median reported)")
    parser.add_argument("--explain", action="store_true",
                        help="PostgreSQL: print EXPLAIN (ANALYZE, BUFFERS) of the ranking query at the largest size")
    parser.add_argument("--profile", help="write a pyinstrument text profile of one run at the largest size here")
    parser.add_argument("--spread-km", type=float, default=40.0,
                        help="the side of the square the workers live in (default 40 km: everyone within reach "
                             "of the box; 200: a region, where the bounding box and its index cut)")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='careteams-bench-')) / 'bench.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        if db.engine.dialect.name == "postgresql":
            # Earlier runs' rolled-back rows leave dead index entries the planner would walk.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE worker_profile, availability_window, worker_check, worker_skill")
        try:
            run(args.sizes, args.runs, args.explain, args.profile, args.spread_km)
        finally:
            db.session.rollback()


def run(sizes: list[int], runs: int, explain: bool = False, profile: str | None = None,
        spread_km: float = 40.0) -> None:
    from careteams.matching.models import Skill, WorkerProfile
    from careteams.matching.services import suggestions, vacancies
    from careteams.matching.synthetic import generate_profiles
    from careteams.members.models import Cooperative, Person
    from careteams.members.services import actor_for
    from careteams.teams.models import Team

    now = datetime.now(UTC)
    coop = Cooperative(name="Bench co-op", slug=f"bench-{int(time.time())}", timezone="Europe/London")
    db.session.add(coop)
    db.session.flush()
    leader = Person(name="Bench Leader", email=f"bench-leader-{coop.slug}@example.invalid")
    db.session.add(leader)
    db.session.flush()
    team = Team(cooperative_id=coop.id, leader_id=leader.id, display_name="Bench", latitude=HOME[0], longitude=HOME[1])
    db.session.add(team)
    skills = [Skill(cooperative_id=coop.id, name=n) for n in ("Personal care", "Cooking", "Driving", "Dementia")]
    db.session.add_all(skills)
    db.session.flush()
    vacancy = vacancies.post_vacancy(actor_for(leader), team.id, {
        "needs": "Mornings", "required_skill_ids": [skills[0].id], "nice_skill_ids": [skills[1].id, skills[2].id],
        "languages": ["Urdu"], "interests": ["gardening"], "windows": [(0, 480, 660), (2, 480, 660), (4, 480, 660)]})

    made = 0
    print(f"database: {db.engine.dialect.name}   workers spread over {spread_km:g} km   load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'profiles':>9} {'candidates':>10} {'queries':>8} {'median s':>9} {'best s':>7} {'prefilter s':>11} "
          f"{'passing':>8} {'ratio':>6} {'us/worker':>9}")
    for size in sorted(sizes):
        started = time.perf_counter()
        generate_profiles(coop.id, [s.id for s in skills], size - made, HOME, today=now.date(), seed=size,
                          tag=coop.slug, spread_km=spread_km)
        made = size
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE worker_profile; ANALYZE availability_window; "
                                       "ANALYZE worker_check; ANALYZE worker_skill"))
        insert_s = time.perf_counter() - started
        timings, pre_timings, queries, count, passing = [], [], 0, 0, 0
        captured: list = []
        for _ in range(runs):
            db.session.expire_all()
            statements = []

            def listener(conn, cursor, statement, parameters, context, executemany, statements=statements):
                statements.append((statement, parameters))

            sa.event.listen(db.engine, "before_cursor_execute", listener)
            t0 = time.perf_counter()
            results = suggestions.rank_candidates(db.session.get(type(vacancy), vacancy.id), now, limit=20)
            timings.append(time.perf_counter() - t0)
            sa.event.remove(db.engine, "before_cursor_execute", listener)
            queries, count, captured = len(statements), len(results), statements
            # The prefilter alone: the same hard filters, ids only, every row fetched.
            v = db.session.get(type(vacancy), vacancy.id)
            clauses = suggestions.prefilter_clauses(v, now)
            t0 = time.perf_counter()
            passing = len(db.session.execute(sa.select(WorkerProfile.id).where(*clauses)).all())
            pre_timings.append(time.perf_counter() - t0)
        median, pre = statistics.median(timings), statistics.median(pre_timings)
        print(f"{size:>9} {count:>10} {queries:>8} {median:>9.3f} {min(timings):>7.3f} {pre:>11.3f} {passing:>8} "
              f"{median / pre:>5.1f}x {median / size * 1e6:>9.1f}   (bulk insert {insert_s:.1f} s)")
    if profile:
        from pyinstrument import Profiler

        db.session.expire_all()
        with Profiler() as profiler:
            suggestions.rank_candidates(db.session.get(type(vacancy), vacancy.id), now, limit=20)
        Path(profile).write_text(profiler.output_text(show_all=False))
    if explain and db.engine.dialect.name == "postgresql":
        statement, parameters = max(captured, key=lambda sp: len(sp[0]))  # the ranking query
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the ranking query over {made:,} profiles:")
        for (line,) in db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters):
            print("  " + line)

if __name__ == "__main__":
    main()
