"""Pure rules: every transition of the consent state machine, places, windows, the
score and the fairness report's suppression."""

from __future__ import annotations

import itertools
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careteams.matching import rules
from careteams.matching.models import CheckKind, MatchState, Side
from careteams.matching.rules import Action, IllegalTransition, MatchFacts

S, A = MatchState, Action
T, W, F = Side.team, Side.worker, Side.facilitator

# Each state with the facts it typically has (who started it).
BASE_FACTS = {
    S.invited: MatchFacts(S.invited, started_by=T),
    S.asked: MatchFacts(S.asked, started_by=W),
    S.declined: MatchFacts(S.declined, started_by=T),
    S.review: MatchFacts(S.review, started_by=T),
    S.introduction: MatchFacts(S.introduction, started_by=W),
    S.trial: MatchFacts(S.trial, started_by=T, introduction_recorded=True),
    S.active: MatchFacts(S.active, started_by=T, introduction_recorded=True, shifts_recorded=2,
                         team_confirmed=True, worker_confirmed=True),
    S.withdrawn: MatchFacts(S.withdrawn, started_by=W),
}

# The complete list of legal moves for those facts, written out by hand.
LEGAL = {
    (S.invited, A.answer_yes, W): S.review,
    (S.invited, A.answer_no, W): S.declined,
    (S.invited, A.withdraw, T): S.withdrawn,
    (S.invited, A.withdraw, W): S.withdrawn,
    (S.invited, A.hold, F): S.invited,
    (S.asked, A.answer_yes, T): S.review,
    (S.asked, A.answer_no, T): S.declined,
    (S.asked, A.withdraw, T): S.withdrawn,
    (S.asked, A.withdraw, W): S.withdrawn,
    (S.asked, A.hold, F): S.asked,
    (S.review, A.approve, F): S.introduction,
    (S.review, A.decline, F): S.declined,
    (S.review, A.hold, F): S.review,
    (S.review, A.withdraw, T): S.withdrawn,
    (S.review, A.withdraw, W): S.withdrawn,
    (S.introduction, A.record_introduction, T): S.introduction,
    (S.introduction, A.record_introduction, W): S.introduction,
    (S.introduction, A.record_introduction, F): S.introduction,
    (S.introduction, A.hold, F): S.introduction,
    (S.introduction, A.withdraw, T): S.withdrawn,
    (S.introduction, A.withdraw, W): S.withdrawn,
    (S.trial, A.record_shift, T): S.trial,
    (S.trial, A.record_shift, W): S.trial,
    (S.trial, A.hold, F): S.trial,
    (S.trial, A.withdraw, T): S.withdrawn,
    (S.trial, A.withdraw, W): S.withdrawn,
    (S.active, A.record_shift, T): S.active,
    (S.active, A.record_shift, W): S.active,
}

ALL = list(itertools.product(MatchState, Action, Side))


@pytest.mark.parametrize(("state", "action", "side"), ALL, ids=lambda v: v.value)
def test_every_transition_is_legal_or_409(state, action, side):
    facts = BASE_FACTS[state]
    expected = LEGAL.get((state, action, side))
    if expected is None:
        with pytest.raises(IllegalTransition):
            rules.next_state(facts, action, side)
    else:
        assert rules.next_state(facts, action, side) == expected


@pytest.mark.parametrize("state", sorted(rules.OPEN_STATES))
@pytest.mark.parametrize("side", [T, W])
def test_either_side_may_withdraw_at_every_open_stage_even_when_held(state, side):
    facts = BASE_FACTS[state]
    held = MatchFacts(**{**facts.__dict__, "held": True})
    assert rules.next_state(facts, A.withdraw, side) == S.withdrawn
    assert rules.next_state(held, A.withdraw, side) == S.withdrawn


@pytest.mark.parametrize("state", [S.declined, S.withdrawn, S.active])
@pytest.mark.parametrize("side", [T, W, F])
def test_no_withdrawal_once_closed(state, side):
    with pytest.raises(IllegalTransition):
        rules.next_state(BASE_FACTS[state], A.withdraw, side)


def test_without_review_mutual_yes_goes_straight_to_introduction():
    for state, side in ((S.invited, W), (S.asked, T)):
        facts = MatchFacts(**{**BASE_FACTS[state].__dict__, "review_required": False})
        assert rules.next_state(facts, A.answer_yes, side) == S.introduction
        assert rules.next_state(facts, A.answer_no, side) == S.declined


def test_the_starting_side_cannot_answer_its_own_invitation_or_request():
    with pytest.raises(IllegalTransition, match="other side"):
        rules.next_state(BASE_FACTS[S.invited], A.answer_yes, T)
    with pytest.raises(IllegalTransition, match="other side"):
        rules.next_state(BASE_FACTS[S.asked], A.answer_yes, W)


def test_a_hold_stops_progress_until_released():
    held = MatchFacts(S.review, started_by=T, held=True)
    for action in (A.approve, A.answer_yes):
        with pytest.raises(IllegalTransition, match="holding"):
            rules.next_state(held, action, F)
    with pytest.raises(IllegalTransition, match="already held"):
        rules.next_state(held, A.hold, F)
    assert rules.next_state(held, A.release, F) == S.review
    with pytest.raises(IllegalTransition, match="not held"):
        rules.next_state(BASE_FACTS[S.review], A.release, F)
    held_invite = MatchFacts(S.invited, started_by=T, held=True)
    with pytest.raises(IllegalTransition):
        rules.next_state(held_invite, A.answer_yes, W)
    held_trial = MatchFacts(S.trial, started_by=T, held=True, shifts_recorded=1)
    with pytest.raises(IllegalTransition):
        rules.next_state(held_trial, A.confirm, W)


def test_trial_starts_only_after_the_introduction_is_recorded():
    facts = BASE_FACTS[S.introduction]
    with pytest.raises(IllegalTransition, match="introduction"):
        rules.next_state(facts, A.start_trial, T)
    recorded = MatchFacts(S.introduction, started_by=W, introduction_recorded=True)
    assert rules.next_state(recorded, A.start_trial, T) == S.trial
    assert rules.next_state(recorded, A.start_trial, W) == S.trial
    with pytest.raises(IllegalTransition):
        rules.next_state(recorded, A.start_trial, F)


def test_both_confirm_after_a_trial_shift_to_become_active():
    none_yet = BASE_FACTS[S.trial]
    with pytest.raises(IllegalTransition, match="trial shift"):
        rules.next_state(none_yet, A.confirm, T)
    one = MatchFacts(S.trial, started_by=T, shifts_recorded=1)
    assert rules.next_state(one, A.confirm, T) == S.trial
    assert rules.next_state(one, A.confirm, W) == S.trial
    team_done = MatchFacts(S.trial, started_by=T, shifts_recorded=1, team_confirmed=True)
    with pytest.raises(IllegalTransition, match="already confirmed"):
        rules.next_state(team_done, A.confirm, T)
    assert rules.next_state(team_done, A.confirm, W) == S.active
    worker_done = MatchFacts(S.trial, started_by=T, shifts_recorded=1, worker_confirmed=True)
    assert rules.next_state(worker_done, A.confirm, T) == S.active
    with pytest.raises(IllegalTransition):
        rules.next_state(worker_done, A.confirm, F)


def test_review_prompts_after_third_and_eighth_shift():
    assert rules.review_prompts_due(2, 3) == [3]
    assert rules.review_prompts_due(3, 4) == []
    assert rules.review_prompts_due(7, 8) == [8]
    assert rules.review_prompts_due(0, 10) == [3, 8]


def test_check_problems_name_missing_and_expired_checks():
    on = date(2026, 11, 23)
    good = [rules.CheckFact(CheckKind.enhanced_dbs, "", date(2024, 1, 1), date(2027, 1, 1)),
            rules.CheckFact(CheckKind.right_to_work, "", date(2024, 1, 1), None)]
    assert rules.check_problems(good, on) == []
    expired = [rules.CheckFact(CheckKind.enhanced_dbs, "", date(2023, 1, 1), date(2026, 11, 23)), good[1]]
    assert rules.check_problems(expired, on) == ["Enhanced DBS check: expired on 2026-11-23"]
    assert rules.check_problems(good[:1], on) == ["Right to work: missing"]
    assert rules.check_problems(good, on, ["Moving and handling"]) == ["Moving and handling: missing"]
    trained = [*good, rules.CheckFact(CheckKind.training, "moving and handling", date(2026, 1, 1), date(2027, 1, 1))]
    assert rules.check_problems(trained, on, ["Moving and handling"]) == []


def test_haversine_and_bounding_box():
    london, paris = (51.5074, -0.1278), (48.8566, 2.3522)
    assert rules.haversine_km(*london, *paris) == pytest.approx(343.5, abs=1.5)
    lat, lon, km = 53.74, -2.01, 25
    min_lat, max_lat, min_lon, max_lon = rules.bounding_box(lat, lon, km)
    for bearing in range(0, 360, 10):
        # A point exactly `km` away in any direction is inside the box.
        d = km / rules.EARTH_RADIUS_KM
        b = math.radians(bearing)
        p1, l1 = math.radians(lat), math.radians(lon)
        p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
        l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
        assert min_lat <= math.degrees(p2) <= max_lat
        assert min_lon <= math.degrees(l2) <= max_lon


def test_distance_bands_hide_the_exact_distance():
    assert rules.distance_band(0.4) == "under 2 km"
    assert rules.distance_band(4.9) == "2 to 5 km"
    assert rules.distance_band(12) == "10 to 20 km"
    assert rules.distance_band(35) == "20 km or more"


def test_parse_windows_and_overlap():
    assert rules.parse_windows("Monday 09:00-12:30\n\nwed 8:00 to 10:00") == [(0, 540, 750), (2, 480, 600)]
    assert rules.parse_windows("Sunday 22:00-00:00") == [(6, 1320, 1440)]
    for bad in ("Funday 09:00-10:00", "Monday 10:00-09:00", "Monday nine to five", "Monday 09:75-10:00"):
        with pytest.raises(ValueError, match="Line 1"):
            rules.parse_windows(bad)
    wanted = [(0, 480, 660), (2, 480, 660)]
    assert rules.overlap_minutes(wanted, [(0, 540, 720)]) == 120
    assert rules.overlap_minutes(wanted, [(0, 660, 720)]) == 0  # touching is not overlapping
    assert rules.overlap_minutes(wanted, [(0, 480, 600), (0, 540, 660)]) == 180  # counted once
    assert rules.window_minutes(wanted) == 360


def test_score_explains_itself_and_orders_better_fits_first():
    wanted = rules.Wanted(frozenset({"Personal care"}), frozenset({"Cooking", "Driving"}),
                          [(0, 480, 660)], frozenset({"Urdu"}), frozenset({"gardening", "football"}))
    strong = rules.Candidate(frozenset({"Personal care", "Cooking", "Driving"}), [(0, 480, 660)],
                             frozenset({"urdu", "English"}), frozenset({"Gardening"}), 1.0, 10)
    weak = rules.Candidate(frozenset({"Personal care"}), [(0, 600, 660)], frozenset({"English"}), frozenset(), 9.0, 10)
    s, w = rules.score(wanted, strong), rules.score(wanted, weak)
    assert s.total > w.total
    assert s.parts == {"skills": 30, "hours": 30, "distance": 18, "languages": 10, "interests": 3}
    assert "Has 2 of 2 nice-to-have skills: Cooking, Driving" in s.reasons
    assert "Available for 3 hours of the 3 hours a week needed" in s.reasons
    assert "Speaks Urdu" in s.reasons
    assert "Shares interests: gardening" in s.reasons
    assert any(r.startswith("Distance under 2 km") for r in s.reasons)
    assert "Available for 1 hour of the 3 hours a week needed" in w.reasons
    assert rules.rank([(2, w), (1, s), (3, s)]) == [(1, s), (3, s), (2, w)]
    assert rules.hard_filter_problems(wanted, weak) == []
    far = rules.Candidate(frozenset(), [(1, 0, 60)], frozenset(), frozenset(), 11.0, 10)
    assert rules.hard_filter_problems(wanted, far) == [
        "missing required skills", "further than the worker travels", "no availability in the hours needed"]


def test_fairness_rows_suppress_cells_under_five():
    rows = rules.fairness_rows({
        "group a": {"suggested": 20, "team_yes": 10, "team_no": 4, "joined": 5},
        "group b": {"suggested": 4, "team_yes": 4, "team_no": 0, "joined": 0},
        "group c": {"suggested": 5, "team_yes": 0, "team_no": 5, "joined": 0},
    })
    a, b, c = rows
    assert a == {"group": "group a", "suggested": 20, "team_yes": 10, "team_no": None, "joined": 5,
                 "team_yes_rate": 50, "team_no_rate": None, "joined_rate": 25}
    # A small group shows nothing at all, not even its larger counts.
    assert all(b[k] is None for k in b if k != "group")
    assert c["suggested"] == 5 and c["team_no"] == 5 and c["team_no_rate"] == 100
    assert c["team_yes"] is None and c["joined"] is None


def test_figures():
    assert rules.success_share(8, 7) == 88
    assert rules.success_share(0, 0) is None
    assert rules.median_days([3, 10, 4]) == 4.0
    assert rules.median_days([]) is None
    assert rules.age_band(date(1990, 12, 1), date(2026, 11, 23)) == "35-49"


_names = st.sampled_from(["Cooking", "cooking ", "Driving", "Urdu", "urdu", "English", "gardening", "Music", ""])
_window = st.tuples(st.integers(0, 6), st.integers(0, 1380), st.integers(1, 600)).map(
    lambda w: (w[0], w[1], min(1440, w[1] + w[2])))


@settings(max_examples=200, deadline=None)
@given(st.frozensets(_names, max_size=3), st.frozensets(_names, max_size=3), st.lists(_window, max_size=4),
       st.frozensets(_names, max_size=3), st.frozensets(_names, max_size=3),
       st.frozensets(_names, max_size=4), st.lists(_window, max_size=4), st.frozensets(_names, max_size=3),
       st.frozensets(_names, max_size=3), st.floats(0, 30), st.integers(1, 30))
def test_the_scorers_totals_are_the_scores(req, nice, w_windows, langs, interests, skills, c_windows, c_langs,
                                           c_interests, km, travel):
    wanted = rules.Wanted(req, nice, w_windows, langs, interests)
    candidate = rules.Candidate(skills, c_windows, c_langs, c_interests, km, travel)
    full = rules.score(wanted, candidate)
    scorer = rules.Scorer(wanted)
    assert scorer.total(candidate) == full.total == sum(full.parts.values())
    assert scorer.hours(candidate) == rules.overlap_minutes(w_windows, c_windows)
    assert scorer.score(candidate, scorer.hours(candidate)) == full
