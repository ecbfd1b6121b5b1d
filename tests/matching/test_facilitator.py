"""The facilitators' queue, the fairness report (small cells suppressed, nobody
named) and the co-op's figures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from careteams.errors import Forbidden
from careteams.extensions import db
from careteams.matching.models import EqualityData, MatchState
from careteams.matching.rules import Action
from careteams.matching.services.facilitator import (
    facilitator_queue,
    fairness_report,
    matching_figures,
    matching_figures_by_month,
)
from careteams.matching.services.matches import ask_to_join, invite_worker
from careteams.matching.services.suggestions import suggest_candidates
from tests.matching.conftest import NOW, actor, make_worker, post_vacancy
from tests.matching.test_flow import act, to_state


def _worker_in_group(world, n, group):
    person = make_worker(world.coop, f"Worker{n} Person{n}", skills=[world.skills["Personal care"]])
    db.session.add(EqualityData(cooperative_id=world.coop.id, person_id=person.id, ethnicity=group,
                                gender="woman" if n % 2 else "man"))
    return person


def test_fairness_report_suppresses_small_cells_and_names_nobody(world, client, auth_headers):
    group_a = [_worker_in_group(world, n, "Group A") for n in range(7)]
    group_b = [_worker_in_group(world, n, "Group B") for n in range(7, 10)]
    vacancy = post_vacancy(world)
    shown = suggest_candidates(actor(world.leader), vacancy.id, now=NOW)
    assert len(shown) == 10
    # The team invites five of group A and turns down every one of group B who asked.
    for person in group_a[:5]:
        invite_worker(actor(world.leader), vacancy.id, person.id, now=NOW)
    for person in group_b:
        match = ask_to_join(actor(person), vacancy.id, now=NOW)
        act(world.leader, match, Action.answer_no)

    report = fairness_report(actor(world.facilitator), world.coop)
    assert report["threshold"] == 5
    rows = {row["group"]: row for row in report["dimensions"]["ethnicity"]}
    assert rows["Group A"]["suggested"] == 7 and rows["Group A"]["team_yes"] == 5
    assert rows["Group A"]["team_yes_rate"] == 71
    assert rows["Group A"]["team_no"] is None and rows["Group A"]["joined"] is None  # 0 is under 5
    # Group B has three people: everything about it is withheld, even the three refusals.
    assert {k: v for k, v in rows["Group B"].items() if k != "group"} == dict.fromkeys(
        ["suggested", "team_yes", "team_no", "joined", "team_yes_rate", "team_no_rate", "joined_rate"], None)
    # By gender the same people fall into groups of 5 and 5.
    genders = {row["group"]: row for row in report["dimensions"]["gender"]}
    assert genders["woman"]["suggested"] == 5 and genders["man"]["suggested"] == 5
    assert set(report["dimensions"]["age_band"][0]) >= {"group", "suggested"}
    assert [row["group"] for row in report["dimensions"]["age_band"]] == ["not stated"]

    response = client.get(f"/api/v1/cooperatives/{world.coop.slug}/matching/fairness",
                          headers=auth_headers(world.facilitator))
    text = json.dumps(response.get_json())
    for person in group_a + group_b:
        assert person.name not in text and person.name.split()[0] not in text
    assert "person_id" not in text


def test_queue_lists_reviews_holds_stalled_introductions_lonely_vacancies_and_expiring_checks(world):
    reviewing = make_worker(world.coop, "Rita Review", skills=[world.skills["Personal care"]])
    in_review = to_state(world, reviewing, MatchState.review)
    introducing = make_worker(world.coop, "Ivy Intro", skills=[world.skills["Personal care"]])
    stalled = to_state(world, introducing, MatchState.introduction)
    expiring = make_worker(world.coop, "Eve Expiring", skills=[world.skills["Personal care"]],
                           dbs_expires=NOW.date() + timedelta(days=10))
    lonely = post_vacancy(world, required_skill_ids=[world.skills["Dementia"].id], nice_skill_ids=[])
    act(world.facilitator, in_review, Action.hold, note="Reference to check")

    soon = facilitator_queue(actor(world.facilitator), world.coop, now=NOW)
    # A held match is listed once: under "held", with its note, not again under "waiting for review".
    assert soon["in_review"] == []
    assert [m["id"] for m in soon["held"]] == [in_review.id]
    assert soon["held"][0]["hold_note"] == "Reference to check"
    assert soon["stalled_introductions"] == []  # approved today
    assert [v["id"] for v in soon["vacancies_without_candidates"]] == [lonely.id]
    assert [(c["name"], c["kind"], c["expired"]) for c in soon["expiring_checks"]] == [
        ("Eve Expiring", "enhanced_dbs", False)]

    later = facilitator_queue(actor(world.facilitator), world.coop, now=NOW + timedelta(days=15))
    assert [m["id"] for m in later["stalled_introductions"]] == [stalled.id]
    assert ("Eve Expiring", True) in [(c["name"], c["expired"]) for c in later["expiring_checks"]]
    # Once the introduction has an outcome, it leaves the stalled list.
    act(world.facilitator, stalled, Action.record_introduction, on=date(2026, 11, 24))
    act(introducing, stalled, Action.start_trial)
    assert facilitator_queue(actor(world.facilitator), world.coop, now=NOW + timedelta(days=15))[
        "stalled_introductions"] == []
    assert expiring.id


def test_figures_success_share_and_median_days_to_join(world):
    first = make_worker(world.coop, "Ann One", skills=[world.skills["Personal care"]])
    second = make_worker(world.coop, "Bea Two", skills=[world.skills["Personal care"]])
    third = make_worker(world.coop, "Cy Three", skills=[world.skills["Personal care"]])
    joined = to_state(world, first, MatchState.active)
    left = to_state(world, second, MatchState.trial)
    act(second, left, Action.withdraw)
    to_state(world, third, MatchState.invited)  # not mutual: not counted
    joined.vacancy.created_at = NOW - timedelta(days=10)
    left.vacancy.created_at = NOW - timedelta(days=20)
    db.session.flush()
    figures = matching_figures(actor(world.facilitator), world.coop)
    assert figures["mutual_matches_decided"] == 2 and figures["became_active"] == 1
    assert figures["success_percent"] == 50
    assert figures["joins"] == 2 and figures["median_days_vacancy_to_join"] == 15.0


def test_figures_by_month_count_each_match_in_its_local_month_and_add_up_to_the_figures(world):
    first = make_worker(world.coop, "Ann One", skills=[world.skills["Personal care"]])
    second = make_worker(world.coop, "Bea Two", skills=[world.skills["Personal care"]])
    joined = to_state(world, first, MatchState.active)
    left = to_state(world, second, MatchState.trial)
    act(second, left, Action.withdraw)
    joined.vacancy.created_at = NOW - timedelta(days=10)
    left.vacancy.created_at = NOW - timedelta(days=20)  # she joined on trial, then withdrew
    # Withdrawn at 23:30 UTC on 31 May: 00:30 on 1 June in London, so a June figure.
    left.closed_at = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    db.session.flush()
    months = [date(2026, m, 1) for m in range(5, 12)]
    rows, total = matching_figures_by_month(actor(world.facilitator), world.coop, months)
    by_month = {r["month"]: r for r in rows}
    assert [r["month"] for r in rows] == [f"2026-{m:02d}" for m in range(5, 12)]
    assert by_month["2026-05"]["mutual_matches_decided"] == 0 and by_month["2026-05"]["success_percent"] is None
    assert by_month["2026-06"]["mutual_matches_decided"] == 1 and by_month["2026-06"]["success_percent"] == 0
    assert by_month["2026-11"]["became_active"] == 1 and by_month["2026-11"]["success_percent"] == 100
    assert by_month["2026-11"]["joins"] == 2 and by_month["2026-11"]["median_days_vacancy_to_join"] == pytest.approx(15.0)
    # Over months holding every decision and join, the same figures as matching_figures.
    assert total == matching_figures(actor(world.facilitator), world.coop)
    assert total["success_percent"] == 50
    # Nothing outside the months; refused to a worker like the report.
    assert matching_figures_by_month(actor(world.facilitator), world.coop, [date(2026, 12, 1)])[1]["joins"] == 0
    with pytest.raises(Forbidden):
        matching_figures_by_month(actor(first), world.coop, months)
