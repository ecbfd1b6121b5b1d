"""The benchmark's load (locust, headless; run by scripts/bench_federation, not on its own).

One user class per role, each sending the role's pages with the role's known API token
(scripts/federation.py, bench_token): leader (week rota, team page), worker (my shifts,
my offers), facilitator (matching queue, day page), member (the open resolution), and
the baseline (/healthz, a static file). Every response's X-SQL-Statements header (the
app's CARETEAMS_BENCH probe) is collected per endpoint and written to BENCH_STATEMENTS_OUT.
Imports nothing from careteams: it runs in locust's own environment.
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict

from locust import HttpUser, between, events, task

# "name=url=coops=like;...": the servers of each scale, driven side by side; `like` is the index
# of the co-op the size of the small preset's (scripts/federation.py, like_small_coop).
SCALES = [(*part.split("="), "0")[:4]
          for part in os.environ.get("BENCH_SCALES", "small=http://127.0.0.1:8791=1=0").split(";")]
STATEMENTS: dict[str, list[int]] = defaultdict(list)
SERVER_MS: dict[str, list[float]] = defaultdict(list)


@events.request.add_listener
def _statements(name, response, exception, **kwargs):
    if exception is None and response is not None:
        value = response.headers.get("X-SQL-Statements")
        if value is not None:
            STATEMENTS[name].append(int(value))
        ms = response.headers.get("X-Request-Ms")
        if ms is not None:
            SERVER_MS[name].append(float(ms))


@events.quitting.add_listener
def _write(environment, **kwargs):
    out = os.environ.get("BENCH_STATEMENTS_OUT")
    if out:
        with open(out, "w") as f:
            json.dump({"statements": STATEMENTS, "server_ms": SERVER_MS}, f)


class Role(HttpUser):
    """Each task asks every scale's server for the same page, in a random order, so
    that whatever else the machine is doing weighs on both scales alike."""

    abstract = True
    role = ""
    host = "http://127.0.0.1"
    wait_time = between(0.2, 0.6)

    def on_start(self):
        self.coop = {name: (random.randrange(int(coops)) if self.role != "member" else 0)
                     for name, _, coops, _ in SCALES}

    def both(self, path, name: str, coops: dict[str, int] | None = None):
        for scale, base, _, _ in random.sample(SCALES, len(SCALES)):
            coop = (coops or self.coop).get(scale, 0)
            headers = {"Authorization": f"Bearer bench-{self.role}-{coop}"} if self.role else {}
            url = base + (path(coop) if callable(path) else path)
            with self.client.get(url, name=f"{scale} | {name}", headers=headers, allow_redirects=False,
                                 catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"{r.status_code}")


class Leader(Role):
    role = "leader"

    @task(2)
    def week_rota(self):
        # The first team of co-op c (from 0) is team c + 1 (scripts/federation.py).
        self.both(lambda c: f"/teams/{c + 1}/rota", "leader: week rota")

    @task
    def team_page(self):
        self.both(lambda c: f"/teams/{c + 1}", "leader: team page")


class Worker(Role):
    role = "worker"

    @task(2)
    def my_shifts(self):
        self.both("/my/shifts", "worker: my shifts")

    @task
    def my_offers(self):
        self.both("/my/offers", "worker: my offers")


class Facilitator(Role):
    """The co-op-wide pages grow with the co-op, so each scale's co-op is the one the size of
    the small preset's (co-op 2 of the federation, 101 teams; co-op 1 of the small preset)."""

    role = "facilitator"

    def on_start(self):
        self.coop = {name: int(like) for name, _, _, like in SCALES}

    @task(2)
    def queue(self):
        self.both(lambda c: f"/coops/bench-{c + 1}/matching/queue", "facilitator: queue")

    @task(2)
    def day(self):
        self.both(lambda c: f"/coops/bench-{c + 1}/day", "facilitator: day page")

    @task
    def day_biggest(self):
        # Co-op 1 at each scale (521 teams in the federation, 101 in the small preset): its
        # work rightly grows with its own size, so this is not a goal line.
        self.both(lambda c: f"/coops/bench-{c + 1}/day", "facilitator: day page, co-op 1 (not a goal line)",
                  coops={name: 0 for name, *_ in SCALES})


class Member(Role):
    role = "member"

    @task
    def voter_status(self):
        # The vote burst's read: may I vote, have I? The HTML page lists every voter for the
        # proxy choice, so it is timed once per scale outside the load (bench_federation).
        self.both("/api/v1/cooperatives/bench-1/resolutions/1/me", "member: my vote status (API)")


class Baseline(Role):
    role = ""

    def on_start(self):
        self.coop = {}

    @task
    def healthz(self):
        self.both("/healthz", "baseline: /healthz")

    @task
    def static(self):
        self.both("/static/site.css", "baseline: static file")
