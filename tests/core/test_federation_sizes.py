"""scripts/federation.py's co-op sizes, without a database: the federation has a co-op the
size of the small preset's (the benchmark compares the co-op-wide pages on it), and each
co-op's first team is still team c (the benchmark's leader of co-op c leads it)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import federation  # noqa: E402


def sizes(p: federation.Params) -> tuple[Counter, Counter, list[int]]:
    capped = 2 if federation.like_small_coop(p) else None
    teams = federation._spread(p.teams, p.coops, capped, p.like_small_teams)
    workers = federation._spread(p.workers, p.coops, capped, round(p.like_small_teams * p.workers / p.teams))
    return Counter(teams), Counter(workers), teams


def test_the_federation_has_a_coop_the_size_of_the_small_presets():
    small = federation.PRESETS["small"]
    fed = federation.PRESETS["federation"]
    assert federation.like_small_coop(small) == 0 and federation.like_small_coop(fed) == 1
    teams, workers, order = sizes(fed)
    # The small preset's co-op: its 100 teams and the Y storm's team.
    assert teams[2] == small.teams + 1 == 101 and workers[2] == 303
    assert sum(teams.values()) == fed.teams and sum(workers.values()) == fed.workers
    assert all(n > 500 for c, n in teams.items() if c != 2)
    assert order[:fed.coops] == list(range(1, fed.coops + 1))  # co-op c's first team is team c


def test_without_room_the_coops_are_even():
    tiny = federation.scaled(federation.PRESETS["federation"], 0.05)  # one co-op
    assert federation.like_small_coop(tiny) == 0
    teams, _, _ = sizes(tiny)
    assert teams == Counter({1: tiny.teams})
    two = federation.Params(coops=2, teams=20, workers=60, members=200, electors=150, like_small_teams=101)
    assert federation.like_small_coop(two) == 0 and sizes(two)[0] == Counter({1: 10, 2: 10})
