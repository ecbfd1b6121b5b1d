"""scripts/federation.py at a tiny scale, in a throwaway database of its own on the test
PostgreSQL server (PostgreSQL pass only): the rows it makes pass every constraint (COPY
checks them all, the exclusion constraint included), the same seed makes the same
federation, and the benchmark's tokens let each role in."""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import requires_postgres

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import federation  # noqa: E402

pytestmark = [pytest.mark.postgres]

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
# 2 co-ops, 20 teams, 60 workers, 200 members; the electorate needs co-op 1 to take in people of co-op 2.
TINY = replace(federation.PRESETS["federation"], coops=2, teams=20, workers=60, members=200, electors=150,
               storm_workers=5)


@pytest.fixture
def scratch_url(database_url):
    requires_postgres(database_url)
    import flask_migrate
    import psycopg

    from careteams import create_app

    server = database_url.rsplit("/", 1)[0]
    plain = federation.plain_url(server)
    name = f"careteams_gen_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        from careteams.extensions import db

        db.engine.dispose()
    try:
        yield federation.plain_url(url)
    finally:
        with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_tiny_federation_is_made_within_the_constraints_and_the_same_seed_gives_the_same(scratch_url):
    import psycopg

    assert (TINY.coops, TINY.teams, TINY.workers, TINY.members) == (2, 20, 60, 200)
    with psycopg.connect(scratch_url) as conn:
        counts = federation.generate(conn, TINY, now=NOW, out=open(os.devnull, "w"))
        first = conn.execute("SELECT md5(string_agg(starts_at::text || coalesce(booked_person_id, 0)::text, ',' "
                             "ORDER BY id)) FROM shift").fetchone()[0]
        assert federation.read_marker(conn) == {"params": TINY.__dict__, "version": federation.VERSION}
        counts_again = federation.generate(conn, TINY, now=NOW, reset=True, out=open(os.devnull, "w"))
        again = conn.execute("SELECT md5(string_agg(starts_at::text || coalesce(booked_person_id, 0)::text, ',' "
                             "ORDER BY id)) FROM shift").fetchone()[0]
        assert again == first
        assert {k: v for k, v in counts.items() if not k.startswith("_")} == \
            {k: v for k, v in counts_again.items() if not k.startswith("_")}
        assert counts["cooperative"] == 2 and counts["team"] == 20 + 1 and counts["worker_profile"] == 60 + 5
        assert counts["hat_type"] == 8  # the four default hats in each co-op
        assert 3000 < counts["shift"] < 5000  # about 200 visits a team in the year
        assert counts["electorate_entry"] == TINY.electors
        # The Y storm's visit is offered to each of its workers, with the code the benchmark texts.
        shift_id = conn.execute("SELECT shift_id FROM bench_storm").fetchone()[0]
        assert conn.execute("SELECT count(*), min(code), max(code) FROM offer WHERE shift_id = %s "
                            "AND status = 'open' AND code_live", (shift_id,)).fetchone() == (5, "100", "100")
        # No worker holds two overlapping visits (booked ones are also held by the exclusion constraint).
        overlaps = conn.execute(
            "SELECT count(*) FROM shift a JOIN shift b ON a.booked_person_id = b.booked_person_id AND a.id < b.id "
            "AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)").fetchone()[0]
        assert overlaps == 0
        # Every booked or done visit's worker is in the team.
        strangers = conn.execute(
            "SELECT count(*) FROM shift s WHERE s.booked_person_id IS NOT NULL AND NOT EXISTS ("
            "SELECT 1 FROM team_member m WHERE m.team_id = s.team_id AND m.person_id = s.booked_person_id)"
        ).fetchone()[0]
        assert strangers == 0


def test_the_benchmark_tokens_open_each_roles_pages(scratch_url):
    import psycopg

    from careteams import create_app

    with psycopg.connect(scratch_url) as conn:
        federation.generate(conn, TINY, out=open(os.devnull, "w"))
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://"
                      + scratch_url.split("://", 1)[1], "COUNT_STATEMENTS": True})
    client = app.test_client()
    pages = [("leader", "/teams/2/rota"), ("leader", "/teams/2"), ("worker", "/my/shifts"), ("worker", "/my/offers"),
             ("facilitator", "/coops/bench-2/matching/queue"), ("facilitator", "/coops/bench-2/day"),
             ("member", "/cooperatives/bench-1/resolutions/1")]
    try:
        for role, path in pages:
            coop = 0 if role == "member" else 1
            response = client.get(path, headers={"Authorization": f"Bearer {federation.bench_token(role, coop)}"})
            assert response.status_code == 200, (role, path)
            assert int(response.headers["X-SQL-Statements"]) > 0
        # Another co-op's facilitator is refused: the tokens are not master keys.
        response = client.get("/coops/bench-1/day",
                              headers={"Authorization": f"Bearer {federation.bench_token('facilitator', 1)}"})
        assert response.status_code in (403, 404)
    finally:
        with app.app_context():
            from careteams.extensions import db

            db.session.remove()
            db.engine.dispose()
