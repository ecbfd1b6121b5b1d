"""In-process timing of the facilitators' day page and matching queue (issue 20).

Not the locust benchmark: each page is asked N times through Flask's test client
against an already filled bench database (scripts/bench_federation makes them),
signed in with the bench facilitator's token. Prints p50/p95 in ms and the SQL
statements per request; `--sql` prints each statement of one request (for EXPLAIN).
The co-op is the one the size of the small preset's (co-op 2 of the federation, co-op 1
of the small preset: scripts/federation.py, like_small_coop) unless `--coop` names
another by index from 0 (`--coop 0`: the federation's co-op 1, 521 teams; not a goal).

    .venv/bin/python scripts/bench_day.py postgresql://postgres@127.0.0.1:5432/careteams_bench_fed
    .venv/bin/python scripts/bench_day.py postgresql+psycopg://...:5432/careteams_bench_fed \
        --against postgresql+psycopg://...:5432/careteams_bench_small -n 40      # interleaved, the p95 ratio
"""

from __future__ import annotations

import argparse
import os
import random
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
    parser.add_argument("--against", metavar="URL",
                        help="a second database (the small preset's): both timed in turn, in random order, "
                             "so the machine's load weighs on both alike; prints the p95 ratio")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.url, CARETEAMS_ENV="production", CARETEAMS_BENCH="1",
                      SECRET_KEY="bench-only-secret-key-0123456789abcdef", SMS_BACKEND="console",
                      MAIL_BACKEND="console", GEOCODER="fixed")
    import sqlalchemy as sa

    from careteams import create_app
    from careteams.extensions import db

    targets = []  # (label, client, co-op index)
    for url in [args.url] + ([args.against] if args.against else []):
        coop = like_small_coop(url) if args.coop is None or url != args.url else args.coop
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        targets.append((url.rsplit("/", 1)[-1], app.test_client(), coop, app))
        print(f"{url.rsplit('/', 1)[-1]}: " + (f"co-op {coop + 1} (bench-facilitator-{coop})"
                                               if not args.proxy_search else "bench-member-0"))
    pages = PAGES
    if args.proxy_search:
        from urllib.parse import quote

        pages = {f"proxy search {args.proxy_search!r}": f"/cooperatives/bench-1/resolutions/1?proxy_q="
                 f"{quote(args.proxy_search)}"}

    def headers(coop: int) -> dict:
        # bench-member-0 is in the electorate of co-op 1's resolution.
        token = "bench-member-0" if args.proxy_search else f"bench-facilitator-{coop}"
        return {"Authorization": f"Bearer {token}", "Host": "localhost"}

    statements: list[str] = []
    if args.sql:
        with targets[0][3].app_context():
            engine = db.engine

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _keep(conn, cursor, statement, parameters, context, executemany):
            from psycopg import ClientCursor

            statements.append(ClientCursor(cursor.connection).mogrify(statement, parameters))
    for name, path in pages.items():
        for _, client, coop, _ in targets:  # warm: the first request compiles and connects
            first = client.get(path.format(n=coop + 1), headers=headers(coop))
            assert first.status_code == 200, (path, first.status_code)
        if args.sql:
            _, client, coop, _ = targets[0]
            statements.clear()
            client.get(path.format(n=coop + 1), headers=headers(coop))
            print(f"--- {name}: {len(statements)} statements")
            for s in statements:
                print(s.replace("\n", " "), end=";\n")
            continue
        times: dict[str, list[float]] = {label: [] for label, *_ in targets}
        counts: dict[str, set] = {label: set() for label, *_ in targets}
        for _ in range(args.n):
            for label, client, coop, _ in random.sample(targets, len(targets)):
                started = time.perf_counter()
                response = client.get(path.format(n=coop + 1), headers=headers(coop))
                times[label].append((time.perf_counter() - started) * 1000)
                counts[label].add(response.headers.get("X-SQL-Statements"))
        p95 = {}
        for label, ts in times.items():
            ts.sort()
            p95[label] = ts[min(len(ts) - 1, round(0.95 * len(ts)) - 1)]
            print(f"{name} [{label}]: n={args.n} p50 {statistics.median(ts):.1f} ms p95 {p95[label]:.1f} ms "
                  f"statements {sorted(counts[label])}")
        if len(targets) == 2:
            first, second = (label for label, *_ in targets)
            print(f"{name}: p95 {first}/{second} = {p95[first] / p95[second]:.2f}x")

if __name__ == "__main__":
    main()
