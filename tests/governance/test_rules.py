"""The tally, the quorum and the electorate hash: pure rules, exact fractions."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from careteams.governance.rules import (
    AGAINST,
    FOR,
    Ballot,
    ResolutionKind,
    Threshold,
    electorate_hash,
    electorate_lines,
    eligible_classes,
    investor_weight,
    local_to_utc,
    quorum,
    settings_errors,
    tally,
)

FA = [FOR, AGAINST]


def ballots(**counts: int) -> list[Ballot]:
    """ballots(worker_for=60, investor_against=50, supported_abstain=2)."""
    out = []
    for name, n in counts.items():
        member_class, choice = name.split("_")
        option = None if choice == "abstain" else choice
        out += [Ballot(option, member_class)] * n
    return out


def count(kind=ResolutionKind.ordinary, bs=(), options=FA, cap=Fraction(1, 10), threshold=Threshold.at_least,
          electorate=None, quorum_min=0, quorum_percent=0, heads=None):
    bs = list(bs)
    return tally(kind, options, bs, cap=cap, threshold=threshold,
                 electorate=len(bs) if electorate is None else electorate,
                 quorum_min_members=quorum_min, quorum_percent=quorum_percent, heads=heads)


# --- the examples, exactly --------------------------------------------------


def test_example_investors_against_are_capped_at_one_tenth():
    t = count(bs=ballots(worker_for=60, worker_against=40, investor_against=50))
    assert t.investor_weight == Fraction(2, 9)
    assert t.totals == {FOR: Fraction(60), AGAINST: Fraction(460, 9)}
    assert t.carried is True
    assert t.investor_share() == Fraction(1, 10)


def test_example_investors_for_carry_a_losing_majority():
    t = count(bs=ballots(supported_for=45, worker_against=55, investor_for=20))
    assert t.investor_weight == Fraction(5, 9)
    assert t.totals == {FOR: Fraction(505, 9), AGAINST: Fraction(55)}
    assert t.carried is True


def test_example_cap_does_not_bind():
    t = count(bs=ballots(worker_for=50, advocate_against=50, investor_for=5))
    assert t.investor_weight == 1
    assert t.totals[FOR] == 55
    assert t.carried is True


def test_example_only_investors_vote_nothing_counts():
    t = count(bs=ballots(investor_for=7))
    assert t.investor_weight == 0
    assert t.totals == {FOR: 0, AGAINST: 0}
    assert t.carried is False


def test_example_extraordinary_exactly_three_quarters():
    bs = ballots(worker_for=30, worker_against=6, investor_against=8)
    at_least = count(ResolutionKind.extraordinary, bs, threshold=Threshold.at_least)
    more_than = count(ResolutionKind.extraordinary, bs, threshold=Threshold.more_than)
    assert at_least.investor_weight == Fraction(1, 2)
    assert at_least.totals == {FOR: 30, AGAINST: 10}
    assert at_least.totals[FOR] / at_least.counted == Fraction(3, 4)
    assert at_least.carried is True
    assert more_than.carried is False


# --- ties, abstentions, kinds ------------------------------------------------------------


def test_ordinary_tie_is_not_carried():
    assert count(bs=ballots(worker_for=10, worker_against=10)).carried is False
    assert count(bs=ballots(worker_for=11, worker_against=10)).carried is True


def test_abstentions_count_for_quorum_not_for_the_result():
    bs = ballots(worker_for=3, worker_against=2, supported_abstain=5)
    t = count(bs=bs, electorate=10, quorum_min=0, quorum_percent=100)
    assert t.totals == {FOR: 3, AGAINST: 2}
    assert t.quorum.heads == 10 and t.quorum.quorate
    assert t.carried is True
    assert t.counts["supported"] == {"abstain": 5}


def test_investor_abstentions_do_not_dilute_the_cap():
    # Abstaining investors are not "I": the weight is shared among those who chose.
    t = count(bs=ballots(worker_for=9, investor_against=2, investor_abstain=10))
    assert t.investor_ballots == 2
    assert t.investor_weight == Fraction(1, 2)
    assert t.totals[AGAINST] == 1


def test_special_resolution_is_one_member_one_vote():
    bs = ballots(worker_for=30, worker_against=6, investor_against=8)
    t = count(ResolutionKind.special, bs)
    assert t.investor_weight == 1
    assert t.totals == {FOR: 30, AGAINST: 14}
    assert t.carried is False  # 30/44 < 3/4; with the cap it would have been carried
    assert count(ResolutionKind.special, ballots(worker_for=3, investor_against=1)).carried is True


def test_special_more_than_is_not_an_option_and_exact_three_quarters_carries():
    assert count(ResolutionKind.special, ballots(worker_for=3, worker_against=1)).carried is True


def test_conversion_excludes_investors_from_the_electorate():
    assert "investor" not in eligible_classes(ResolutionKind.special, conversion=True)
    assert "investor" in eligible_classes(ResolutionKind.special, conversion=False)
    assert "investor" in eligible_classes(ResolutionKind.ordinary, conversion=False)
    assert eligible_classes(ResolutionKind.special, True) == {"supported", "worker", "advocate"}


def test_poll_highest_weighted_total_wins():
    options = ["1", "2", "3"]
    bs = [Ballot("1", "worker")] * 5 + [Ballot("2", "worker")] * 4 + [Ballot("2", "investor")] * 3
    t = count(ResolutionKind.poll, bs, options=options)
    # N = 9, I = 3: W = min(3, 9/9) = 1, each investor 1/3: "2" has 4 + 1 = 5, a tie.
    assert t.investor_weight == Fraction(1, 3)
    assert t.totals == {"1": 5, "2": 5, "3": 0}
    assert t.tie is True and t.winners == ("1", "2")
    assert t.carried is None
    t2 = count(ResolutionKind.poll, bs + [Ballot("2", "worker")], options=options)
    assert t2.winners == ("2",) and t2.tie is False


def test_poll_tie_is_never_broken_by_rounding():
    # 1/3 + 1/3 + 1/3 would round; exact fractions keep a near-tie apart and a tie tied.
    options = ["1", "2"]
    bs = [Ballot("1", "worker")] * 9 + [Ballot("2", "worker")] * 8 + [Ballot("2", "investor")] * 3
    t = count(ResolutionKind.poll, bs, options=options)
    # N = 17, W = min(3, 17/9) = 17/9, each 17/27: "2" = 8 + 17/9 = 89/9 > 9.
    assert t.totals["2"] == Fraction(89, 9)
    assert t.winners == ("2",)


def test_poll_with_no_counted_votes_has_no_winner():
    t = count(ResolutionKind.poll, ballots(worker_abstain=4), options=["1", "2"])
    assert t.winners == () and t.tie is False


def test_unknown_option_is_refused():
    with pytest.raises(ValueError):
        count(bs=[Ballot("maybe", "worker")])


def test_percentages_are_for_display_only():
    t = count(bs=ballots(worker_for=60, worker_against=40, investor_against=50))
    assert t.percent(FOR) == "54.0%"  # 60 / (1000/9) = 54%
    assert t.percent(AGAINST) == "46.0%"


def test_small_class_warning():
    t = count(bs=ballots(worker_for=5, investor_against=2, supported_for=3))
    assert len(t.warnings) == 1 and "investor" in t.warnings[0]
    assert count(bs=ballots(worker_for=5, supported_for=3)).warnings == ()
    # The rule is 5 and counts the published groups (investor / non-investor), not classes.
    assert count(bs=ballots(worker_for=5, investor_against=4)).warnings != ()
    assert count(bs=ballots(worker_for=5, investor_against=5)).warnings == ()
    assert count(bs=ballots(worker_for=2, supported_for=2, investor_against=5)).warnings != ()


# --- quorum --------------------------------------------------------------------------


@pytest.mark.parametrize(("heads", "electorate", "minimum", "percent", "quorate", "required"), [
    (3, 30, 3, 10, True, 3),     # exactly both
    (2, 30, 3, 10, False, 3),    # one below the minimum
    (3, 31, 3, 10, False, 4),    # 10% of 31 is 3.1: four heads
    (4, 31, 3, 10, True, 4),
    (10, 100, 3, 10, True, 10),
    (9, 100, 3, 10, False, 10),
    (0, 0, 0, 0, True, 0),
])
def test_quorum_boundaries(heads, electorate, minimum, percent, quorate, required):
    q = quorum(heads, electorate, minimum, percent)
    assert q.quorate is quorate
    assert q.required == required


def test_not_quorate_is_not_carried_whatever_the_votes():
    t = count(bs=ballots(worker_for=2), electorate=100, quorum_min=3, quorum_percent=10)
    assert t.totals[FOR] == 2 and t.carried is False
    assert count(bs=ballots(worker_for=3), electorate=30, quorum_min=3, quorum_percent=10).carried is True


def test_quorum_counts_heads_not_weight():
    # 20 investors and 1 worker: weight is tiny, heads are 21.
    t = count(bs=ballots(worker_for=1, investor_for=20), electorate=21, quorum_min=21, quorum_percent=100)
    assert t.quorum.heads == 21 and t.quorum.quorate


# --- the electorate hash -------------------------------------------------------------


def test_electorate_hash_is_sha256_of_sorted_lines():
    voters = [(10, "worker"), (2, "investor"), (1, "supported")]
    expected = hashlib.sha256(b"1,supported\n10,worker\n2,investor\n").hexdigest()
    assert electorate_lines(voters) == ["1,supported", "10,worker", "2,investor"]
    assert electorate_hash(voters) == expected
    assert electorate_hash(list(reversed(voters))) == expected
    assert electorate_hash(voters + [(3, "worker")]) != expected
    assert electorate_hash([(10, "advocate"), (2, "investor"), (1, "supported")]) != expected


def test_empty_electorate_hash():
    assert electorate_hash([]) == hashlib.sha256(b"").hexdigest()


# --- settings and local times ----------------------------------------------------------


def _settings(**kw):
    base = {"kind": ResolutionKind.ordinary, "options": [], "opens_at": datetime(2026, 5, 1, tzinfo=UTC),
            "closes_at": datetime(2026, 5, 8, tzinfo=UTC), "conversion": False, "threshold": Threshold.at_least}
    return {**base, **kw}


def test_settings_errors():
    assert settings_errors(_settings()) == {}
    assert "closes_at" in settings_errors(_settings(closes_at=datetime(2026, 4, 1, tzinfo=UTC)))
    assert "options" in settings_errors(_settings(kind=ResolutionKind.poll, options=["Only one"]))
    assert "options" in settings_errors(_settings(kind=ResolutionKind.poll, options=["A", "a"]))
    assert settings_errors(_settings(kind=ResolutionKind.poll, options=["A", "B"])) == {}
    assert "options" in settings_errors(_settings(options=["A", "B"]))
    assert "conversion" in settings_errors(_settings(conversion=True))
    assert settings_errors(_settings(kind=ResolutionKind.special, conversion=True)) == {}
    assert "threshold" in settings_errors(_settings(threshold=Threshold.more_than))
    assert settings_errors(_settings(kind=ResolutionKind.extraordinary, threshold=Threshold.more_than)) == {}


def test_local_times_across_clock_changes():
    assert local_to_utc("2026-07-01T18:00", "Europe/London") == datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
    assert local_to_utc("2026-12-01T18:00", "Europe/London") == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not exist"):
        local_to_utc("2026-03-29T01:30", "Europe/London")
    with pytest.raises(ValueError, match="twice"):
        local_to_utc("2026-10-25T01:30", "Europe/London")
    with pytest.raises(ValueError):
        local_to_utc("next tuesday", "Europe/London")


def test_investor_weight_refuses_a_cap_of_one():
    with pytest.raises(ValueError):
        investor_weight(1, 1, Fraction(1))


# --- properties ----------------------------------------------------------------------

CLASSES = ["supported", "worker", "advocate", "investor"]
ballot_st = st.builds(Ballot, st.sampled_from([FOR, AGAINST, None]), st.sampled_from(CLASSES))
cap_st = st.fractions(min_value=0, max_value=Fraction(99, 100)).filter(lambda c: c < 1)
kind_st = st.sampled_from([ResolutionKind.ordinary, ResolutionKind.extraordinary])


@settings(max_examples=300)
@given(st.lists(ballot_st, max_size=60), cap_st)
def test_investors_share_never_exceeds_the_cap(bs, cap):
    t = count(bs=bs, cap=cap)
    assert t.investor_share() <= cap
    # And investors never weigh more than one vote each.
    assert t.investor_weight <= 1


@settings(max_examples=200)
@given(st.lists(ballot_st, max_size=60), cap_st, kind_st, st.randoms(use_true_random=False))
def test_permuting_ballots_changes_nothing(bs, cap, kind, rnd: random.Random):
    shuffled = list(bs)
    rnd.shuffle(shuffled)
    assert count(kind, bs, cap=cap) == count(kind, shuffled, cap=cap)


@settings(max_examples=300)
@given(st.lists(ballot_st, max_size=60), cap_st, st.sampled_from(["supported", "worker", "advocate"]))
def test_adding_a_non_investor_against_never_raises_fors_share(bs, cap, member_class):
    before = count(bs=bs, cap=cap)
    # With no non-investor ballot nothing counts, so For has no share to raise
    # (0/0); see test_first_non_investor_ballot_lets_investors_count.
    assume(before.counted > 0)
    after = count(bs=bs + [Ballot(AGAINST, member_class)], cap=cap)
    assert after.totals[FOR] / after.counted <= before.totals[FOR] / before.counted
    assert not (after.carried and not before.carried)


def test_first_non_investor_ballot_lets_investors_count():
    before = count(bs=ballots(investor_for=5))
    after = count(bs=ballots(investor_for=5, worker_against=1))
    assert before.counted == 0
    assert after.totals == {FOR: Fraction(1, 9), AGAINST: 1}
    assert after.investor_share() == Fraction(1, 10)


@settings(max_examples=200)
@given(st.lists(st.builds(Ballot, st.sampled_from(["1", "2", "3", None]), st.sampled_from(CLASSES)), max_size=50),
       cap_st)
def test_poll_winner_has_the_highest_exact_total(bs, cap):
    t = count(ResolutionKind.poll, bs, options=["1", "2", "3"], cap=cap)
    for winner in t.winners:
        assert all(t.totals[winner] >= total for total in t.totals.values())
    assert t.tie == (len(t.winners) > 1)
