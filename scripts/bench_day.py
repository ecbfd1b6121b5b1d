"""In-process timing of the facilitators' day page and matching queue (issue 20).

Not the locust benchmark: each page is asked N times through Flask's test client
against an already filled bench database (scripts/bench_federation makes them),
signed in with the bench facilitator's token. Prints p50/p95 in ms and the SQL
statements per request; `--sql` prints each statement of one request (for EXPLAIN).
The co-op is the one the size of the small preset's (co-op 2 of the federation, co-op 1
of the small preset: scripts/federation.py, like_small_coop) unless `--coop` names
another by index from 0 (`--coop 0`: the federation's co-op 1, 521 teams; not a goal).

    .venv/bin/python scripts/bench_day.py postgresql://postgres@127.0.0.1:5432/careteams_bench_fed
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))

PAGES = {"day page": "/coops/bench-{n}/day", "queue": "/coops/bench-{n}/matching/queue"}


def like_small_coop(url: str) -> int:
    """The index of the co-op the size of the small preset's, from the database's marker."""
    import federation
    import psycopg

    with psycopg.connect(federation.plain_url(url)) as conn:
        marker = federation.read_marker(conn)
    if marker is None:
        return 0
    fields = set(federation.Params.__dataclass_fields__)
    return federation.like_small_coop(federation.Params(**{k: v for k, v in marker["params"].items() if k in fields}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--sql", action="store_true", help="print the statements of one request per page")
    parser.add_argument("--coop", type=int, default=None, help="the co-op's index from 0 (default: like_small_coop)")
    parser.add_argument("--proxy-search", metavar="TEXT",
                        help="time the member's resolution page searching TEXT for a proxy instead")
    args = parser.parse_args()
    coop = like_small_coop(args.url) if args.coop is None else args.coop
    os.environ.update(DATABASE_URL=args.url, CARETEAMS_ENV="production", CARETEAMS_BENCH="1",
                      SECRET_KEY="bench-only-secret-key-0123456789abcdef", SMS_BACKEND="console",
                      MAIL_BACKEND="console", GEOCODER="fixed")
    import sqlalchemy as sa

    from careteams import create_app
    from careteams.extensions import db

    app = create_app()
    client = app.test_client()
    headers = {"Authorization": f"Bearer bench-facilitator-{coop}", "Host": "localhost"}
    pages = PAGES
    if args.proxy_search:
        from urllib.parse import quote

        headers["Authorization"] = "Bearer bench-member-0"  # in the electorate of co-op 1's resolution
        pages = {f"proxy search {args.proxy_search!r}": f"/cooperatives/bench-1/resolutions/1?proxy_q="
                 f"{quote(args.proxy_search)}"}
    print(f"co-op {coop + 1} (bench-facilitator-{coop})" if not args.proxy_search else "bench-member-0")
    statements: list[str] = []
    if args.sql:
        with app.app_context():
            engine = db.engine

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _keep(conn, cursor, statement, parameters, context, executemany):
            from psycopg import ClientCursor

            statements.append(ClientCursor(cursor.connection).mogrify(statement, parameters))
    for name, path in pages.items():
        path = path.format(n=coop + 1)
        first = client.get(path, headers=headers)  # warm: the first request compiles and connects
        assert first.status_code == 200, (path, first.status_code)
        if args.sql:
            statements.clear()
            client.get(path, headers=headers)
            print(f"--- {name}: {len(statements)} statements")
            for s in statements:
                print(s.replace("\n", " "), end=";\n")
            continue
        times, counts = [], set()
        for _ in range(args.n):
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            counts.add(response.headers.get("X-SQL-Statements"))
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        print(f"{name}: n={args.n} p50 {statistics.median(times):.1f} ms p95 {p95:.1f} ms "
              f"statements {sorted(counts)}")


if __name__ == "__main__":
    main()
