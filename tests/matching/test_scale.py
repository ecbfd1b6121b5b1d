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


def test_suggestions_run_the_same_statements_for_20_and_200_workers(world):
    skill_ids = [s.id for s in world.skills.values()]
    generate_profiles(world.coop.id, skill_ids, 20, HOME, today=NOW.date(), seed=3, spread_km=8)
    _, few, with_20 = suggestions_with_count(world)
    generate_profiles(world.coop.id, skill_ids, 180, HOME, today=NOW.date(), seed=4, spread_km=8)
    _, many, with_200 = suggestions_with_count(world)
    assert with_20 == with_200, (with_20, with_200)
    assert 0 < len(few) < len(many) == SUGGESTION_LIMIT


def test_the_box_is_as_wide_as_the_widest_reach_and_no_wider(world):
    """The constant box is sized by the co-op's widest reach (not the 200 km the rules allow):
    a worker 30 km away who travels 40 km is found; one 30 km away who travels 25 km is not,
    nor is anybody once nobody in the co-op is available."""
    from tests.matching.conftest import make_worker

    care = world.skills["Personal care"]
    km_north = 30 / rules.KM_PER_DEGREE_LAT
    far_reach = make_worker(world.coop, "Faye Far", lat=HOME[0] + km_north, travel_km=40, skills=[care])
    make_worker(world.coop, "Gil Short", lat=HOME[0] - km_north, travel_km=25, skills=[care])
    near = make_worker(world.coop, "Nell Near", lat=HOME[0] + 0.01, travel_km=5, skills=[care])
    vacancy = post_vacancy(world)
    found = [r["person_id"] for r in rank_candidates(vacancy, NOW)]
    assert sorted(found) == sorted([far_reach.id, near.id])
    db.session.execute(sa.update(WorkerProfile).where(WorkerProfile.cooperative_id == world.coop.id)
                       .values(available=False))
    assert rank_candidates(vacancy, NOW) == []


def test_ranking_by_totals_then_explaining_the_top_ranks_as_scoring_everyone(world):
    """rank_candidates explains only the top few; the order is the one full scores give."""
    skill_ids = [s.id for s in world.skills.values()]
    generate_profiles(world.coop.id, skill_ids, 300, HOME, today=NOW.date(), seed=5, spread_km=8)
    vacancy = post_vacancy(world, languages=["Urdu", "English"], interests=["gardening", "music"],
                           nice_skill_ids=[world.skills["Cooking"].id, world.skills["Driving"].id])
    everyone = rank_candidates(vacancy, NOW, limit=100_000)
    top = rank_candidates(vacancy, NOW, limit=7)
    assert len(everyone) > 20
    assert top == everyone[:7]
    keys = [(-r["score"], r["person_id"]) for r in everyone]
    by_profile = dict(db.session.execute(sa.select(WorkerProfile.person_id, WorkerProfile.id)).all())
    assert [s for s, _ in keys] == sorted(s for s, _ in keys)
    # Ties broken by the profile's id, as rules.rank does.
    for a, b in zip(everyone, everyone[1:], strict=False):
        if a["score"] == b["score"]:
            assert by_profile[a["person_id"]] < by_profile[b["person_id"]]
