"""Suggestions over tens of thousands of profiles: ranked, explained, and a fixed
number of SQL queries however many profiles there are."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching import rules
from careteams.matching.models import WorkerProfile
from careteams.matching.services.common import SUGGESTION_LIMIT
from careteams.matching.services.profiles import worker_eligibility
from careteams.matching.services.suggestions import rank_candidates, suggest_candidates
from careteams.matching.synthetic import generate_profiles
from tests.matching.conftest import HOME, NOW, actor, post_vacancy


@contextmanager
def counted():
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", listener)


def suggestions_with_count(world):
    vacancy = post_vacancy(world)  # a fresh vacancy: nobody shown for it yet
    db.session.commit()
    db.session.expire_all()
    with counted() as statements:
        results = suggest_candidates(actor(world.leader), vacancy.id, now=NOW)
    return vacancy, results, len(statements)


def test_suggestions_scale_without_more_queries(world):
    skill_ids = [s.id for s in world.skills.values()]
    first = generate_profiles(world.coop.id, skill_ids, 100, HOME, today=NOW.date(), seed=1)
    _, small_results, small_queries = suggestions_with_count(world)
    more = generate_profiles(world.coop.id, skill_ids, 9_900, HOME, today=NOW.date(), seed=2)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkerProfile)) == 10_000
    vacancy, results, big_queries = suggestions_with_count(world)

    assert small_queries == big_queries, (small_queries, big_queries)
    assert small_queries < 20
    assert len(results) == SUGGESTION_LIMIT and len(small_results) > 0
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1] or len(set(scores)) == 1
    for result in results:
        assert result["reasons"] and any(r.startswith("Available for") for r in result["reasons"])
        assert sum(result["parts"].values()) == result["score"]
        assert "Personal care" in result["worker"]["skills"]
        assert set(result["worker"]) == {"first_name", "skills", "languages", "interests", "distance_band"}
    # Every suggested worker passes the hard filters, checked again independently.
    chosen = [r["person_id"] for r in results]
    assert set(chosen) <= set(first) | set(more)
    assert all(not reasons for reasons in worker_eligibility(chosen, ["Personal care"], NOW).values())
    profiles = {p.person_id: p for p in db.session.scalars(
        sa.select(WorkerProfile).where(WorkerProfile.person_id.in_(chosen)))}
    for person_id in chosen:
        p = profiles[person_id]
        assert p.available
        assert rules.haversine_km(vacancy.latitude, vacancy.longitude, p.latitude, p.longitude) <= p.travel_km
        assert rules.overlap_minutes([(w.weekday, w.start_minute, w.end_minute) for w in vacancy.windows],
                                     [(w.weekday, w.start_minute, w.end_minute) for w in p.windows]) > 0
    # The best candidate really is the best: no excluded-by-filter worker outranks it.
    full = rank_candidates(vacancy, NOW, limit=100_000)
    assert [r["person_id"] for r in full[:len(results)]] == chosen or [r["score"] for r in full[:len(results)]] == scores
