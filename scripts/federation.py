#!/usr/bin/env python3
"""Fill a PostgreSQL database with a federation of care co-ops, quickly (COPY, not the ORM).

    .venv/bin/python scripts/federation.py --database-url postgresql://postgres@127.0.0.1:5432/careteams_bench_small --preset small
    .venv/bin/python scripts/federation.py --database-url ... --preset federation --scale 0.1

The database must be migrated to head (`flask --app careteams db upgrade`) and empty of
co-ops; `--reset` empties every table first (TRUNCATE ... RESTART IDENTITY). The same
seed gives the same federation. Each co-op gets what the services give a new co-op
(the default hat types, rota, matching and hours settings); every row respects the
model's constraints (no worker booked twice at once: each worker's visits in her n-th
team start at a fixed hour of the day, three hours after those of her (n-1)-th, and at
her own minute past it, the same in every team).
Since VERSION 5 visits start at each worker's own minute and were booked a week before.
Each worker is in about two teams, so visits fall between 07:00 and 14:00 London time: a
fill in those hours leaves rota.complete, rota.missed_visits and hours.pending work to do
(a fill outside them measures only their reading).

What it makes (the `federation` preset's numbers; `--scale` multiplies teams, workers,
members and electors): 20 co-ops, 10,000 teams (one supported member leads each),
30,000 workers with profiles (postcode and point) and two checks each, about six workers
per team (each worker in about two teams), 100,000 members, a year of one-off visits
(half past, half to come: about 200 per team), open offers for the fortnight's unbooked
visits, a timesheet entry for each visit done in the last month, an open resolution
whose electorate is `electors` members of the first co-op (it doubles as the
federation's own register: people of the other co-ops are members of it too), and for
the benchmark one known API token per role (`bench-<role>-<coop>`, see BENCH_TOKENS).

Since VERSION 3 (the clock's jobs, scripts/bench_jobs.py): 1-2 weekly series a team made
to a week short of the horizon, each job's interval of work at `now` (clock_state), a pay
rate per co-op, `--entries-per-month` and `--coop1-teams` (the pay run's big co-op).
Since VERSION 4: the federation preset's co-op 2 is the small preset's size (101 teams,
303 workers; `like_small_teams`), so co-op-wide pages compare like with like.

Not made (said in the README): timesheet entry histories, matches and vacancies,
ballots, pay runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

VERSION = 5  # bump when what is generated changes (the benchmark's marker compares it)
ZONE = "Europe/London"
ROLES = ("leader", "worker", "facilitator", "member", "secretary")


@dataclass(frozen=True)
class Params:
    coops: int
    teams: int
    workers: int
    members: int
    electors: int
    visits_per_team_year: int = 200
    workers_per_team: int = 6
    timesheet_days: int = 30
    offer_days: int = 14
    storm_workers: int = 200  # a team of co-op 1 whose one visit is offered to all of them (the Y storm)
    seed: int = 20
    # Co-op 2 with exactly this many teams (the small preset's co-op: 100 + the storm team) and
    # workers in proportion, so the co-op-wide pages compare like with like (like_small_coop).
    like_small_teams: int = 0
    # The clock's work (VERSION 3): weekly series per team (1 or 2 each when 1.5), their
    # occurrences made up to a week short of the horizon, so rota.materialise adds the last week.
    series_per_team: float = 1.5
    # Timesheet entries a month (0: one per visit done, ~16 a team); when set, the last
    # full calendar month and the days since get that many visits done (for the pay run).
    entries_per_month: int = 0
    # Teams of co-op 1 (0: the teams spread evenly); its workers in proportion (the pay run's co-op).
    coop1_teams: int = 0


PRESETS = {
    "small": Params(coops=1, teams=100, workers=300, members=1_000, electors=1_000),
    "federation": Params(coops=20, teams=10_000, workers=30_000, members=100_000, electors=100_000,
                         like_small_teams=101),
}


def like_small_coop(p: Params) -> int:
    """The index (from 0) of the co-op the size of the small preset's: co-op 2 when the
    federation has room for it (each other co-op still larger), else co-op 1."""
    if p.coop1_teams:  # co-op 1 made big for the pay run: the others are spread evenly
        return 0
    return 1 if p.like_small_teams and p.coops >= 2 and p.teams > p.like_small_teams * p.coops else 0


def _spread(n: int, coops: int, capped: int | None, cap: int) -> list[int]:
    """The co-op (from 1) of each of n teams or workers, in turn, co-op `capped` taking no
    more than `cap` (the first `coops` go one to each co-op, so co-op c's first team is team c)."""
    out, count, c = [], 0, 0
    for _ in range(n):
        c = c % coops + 1
        if c == capped and count >= cap:
            c = c % coops + 1
        count += c == capped
        out.append(c)
    return out



def scaled(p: Params, scale: float) -> Params:
    if scale == 1:
        return p
    coops = max(1, round(p.coops * scale))
    teams = max(coops * 2, round(p.teams * scale))
    workers = max(coops * p.workers_per_team, round(p.workers * scale))
    members = max(teams + workers, round(p.members * scale))
    return replace(p, coops=coops, teams=teams, workers=workers, members=members,
                   electors=max(1, round(p.electors * scale)))


def coop_layout(p: Params) -> tuple[list[int], list[int]]:
    """Each team's and each worker's co-op: spread evenly, or co-op 1 with `coop1_teams`
    teams and workers in proportion (so each worker is still in about two teams)."""
    if not p.coop1_teams or p.coops == 1:
        return [i % p.coops + 1 for i in range(p.teams)], [i % p.coops + 1 for i in range(p.workers)]
    first = min(p.coop1_teams, p.teams - (p.coops - 1))
    first_workers = max(p.workers_per_team, round(p.workers * first / p.teams))

    def layout(n: int, head: int) -> list[int]:
        return [1 if i < head else (i - head) % (p.coops - 1) + 2 for i in range(n)]

    return layout(p.teams, first), layout(p.workers, first_workers)


def bench_token(role: str, coop_index: int) -> str:
    """The known API token of the benchmark's person in one role (coop_index from 0)."""
    return f"bench-{role}-{coop_index}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def visit_minute(person_id: int) -> int:
    """The minute past the hour each of a worker's visits starts at (the same in all her
    teams, so her slots still never overlap): visits end all through the hour, so the
    clock's jobs find visits just ended, just begun and soon to begin at any minute."""
    return person_id * 7 % 60


def booked_at(now: datetime, starts: datetime) -> datetime:
    """A visit was booked a week before it began (or before now), so reminders are due."""
    return min(now, starts) - timedelta(days=7)


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


class Writer:
    """COPY rows into one table; counts them."""

    def __init__(self, conn, counts: dict[str, int]):
        self.conn = conn
        self.counts = counts

    def copy(self, table: str, columns: tuple[str, ...], rows) -> int:
        n = 0
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        self.counts[table] = self.counts.get(table, 0) + n
        return n


def generate(conn, p: Params, now: datetime | None = None, reset: bool = False, out=sys.stdout) -> dict[str, int]:
    """Fill the database behind `conn` (a psycopg 3 connection) and commit. Returns rows per table."""
    now = now or datetime.now(UTC)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    rng = random.Random(p.seed)
    counts: dict[str, int] = {}
    w = Writer(conn, counts)
    t0 = time.perf_counter()

    if reset:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            tables = [r[0] for r in cur.fetchall()]
            cur.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM cooperative")
        if cur.fetchone()[0]:
            raise SystemExit("the database already has co-ops: use --reset (it empties every table)")
        # The append-only triggers only refuse UPDATE/DELETE; COPY is an insert. Nothing to switch off.

    coops = range(1, p.coops + 1)
    founded = today - timedelta(days=3 * 365)
    w.copy("cooperative", ("id", "name", "slug", "timezone", "sms_number", "created_at", "founded_on"),
           ((c, f"Bench co-op {c}", f"bench-{c}", ZONE, f"+44117496{c:04d}", now, founded) for c in coops))
    w.copy("rota_settings", ("cooperative_id", "blocking_checks", "offer_ttl_minutes"),
           ((c, "[]", OFFER_TTL_MINUTES) for c in coops))
    w.copy("matching_settings", ("cooperative_id", "required_training"), ((c, "[]") for c in coops))
    w.copy("hours_settings", ("cooperative_id", "pay_frequency"), ((c, "monthly") for c in coops))
    # The pay run needs a rate for its employed workers (every team is urban).
    w.copy("coop_pay_rate", ("cooperative_id", "area_band", "effective_from", "hourly_rate_pence"),
           ((c, "urban", founded, PAY_RATE_PENCE) for c in coops))
    from careteams.teams.rules import DEFAULT_HAT_TYPES

    w.copy("hat_type", ("cooperative_id", "name", "description", "permissions"),
           ((c, name, desc, json.dumps(sorted(str(x) for x in perms)))
            for c in coops for name, desc, perms in DEFAULT_HAT_TYPES))

    # --- people: staff, leaders (supported members), workers, other members -------------
    pid = 0
    persons: list[tuple] = []

    def person(kind: str) -> int:
        nonlocal pid
        pid += 1
        persons.append((pid, f"Bench {kind} {pid}", f"{kind}{pid}@bench.example.org", None, True, "email", False, 1, now))
        return pid

    staff = {c: {r: person(r) for r in ("facilitator", "secretary", "admin")} for c in coops}
    leaders = [person("leader") for _ in range(p.teams)]
    workers = [person("worker") for _ in range(p.workers)]
    others = [person("member") for _ in range(max(0, p.members - p.teams - p.workers))]
    w.copy("person", ("id", "name", "email", "phone", "active", "preferred_channel", "web_only", "session_version",
                      "created_at"), persons)
    persons.clear()

    def coop_of(i: int) -> int:
        return i % p.coops + 1

    if p.coop1_teams:
        team_coop, worker_coop = coop_layout(p)
    else:
        sized = 2 if like_small_coop(p) else None
        team_coop = _spread(p.teams, p.coops, sized, p.like_small_teams)
        worker_coop = _spread(p.workers, p.coops, sized, round(p.like_small_teams * p.workers / p.teams))
    joined = founded + timedelta(days=30)
    memberships: list[tuple] = []
    mid = 0
    first_coop_membership: list[int] = []  # membership ids in co-op 1, in order

    def member(coop: int, person_id: int, cls: str) -> int:
        nonlocal mid
        mid += 1
        memberships.append((mid, coop, person_id, cls, "active", joined, 100))
        if coop == 1:
            first_coop_membership.append(mid)
        return mid

    for i, person_id in enumerate(leaders):
        member(team_coop[i], person_id, "supported")
    for i, person_id in enumerate(workers):
        member(worker_coop[i], person_id, "worker")
    for i, person_id in enumerate(others):
        member(coop_of(i), person_id, "investor" if i % 50 == 0 else "advocate")
    # Co-op 1 doubles as the federation's register when the electorate asks for more.
    extra = p.electors - len(first_coop_membership)
    if extra > 0:
        pool = [(leaders, "supported", team_coop), (workers, "worker", worker_coop)]
        for people, cls, where in pool:
            for i, person_id in enumerate(people):
                if extra <= 0:
                    break
                if where[i] != 1:
                    member(1, person_id, cls)
                    extra -= 1
        for i, person_id in enumerate(others):
            if extra <= 0:
                break
            if coop_of(i) != 1:
                member(1, person_id, "advocate")
                extra -= 1
    w.copy("membership", ("id", "cooperative_id", "person_id", "member_class", "status", "joined_on", "share_pence"),
           memberships)
    memberships.clear()
    w.copy("staff_role", ("cooperative_id", "person_id", "role", "granted_at"),
           ((c, staff[c][r], r, now) for c in coops for r in staff[c]))

    # --- teams and places -----------------------------------------------------------------
    def point(c: int, r: random.Random) -> tuple[float, float]:
        # Each co-op's patch is a box ~40 km across, the patches laid out over England.
        lat0 = 50.6 + (c % 5) * 0.8
        lon0 = -4.0 + (c // 5 % 5) * 0.9
        return round(lat0 + r.random() * 0.36, 5), round(lon0 + r.random() * 0.55, 5)

    def postcode(c: int, n: int) -> tuple[str, str]:
        district = f"B{c % 90 + 10}"
        return f"{district} {n % 9 + 1}{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}", district

    team_rows = []
    for i in range(p.teams):
        c = team_coop[i]
        lat, lon = point(c, rng)
        code, district = postcode(c, i)
        team_rows.append((i + 1, c, leaders[i], f"Team {i + 1}", code, lat, lon, False, district, now))
    w.copy("team", ("id", "cooperative_id", "leader_id", "display_name", "postcode", "latitude", "longitude",
                    "geocode_pending", "postcode_district", "created_at"), team_rows)
    del team_rows
    w.copy("team_hours_terms", ("team_id", "area_band"), ((t, "urban") for t in range(1, p.teams + 1)))

    # Workers of a co-op fill its teams' slots in turn: slot z of the co-op goes to worker
    # z mod n; it is her (z div n)-th team, which fixes the hour her visits there start.
    by_coop_workers: dict[int, list[int]] = {c: [] for c in coops}
    for i, person_id in enumerate(workers):
        by_coop_workers[worker_coop[i]].append(person_id)
    by_coop_teams: dict[int, list[int]] = {c: [] for c in coops}
    for i in range(p.teams):
        by_coop_teams[team_coop[i]].append(i + 1)
    team_workers: dict[int, list[tuple[int, int]]] = {}  # team -> [(person, hour slot)]
    k = p.workers_per_team
    for c in coops:
        ws = by_coop_workers[c]
        for q, team_id in enumerate(by_coop_teams[c]):
            team_workers[team_id] = [(ws[(q * k + s) % len(ws)], ((q * k + s) // len(ws)) % 5) for s in range(k)]
    started = today - timedelta(days=400)
    w.copy("team_member", ("team_id", "person_id", "role", "status", "invited_at", "started_on", "active_on",
                           "accepted_at", "team_confirmed_at", "member_confirmed_at"),
           ((t, person_id, "paid_worker", "active", now, started, started, now, now, now)
            for t, ws in team_workers.items() for person_id, _ in ws))

    # --- worker profiles and checks ---------------------------------------------------------
    profiles = []
    for i, person_id in enumerate(workers):
        c = worker_coop[i]
        lat, lon = point(c, rng)
        code, district = postcode(c, i + 7)
        profiles.append((i + 1, c, person_id, "employed", "[]", "[]", code, lat, lon, False, district,
                         rng.choice((5, 10, 15, 20, 30)), True, now, now))
    w.copy("worker_profile", ("id", "cooperative_id", "person_id", "employment_type", "languages", "interests",
                              "postcode", "latitude", "longitude", "geocode_pending", "district", "travel_km",
                              "available", "created_at", "updated_at"), profiles)
    del profiles
    checked = today - timedelta(days=200)
    w.copy("worker_check", ("worker_profile_id", "kind", "name", "reference", "checked_on", "expires_on"),
           ((i + 1, kind, "", "", checked, checked + timedelta(days=3 * 365))
            for i in range(p.workers) for kind in ("enhanced_dbs", "right_to_work")))

    # --- a year of visits, and the clock's work at `now` -----------------------------------
    # The state a clock running every interval would leave: each job finds about one
    # interval's work (see clock_state), except rota.reminders, which finds every booked
    # visit of the next 24 hours (no reminder sent yet: its first run).
    first_day = today - timedelta(days=182)
    days = [first_day + timedelta(days=d) for d in range(365)]
    chance = p.visits_per_team_year / 365
    offer_until = now + timedelta(days=p.offer_days)
    ts_from = now - timedelta(days=p.timesheet_days)
    busy_from = ts_from.astimezone(ZoneInfo(ZONE)).date()
    per_day = 0.0
    if p.entries_per_month:
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        ts_from = min(ts_from, _local(last_month, 0))
        busy_from = min(busy_from, last_month)
        per_day = p.entries_per_month / (p.teams * 30)
    team_leader = {i + 1: leaders[i] for i in range(p.teams)}
    series = make_series(w, p, rng, now, today, team_workers, team_leader)
    shifts, offers, entries = [], [], []
    codes: dict[int, int] = {}
    sid = 0
    for team_id in range(1, p.teams + 1):
        ws = team_workers[team_id]
        team_series = series.get(team_id, [])
        for day in days:
            visits = []  # (worker, slot, series id or None)
            if per_day and busy_from <= day <= today:
                n = int(per_day) + (rng.random() < per_day - int(per_day))
                visits = [(*x, None) for x in rng.sample(ws, min(n, len(ws)))]
            elif rng.random() < chance:
                visits = [(*ws[rng.randrange(len(ws))], None)]
            visits += [(person_id, slot, series_id) for series_id, first, weekday, person_id, slot, made_to
                       in team_series if day.weekday() == weekday and first <= day <= made_to]
            for person_id, slot, series_id in visits:
                if series_id is None:
                    minutes = rng.choice((60, 60, 90, 120))
                    starts = _local(day, 7 + 3 * slot, visit_minute(person_id))
                else:  # the worker's series visit fills the hour after her one-off slot
                    minutes = 60
                    starts = _local(day, 9 + 3 * slot, visit_minute(person_id))
                ends = starts + timedelta(minutes=minutes)
                sid += 1
                roll = rng.random()
                if ends <= now:
                    status = "cancelled" if roll < 0.03 and series_id is None else "completed"
                elif roll < 0.15 and series_id is None:
                    status = "offered" if starts < offer_until else "open"
                else:
                    status = "booked"
                state = clock_state(rng, now, starts, ends, status)
                booked = person_id if status in ("booked", "completed") else None
                shifts.append((sid, team_id, False, starts, ends, "personal_care", "[]", 0, "", "[]", False,
                               state.status, booked, booked_at(now, starts) if booked else None, 0, now, series_id,
                               day if series_id else None, state.arrived_at, state.missed_alert_at))
                if status == "offered":
                    for other, _ in ws:
                        n = codes.get(other, 100)
                        codes[other] = n + 1
                        offers.append((sid, other, str(n), True, 1, False, False, "open", state.offer_sent,
                                       state.offer_sent + timedelta(minutes=OFFER_TTL_MINUTES)))
                if state.entry is not None and ends > ts_from:
                    entries.append((team_id, person_id, sid, "visit", *state.entry(team_leader[team_id])))
        if len(shifts) >= 200_000:
            _flush_visits(w, shifts, offers, entries)
    _flush_visits(w, shifts, offers, entries)

    # --- an open resolution with its electorate ---------------------------------------------
    from nacl.public import PrivateKey

    key = PrivateKey(bytes(rng.getrandbits(8) for _ in range(32)))
    electorate = first_coop_membership[: p.electors]
    opens = now - timedelta(days=2)
    w.copy("resolution", ("id", "cooperative_id", "title", "text", "kind", "threshold", "conversion", "status",
                          "opens_at", "closes_at", "quorum_min_members", "quorum_percent", "investor_cap_num",
                          "investor_cap_den", "created_at", "opened_at", "electorate_hash", "electorate_size",
                          "public_key", "sealed_private_key", "shares_needed"),
           [(1, 1, "Adopt the federation's rules", "That the federation adopts the rules as circulated.",
             "ordinary", "at_least", False, "open", opens, now + timedelta(days=12), 3, 10, 1, 10, opens, opens,
             _sha(",".join(map(str, electorate))), len(electorate), bytes(key.public_key),
             bytes(rng.getrandbits(8) for _ in range(72)), 1)])
    w.copy("resolution_option", ("resolution_id", "position", "key", "label"),
           [(1, 1, "for", "For"), (1, 2, "against", "Against")])
    member_class = {}
    with conn.cursor() as cur:
        cur.execute("SELECT id, member_class FROM membership WHERE cooperative_id = 1")
        member_class = dict(cur.fetchall())
    w.copy("electorate_entry", ("resolution_id", "membership_id", "member_class", "has_voted"),
           ((1, m, member_class[m], False) for m in electorate))

    # --- the Y storm: a team of co-op 1 whose one visit next week is offered to every worker --
    storm = make_storm(w, conn, p, now, today, started, checked)

    # --- the benchmark's people: one known API token per role per co-op ---------------------
    expires = now + timedelta(days=365)
    tokens = []
    for c in coops:
        team_id = by_coop_teams[c][0]
        tokens.append((team_leader[team_id], bench_token("leader", c - 1)))
        tokens.append((team_workers[team_id][0][0], bench_token("worker", c - 1)))
        tokens.append((staff[c]["facilitator"], bench_token("facilitator", c - 1)))
        tokens.append((staff[c]["secretary"], bench_token("secretary", c - 1)))
    tokens.append((leaders[0], bench_token("member", 0)))  # a member of co-op 1, in the electorate
    w.copy("api_token", ("person_id", "name", "token_hash", "prefix", "created_at", "expires_at"),
           ((person_id, "bench", _sha(secret), secret[:12], now, expires) for person_id, secret in tokens))

    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_storm (shift_id int, team_id int, sms_number text, "
                    "phones text)")
        cur.execute("DELETE FROM bench_storm")
        cur.execute("INSERT INTO bench_storm VALUES (%s, %s, %s, %s)",
                    (storm["shift_id"], storm["team_id"], storm["sms_number"], json.dumps(storm["phones"])))
        for table, column in (("person", "id"), ("membership", "id"), ("team", "id"), ("worker_profile", "id"),
                              ("shift", "id"), ("shift_series", "id"), ("resolution", "id"), ("cooperative", "id")):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                        f"(SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_marker (preset text, params text, version int, made_at timestamptz)")
        cur.execute("DELETE FROM bench_marker")
        cur.execute("INSERT INTO bench_marker VALUES (%s, %s, %s, %s)",
                    (None, json.dumps(p.__dict__, sort_keys=True), VERSION, now))
    conn.commit()
    t_fill = time.perf_counter() - t0
    with conn.cursor() as cur:
        conn.autocommit = True
        cur.execute("ANALYZE")
        conn.autocommit = False
    counts["_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"filled in {t_fill:.1f} s (with ANALYZE {counts['_seconds']} s)", file=out)
    for table, n in sorted(counts.items()):
        if not table.startswith("_"):
            print(f"  {table:<22} {n:>10,}", file=out)
    return counts


def storm_phone(n: int) -> str:
    # Ofcom's drama range (07700 900000-900999): never a real phone.
    return f"+447700900{n:03d}"


def make_storm(w: Writer, conn, p: Params, now: datetime, today: date, started: date, checked: date) -> dict:
    """A team of co-op 1 with `storm_workers` workers (phones, profiles, checks) and one
    visit next week offered to all of them, each with code 100 (scripts/bench_federation)."""
    n = min(p.storm_workers, 1000)
    with conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM person")
        base = cur.fetchone()[0]
        cur.execute("SELECT max(id) FROM team")
        team_id = cur.fetchone()[0] + 1
        cur.execute("SELECT coalesce(max(id), 0) FROM worker_profile")
        profile_base = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM shift")
        shift_id = cur.fetchone()[0] + 1
        cur.execute("SELECT max(id) FROM membership")
        membership_base = cur.fetchone()[0]
        cur.execute("SELECT sms_number FROM cooperative WHERE id = 1")
        sms_number = cur.fetchone()[0]
    leader = base + 1
    people = [(leader, "Bench storm leader", f"storm-leader{leader}@bench.example.org", None)]
    people += [(base + 2 + i, f"Bench storm worker {i}", f"storm{base + 2 + i}@bench.example.org", storm_phone(i))
               for i in range(n)]
    w.copy("person", ("id", "name", "email", "phone", "active", "preferred_channel", "web_only", "session_version",
                      "created_at"), ((*row, True, "sms", False, 1, now) for row in people))
    w.copy("membership", ("id", "cooperative_id", "person_id", "member_class", "status", "joined_on", "share_pence"),
           ((membership_base + 1 + i, 1, row[0], "supported" if row[0] == leader else "worker", "active", started, 100)
            for i, row in enumerate(people)))
    w.copy("team", ("id", "cooperative_id", "leader_id", "display_name", "postcode", "latitude", "longitude",
                    "geocode_pending", "postcode_district", "created_at"),
           [(team_id, 1, leader, "Storm", "B11 1AA", 51.0, -3.0, False, "B11", now)])
    workers = [row[0] for row in people[1:]]
    w.copy("team_member", ("team_id", "person_id", "role", "status", "invited_at", "started_on", "active_on",
                           "accepted_at", "team_confirmed_at", "member_confirmed_at"),
           ((team_id, person_id, "paid_worker", "active", now, started, started, now, now, now) for person_id in workers))
    w.copy("worker_profile", ("id", "cooperative_id", "person_id", "employment_type", "languages", "interests",
                              "postcode", "latitude", "longitude", "geocode_pending", "district", "travel_km",
                              "available", "created_at", "updated_at"),
           ((profile_base + 1 + i, 1, person_id, "employed", "[]", "[]", "B11 1AB", 51.0, -3.0, False, "B11", 20,
             True, now, now) for i, person_id in enumerate(workers)))
    w.copy("worker_check", ("worker_profile_id", "kind", "name", "reference", "checked_on", "expires_on"),
           ((profile_base + 1 + i, kind, "", "", checked, checked + timedelta(days=3 * 365))
            for i in range(len(workers)) for kind in ("enhanced_dbs", "right_to_work")))
    starts = _local(today + timedelta(days=7), 22)
    w.copy("shift", SHIFT_COLUMNS, [(shift_id, team_id, False, starts, starts + timedelta(hours=1), "companionship",
                                     "[]", 0, "", "[]", False, "offered", None, None, 0, now, None, None, None,
                                     None)])
    w.copy("offer", OFFER_COLUMNS, ((shift_id, person_id, "100", True, 1, False, False, "open", now,
                                     now + timedelta(days=6)) for person_id in workers))
    return {"shift_id": shift_id, "team_id": team_id, "sms_number": sms_number,
            "phones": [storm_phone(i) for i in range(n)]}


SHIFT_COLUMNS = ("id", "team_id", "detached", "starts_at", "ends_at", "kind", "required_skills", "break_minutes",
                 "notes", "tasks", "is_trial", "status", "booked_person_id", "booked_at", "escalation_level",
                 "created_at", "series_id", "occurrence_date", "arrived_at", "missed_alert_at")
OFFER_COLUMNS = ("shift_id", "person_id", "code", "code_live", "wave", "is_cover", "outside_team", "status",
                 "sent_at", "expires_at")
ENTRY_COLUMNS = ("team_id", "person_id", "shift_id", "kind", "status", "started_at", "ended_at", "break_minutes",
                 "travel_minutes", "waiting_minutes", "mileage", "note", "submitted_at", "confirmed_at",
                 "confirmed_by_id", "auto_confirmed", "created_at", "last_reminded_on")
OFFER_TTL_MINUTES = 120  # the co-ops' rota setting: an offer expires two hours after it is sent
PAY_RATE_PENCE = 1300
HORIZON_WEEKS = 8  # rota_settings.horizon_weeks's default
AUTO_CONFIRM_HOURS = 72  # hours_settings.auto_confirm_hours's default
MISSED_VISIT_MINUTES = 15  # rota_settings.missed_visit_minutes's default
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def make_series(w: Writer, p: Params, rng: random.Random, now: datetime, today: date,
                team_workers: dict[int, list[tuple[int, int]]], team_leader: dict[int, int]) -> dict[int, list[tuple]]:
    """Weekly series (`series_per_team` a team on average, each with its own worker, on a
    weekday, at 09:00 + 3n local for her n-th team: the hour after her one-off visits there).
    They began ten weeks ago (before the last full month, for the pay run); their
    occurrences are made (by the caller) to a week short of the co-op's horizon, so
    rota.materialise has each series' last week to add.
    Returns team -> [(series id, first date, weekday, worker, slot, last occurrence made)]."""
    first_day = today - timedelta(weeks=10)
    made_to = today + timedelta(weeks=HORIZON_WEEKS) - timedelta(days=7)
    out: dict[int, list[tuple]] = {}
    rows = []
    whole, part = int(p.series_per_team), p.series_per_team - int(p.series_per_team)
    for team_id, ws in team_workers.items():
        n = min(len(ws), whole + (rng.random() < part))
        for person_id, slot in rng.sample(ws, n):
            weekday = rng.randrange(7)
            first = first_day + timedelta(days=(weekday - first_day.weekday()) % 7)
            series_id = len(rows) + 1
            rows.append((series_id, team_id, f"FREQ=WEEKLY;BYDAY={WEEKDAYS[weekday]}", first, dtime(9 + 3 * slot, visit_minute(person_id)), 60,
                         "personal_care", "[]", 0, "", "[]", team_leader[team_id], now))
            out.setdefault(team_id, []).append((series_id, first, weekday, person_id, slot, made_to))
    w.copy("shift_series", ("id", "team_id", "rrule", "first_date", "start_time", "duration_minutes", "kind",
                            "required_skills", "break_minutes", "notes", "tasks", "created_by_id", "created_at"), rows)
    return out


@dataclass(frozen=True)
class VisitState:
    status: str
    arrived_at: datetime | None = None
    missed_alert_at: datetime | None = None
    offer_sent: datetime | None = None
    entry: object = None  # leader id -> the entry's columns from status on, or None (no entry)


def clock_state(rng: random.Random, now: datetime, starts: datetime, ends: datetime, status: str) -> VisitState:
    """A visit as a clock running every interval would leave it at `now`, so each job
    finds about one interval's work:

    - rota.complete and hours.pending: visits ended in the last 10 minutes are still
      booked, with no timesheet entry;
    - rota.missed_visits: 5% of the visits under way have nobody arrived; those whose
      15 minutes ran out before the last minute were flagged already;
    - rota.offers: offers were sent at random in the last 125 minutes with a 2-hour
      life, so those sent 120-125 minutes ago have just expired (about 1 in 25);
    - hours: a visit's entry is pending until the worker submits it (0-24 h after the
      end; reminded today if it ended 3 hours ago or more, so hours.remind finds the
      last hour's), then confirmed by the leader within 48 h (70%) or by the clock 72 h
      after submission; those whose 72 h ran out in the last 15 minutes are still
      submitted (hours.auto_confirm's work).
    """
    if status == "offered":
        return VisitState(status, offer_sent=now - timedelta(minutes=rng.uniform(0, OFFER_TTL_MINUTES + 5)))
    if status == "booked" and starts <= now:
        if rng.random() < 0.95:
            return VisitState(status, arrived_at=starts + timedelta(minutes=rng.randrange(1, 11)))
        flagged = starts + timedelta(minutes=MISSED_VISIT_MINUTES)
        return VisitState(status, missed_alert_at=flagged if flagged + timedelta(minutes=1) <= now else None)
    if status != "completed":
        return VisitState(status)
    if ends > now - timedelta(minutes=10):
        return VisitState("booked", arrived_at=starts + timedelta(minutes=rng.randrange(1, 11)))
    submitted = ends + timedelta(minutes=rng.randrange(24 * 60))
    local_today = now.astimezone(ZoneInfo(ZONE)).date()
    if submitted > now:
        reminded = local_today if ends <= now - timedelta(hours=3) else None
        return VisitState(status, entry=lambda leader: ("pending", starts, ends, 0, 0, 0, 0, "", None, None, None,
                                                         False, ends, reminded))
    by_leader = submitted + timedelta(minutes=rng.randrange(48 * 60)) if rng.random() < 0.7 else None
    auto = submitted + timedelta(hours=AUTO_CONFIRM_HOURS)
    if by_leader is not None and by_leader <= now:
        def entry(leader):
            return ("confirmed", starts, ends, 0, 0, 0, 0, "", submitted, by_leader, leader, False, ends, None)
    elif auto <= now - timedelta(minutes=15):
        def entry(leader):
            return ("confirmed", starts, ends, 0, 0, 0, 0, "", submitted, auto, None, True, ends, None)
    else:
        def entry(leader):
            return ("submitted", starts, ends, 0, 0, 0, 0, "", submitted, None, None, False, ends, None)
    return VisitState(status, entry=entry)


def _flush_visits(w: Writer, shifts: list, offers: list, entries: list) -> None:
    w.copy("shift", SHIFT_COLUMNS, shifts)
    w.copy("offer", OFFER_COLUMNS, offers)
    w.copy("timesheet_entry", ENTRY_COLUMNS, entries)
    shifts.clear()
    offers.clear()
    entries.clear()


def read_marker(conn) -> dict | None:
    """The parameters and version the database was filled with, or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_marker')")
        if cur.fetchone()[0] is None:
            return None
        cur.execute("SELECT params, version FROM bench_marker")
        row = cur.fetchone()
    return None if row is None else {"params": json.loads(row[0]), "version": row[1]}


def plain_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply teams, workers, members, electors")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--reset", action="store_true", help="empty every table first")
    parser.add_argument("--entries-per-month", type=int, default=None,
                        help="timesheet entries a month, e.g. 400000 (default: one per visit done)")
    parser.add_argument("--coop1-teams", type=int, default=None,
                        help="teams of co-op 1, e.g. 2000 for the pay run (default: teams spread evenly)")
    parser.add_argument("--series-per-team", type=float, default=None, help="weekly series per team (default 1.5)")
    parser.add_argument("--now", type=datetime.fromisoformat, default=None,
                        help="the fill's moment, ISO with offset (default: now); e.g. 11:00 London time, when "
                             "visits are under way, for scripts/bench_jobs.py")
    args = parser.parse_args(argv)
    import psycopg

    p = scaled(PRESETS[args.preset], args.scale)
    for name in ("seed", "entries_per_month", "coop1_teams", "series_per_team"):
        if getattr(args, name) is not None:
            p = replace(p, **{name: getattr(args, name)})
    print(f"preset {args.preset} x{args.scale}: {p}")
    with psycopg.connect(plain_url(args.database_url)) as conn:
        generate(conn, p, now=args.now, reset=args.reset)


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/scripts/", 1)[0])
    main()
