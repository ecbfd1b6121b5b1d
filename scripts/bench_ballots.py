#!/usr/bin/env python3
"""Time closing, opening and tallying a vote of 100,000 sealed ballots (PostgreSQL).

Not a test: it prints timings. In a database of its own (migrated to head here):

    createdb -h 127.0.0.1 -U postgres gov_ballots
    .venv/bin/python scripts/bench_ballots.py --database-url postgresql://postgres@127.0.0.1:5432/gov_ballots --reset
    .venv/bin/python scripts/bench_ballots.py --database-url ... --reset --ballots 10000 --runs 5

Setup (not timed as the goal): a co-op of N members by COPY; a resolution drafted,
its tellers' keys made by the real service (`tellers.set_up_tellers`), its
electorate frozen as `resolutions.start_voting` does it but by COPY; the tellers take their shares
(`tellers.take_my_share`); every elector's ballot sealed by `seal.seal` exactly as
`ballots.cast_ballot` seals it (receipt and change-code hash too) and written by COPY,
the "has voted" flags by one UPDATE. Timed, through the real services and committed:
the close (`results.close_resolution`, which shuffles every ballot), then the count
(`tellers.open_count`), split into opening (`tellers.opened_ballots`), tallying
(`results.count`) and the rest (receipts and publication). The tally is then compared,
in the same run, with a bare `SELECT choice, count(*) ... GROUP BY choice` over the
opened choices put in a temporary table (that table exists only in this benchmark:
the app never writes an opened choice anywhere).

`--reset` empties every table of the database first (TRUNCATE); without it the
database must have no co-ops.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from careteams import create_app  # noqa: E402
from careteams.extensions import db  # noqa: E402

# How the electorate splits, and how it votes (None: abstain).
CLASSES = (("supported", 0.30), ("worker", 0.35), ("advocate", 0.33), ("investor", 0.02))
CHOICES = (("for", 0.55), ("against", 0.40), (None, 0.05))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL, a database of its own")
    parser.add_argument("--ballots", type=int, default=100_000, help="electors, each casting one ballot")
    parser.add_argument("--runs", type=int, default=5, help="extra timed runs of the tally and the GROUP BY")
    parser.add_argument("--reset", action="store_true", help="empty every table first")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--profile", help="write a pyinstrument text profile of the close and the count here")
    args = parser.parse_args()
    url = args.database_url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    if not url.startswith("postgresql+psycopg://"):
        raise SystemExit("PostgreSQL only (COPY)")
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        run(args)


def _copy(table: str, columns: tuple[str, ...], rows) -> None:
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def setup(n: int, seed: int) -> tuple[int, list[str]]:
    """A co-op of n members, an open resolution with n electors and n sealed ballots (committed)."""
    from careteams.governance import rules, seal
    from careteams.governance.enums import ResolutionStatus
    from careteams.governance.models import Resolution, ResolutionTeller
    from careteams.governance.services import ballots, resolutions, tellers
    from careteams.members.models import Cooperative, Person
    from careteams.members.services import actor_for

    rng = random.Random(seed)
    now = datetime.now(UTC)
    coop = Cooperative(name="Ballot bench co-op", slug="ballot-bench", timezone="Europe/London")
    db.session.add(coop)
    db.session.flush()
    first = (db.session.scalar(sa.select(sa.func.max(Person.id))) or 0) + 1
    ids = range(first, first + n)
    _copy("person", ("id", "name", "email", "active", "preferred_channel", "web_only", "session_version",
                     "created_at"),
          ((i, f"Elector {i}", f"elector{i}@bench.example.org", True, "email", False, 1, now) for i in ids))
    classes = [c for c, _ in CLASSES]
    weights = [w for _, w in CLASSES]
    member_class = {i: rng.choices(classes, weights)[0] for i in ids}
    member_class[first], member_class[first + 1] = "worker", "worker"  # the tellers
    _copy("membership", ("id", "cooperative_id", "person_id", "member_class", "status", "joined_on", "share_pence"),
          ((i, coop.id, i, member_class[i], "active", date(2024, 1, 1), 100) for i in ids))
    db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('person', 'id'), (SELECT max(id) FROM person))"))
    db.session.execute(sa.text(
        "SELECT setval(pg_get_serial_sequence('membership', 'id'), (SELECT max(id) FROM membership))"))

    resolution = resolutions.create_resolution(None, coop, {
        "title": "Adopt the federation's rules", "text": "That the federation adopts the rules as circulated.",
        "kind": "ordinary", "opens_at": now - timedelta(hours=1), "closes_at": now + timedelta(hours=1)})
    secretary, scrutineer = db.session.get(Person, first), db.session.get(Person, first + 1)
    tellers.set_up_tellers(coop, resolution, secretary.id, [scrutineer.id], 2)
    # The electorate frozen as resolutions.start_voting freezes it, but by COPY (its ORM loop
    # takes minutes at 100,000 and is not what this measures).
    db.session.execute(sa.update(Resolution).where(Resolution.id == resolution.id)
                       .values(status=ResolutionStatus.open, opened_at=now))
    _copy("electorate_entry", ("resolution_id", "membership_id", "member_class", "has_voted"),
          ((resolution.id, i, member_class[i], False) for i in ids))
    resolution.electorate_size = n
    resolution.electorate_hash = rules.electorate_hash((i, member_class[i]) for i in ids)
    db.session.flush()
    shares = [tellers.take_my_share(actor_for(p), coop, resolution, now) for p in (secretary, scrutineer)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResolutionTeller)
                             .where(ResolutionTeller.resolution_id == resolution.id)) == 2

    db.session.refresh(resolution)
    keys = [o.key for o in resolution.options]
    choice_keys = [c for c, _ in CHOICES]
    assert set(k for k in choice_keys if k) <= set(keys)
    choice_weights = [w for _, w in CHOICES]
    t0 = time.perf_counter()
    rows = []
    for i in ids:
        choice = rng.choices(choice_keys, choice_weights)[0]
        # As ballots.cast_ballot writes it: sealed to the public key, a receipt, a change code's hash.
        rows.append((os.urandom(16).hex(), resolution.id, seal.seal(resolution.public_key, choice), member_class[i],
                     ballots._receipt(), ballots._hash(ballots.new_change_code())))
    sealing = time.perf_counter() - t0
    t0 = time.perf_counter()
    _copy("ballot", ("id", "resolution_id", "sealed", "member_class", "receipt", "change_token_hash"), rows)
    voted = db.session.execute(sa.text("UPDATE electorate_entry SET has_voted = true WHERE resolution_id = :r"),
                               {"r": resolution.id}).rowcount
    db.session.commit()
    print(f"setup: {n:,} ballots sealed in {sealing:.1f} s ({n / sealing:,.0f}/s), "
          f"written by COPY in {time.perf_counter() - t0:.1f} s; {voted:,} electors marked as voted")
    db.session.execute(sa.text("ANALYZE ballot"))
    db.session.execute(sa.text("ANALYZE electorate_entry"))
    db.session.commit()
    assert db.session.get(Resolution, resolution.id).status.value == "open"
    return resolution.id, shares


def run(args) -> None:
    from careteams.governance.models import Resolution
    from careteams.governance.services import results, tellers
    from careteams.members.models import Cooperative

    if args.reset:
        tables = db.session.scalars(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")).all()
        db.session.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        db.session.commit()
    if db.session.scalar(sa.select(sa.func.count()).select_from(Cooperative)):
        raise SystemExit("the database already has co-ops: use --reset (it empties every table)")
    n = args.ballots
    resolution_id, shares = setup(n, args.seed)

    resolution = db.session.get(Resolution, resolution_id)
    after = resolution.closes_at + timedelta(minutes=1)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    t0 = time.perf_counter()
    assert results.close_resolution(resolution_id, after, tell=False)
    db.session.commit()
    close_s = time.perf_counter() - t0

    # The count through the real service, its parts timed by wrapping the functions it calls.
    spans: dict[str, float] = {}
    captured: list = []
    real_open, real_count = tellers.opened_ballots, results.count

    def timed_open(*a, **k):
        t, cpu = time.perf_counter(), time.process_time()
        out = real_open(*a, **k)
        spans["open"], spans["open_cpu"] = time.perf_counter() - t, time.process_time() - cpu
        captured.extend(out)
        return out

    def timed_count(*a, **k):
        t = time.perf_counter()
        out = real_count(*a, **k)
        spans["tally"] = time.perf_counter() - t
        return out

    tellers.opened_ballots, results.count = timed_open, timed_count
    try:
        db.session.expire_all()
        resolution = db.session.get(Resolution, resolution_id)
        coop = db.session.get(Cooperative, resolution.cooperative_id)
        t0 = time.perf_counter()
        tellers.open_count(None, coop, resolution, shares, after, tell=False)
        db.session.commit()
        count_s = time.perf_counter() - t0
    finally:
        tellers.opened_ballots, results.count = real_open, real_count
        if profiler:
            profiler.stop()
            Path(args.profile).write_text(profiler.output_text(show_all=False))
    resolution = db.session.get(Resolution, resolution_id)
    assert resolution.status.value == "closed" and len(captured) == n
    published = resolution.result

    # The tally again, and the bare GROUP BY over the same opened choices, interleaved.
    db.session.execute(sa.text("CREATE TEMP TABLE opened (choice text, member_class text)"))
    _copy("opened", ("choice", "member_class"), ((b.option, b.member_class) for b in captured))
    db.session.execute(sa.text("ANALYZE opened"))
    tallies, pure, groups, groups2 = [spans["tally"]], [], [], []
    from fractions import Fraction

    from careteams.governance import rules

    options = [o.key for o in resolution.options]
    for _ in range(args.runs):
        t = time.perf_counter()
        again = results.count(resolution, captured)
        tallies.append(time.perf_counter() - t)
        # The tally proper (rules.tally, pure), without results.count's "heads" query.
        t = time.perf_counter()
        rules.tally(resolution.kind, options, captured,
                    cap=Fraction(resolution.investor_cap_num, resolution.investor_cap_den),
                    threshold=resolution.threshold, electorate=n, quorum_min_members=resolution.quorum_min_members,
                    quorum_percent=resolution.quorum_percent, heads=again.quorum.heads)
        pure.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare = db.session.execute(sa.text("SELECT choice, count(*) FROM opened GROUP BY choice")).all()
        groups.append(time.perf_counter() - t)
        t = time.perf_counter()
        db.session.execute(sa.text("SELECT choice, member_class, count(*) FROM opened GROUP BY choice, member_class"))
        groups2.append(time.perf_counter() - t)
    db.session.rollback()
    by_choice = {c or "abstain": k for c, k in bare}
    counts = published["counts"]["all"] if "all" in published["counts"] else None
    assert sum(by_choice.values()) == n and again.carried == published["carried"]

    total = close_s + count_s
    tally, group, group2 = statistics.median(tallies), statistics.median(groups), statistics.median(groups2)
    pure_tally = statistics.median(pure)
    print(f"ballots: {n:,}   load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  close (shuffle of every ballot)     {close_s:7.2f} s")
    print(f"  count, in all (open_count)          {count_s:7.2f} s")
    print(f"    opening (opened_ballots)          {spans['open']:7.2f} s  {n / spans['open']:>10,.0f} ballots/s"
          f"  (this process's CPU: {spans['open_cpu']:.2f} s)")
    print(f"    tally (results.count)             {spans['tally']:7.3f} s  (median of {len(tallies)}: {tally:.3f} s)")
    print(f"    rest (receipts, publish, flush)   {count_s - spans['open'] - spans['tally']:7.2f} s")
    print(f"  close + count                       {total:7.2f} s  {n / total:>10,.0f} ballots/s  (goal: under 60 s)")
    print(f"  bare GROUP BY choice                {group:7.3f} s  (median of {len(groups)}); "
          f"tally / GROUP BY = {tally / group:.2f}x (goal: at most 2x)")
    print(f"  bare GROUP BY choice, class         {group2:7.3f} s  tally / that = {tally / group2:.2f}x")
    print(f"  rules.tally alone (no heads query)  {pure_tally:7.3f} s  (median of {len(pure)}); "
          f"/ GROUP BY choice = {pure_tally / group:.2f}x")
    print(f"  published: {published['outcome']} {by_choice} {counts or ''}")


if __name__ == "__main__":
    main()
