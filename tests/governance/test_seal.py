"""Sealed ballots: the crypto core (round trip, equal lengths, k and k-1 shares) and the
tally over sealed-then-opened ballots, with the recount kit reproducing the result."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from careteams.errors import Conflict, ValidationError
from careteams.extensions import db
from careteams.governance import rules, seal
from careteams.governance.enums import ResolutionKind, ResolutionStatus
from careteams.governance.models import Ballot
from careteams.governance.services import ballots as ballot_svc
from careteams.governance.services import resolutions, results, tellers
from tests.governance.conftest import build_coop, draft, option, vote


def test_seal_and_open_round_trip_with_any_k_shares():
    ceremony = seal.make_keys(3, 2)
    assert len(ceremony.shares) == 3 and ceremony.shares_needed == 2
    choices = ["for", "against", None, "1", "20", "a" * 20]
    sealed = [seal.seal(ceremony.public_key, c) for c in choices]
    for pair in ([0, 1], [0, 2], [1, 2], [2, 0]):
        key = seal.open_key(ceremony.sealed_private_key, [ceremony.shares[i] for i in pair], 2)
        assert [seal.open_ballot(key, s) for s in sealed] == choices


def test_every_ciphertext_has_the_same_length_and_none_repeats():
    ceremony = seal.make_keys(3, 2)
    sealed = [seal.seal(ceremony.public_key, c) for c in ["for"] * 20 + ["against", None, "12", "x" * 31]
              if len(c or "") < seal.PADDED]
    assert {len(s) for s in sealed} == {seal.SEALED_LENGTH}
    assert len(set(sealed)) == len(sealed)  # the same choice twice looks unrelated
    with pytest.raises(ValueError):
        seal.seal(ceremony.public_key, "x" * seal.PADDED)


def test_fewer_than_k_or_wrong_shares_open_nothing():
    ceremony, other = seal.make_keys(3, 2), seal.make_keys(3, 2)
    with pytest.raises(seal.SealError):
        seal.open_key(ceremony.sealed_private_key, ceremony.shares[:1], 2)
    # Lying about k (a database administrator lowering shares_needed) does not help.
    with pytest.raises(seal.SealError):
        seal.open_key(ceremony.sealed_private_key, ceremony.shares[:1], 1)
    # The same share twice is one share.
    with pytest.raises(seal.SealError):
        seal.open_key(ceremony.sealed_private_key, [ceremony.shares[0], ceremony.shares[0]], 2)
    # Another vote's shares, or a mistyped digit.
    with pytest.raises(seal.SealError):
        seal.open_key(ceremony.sealed_private_key, other.shares[:2], 2)
    typo = ceremony.shares[0][:-1] + ("0" if ceremony.shares[0][-1] != "0" else "1")
    with pytest.raises(seal.SealError):
        seal.open_key(ceremony.sealed_private_key, [typo, ceremony.shares[1]], 2)
    with pytest.raises(seal.SealError):
        seal.parse_share("not a share")


def test_shares_are_read_back_as_people_copy_them():
    ceremony = seal.make_keys(3, 3)
    copied = [seal.share_groups(s).lower() for s in ceremony.shares]
    assert " " in copied[0]
    key = seal.open_key(ceremony.sealed_private_key, copied, 3)
    assert seal.open_ballot(key, seal.seal(ceremony.public_key, "for")) == "for"


def test_a_waiting_share_is_bound_to_its_teller_and_the_app_secret():
    wrapped = seal.wrap_share("app secret", "1-" + "A" * 32, "resolution 1 teller 2")
    assert b"AAAA" not in wrapped
    assert seal.unwrap_share("app secret", wrapped, "resolution 1 teller 2") == "1-" + "A" * 32
    with pytest.raises(ValueError):
        seal.unwrap_share("app secret", wrapped, "resolution 1 teller 3")
    with pytest.raises(ValueError):
        seal.unwrap_share("another secret", wrapped, "resolution 1 teller 2")


# The tally over ballots that went through sealing and opening equals the tally of the plain ballots.
classes = st.sampled_from(["supported", "worker", "advocate", "investor"])
plain = st.lists(st.tuples(st.sampled_from(["for", "against", None]), classes), max_size=25)


@settings(max_examples=25, deadline=None)
@given(plain, st.sampled_from([Fraction(1, 10), Fraction(1, 3), Fraction(0)]))
def test_tally_of_opened_ballots_equals_the_tally_of_the_plain_ones(ballots, cap):
    ceremony = seal.make_keys(2, 2)
    sealed = [(seal.seal(ceremony.public_key, option_), cls) for option_, cls in ballots]
    key = seal.open_key(ceremony.sealed_private_key, ceremony.shares, 2)
    opened = [rules.Ballot(seal.open_ballot(key, s), cls) for s, cls in sealed]

    def tally(bs):
        return rules.tally(ResolutionKind.ordinary, ["for", "against"], bs, cap=cap, threshold=rules.Threshold.at_least,
                           electorate=len(bs), quorum_min_members=0, quorum_percent=0, heads=len(bs))

    assert tally(opened) == tally([rules.Ballot(o, c) for o, c in ballots])


def _tellers_vote(c, n_scrutineers=2, needed=2, kind="ordinary", **data):
    scrutineers = [c.member("worker", i).person for i in range(n_scrutineers)]
    r = draft(c, kind, **data)
    r = resolutions.open_resolution(c.actor(c.secretary), c.coop, r, scrutineers=[p.id for p in scrutineers],
                                    shares_needed=needed)
    people = [c.secretary, *scrutineers]
    shares = [tellers.take_my_share(c.actor(p), c.coop, r, r.opens_at) for p in people]
    return r, people, shares


def test_stored_ballots_are_sealed_and_the_count_needs_k_shares(app):
    c = build_coop({"worker": 4, "supported": 3, "investor": 2})
    r, _, shares = _tellers_vote(c)
    assert r.public_key and r.sealed_private_key and r.shares_needed == 2
    plan = {("worker", 0): "for", ("worker", 1): "for", ("worker", 2): "against", ("worker", 3): None,
            ("supported", 0): "for", ("supported", 1): "against", ("investor", 0): "against",
            ("investor", 1): "for"}
    for (cls, n), choice in plan.items():
        vote(c, c.member(cls, n), r, choice)
    stored = db.session.scalars(sa.select(Ballot.sealed).where(Ballot.resolution_id == r.id)).all()
    assert len(stored) == len(plan) and {len(s) for s in stored} == {seal.SEALED_LENGTH}
    assert all(b"for" not in s and b"against" not in s for s in stored)

    assert results.close_resolution(r.id, r.closes_at)
    db.session.refresh(r)
    assert r.status == ResolutionStatus.counting and r.result is None
    with pytest.raises(Conflict):  # no ballots while waiting for the tellers
        vote(c, c.member("supported", 2), r, "for", now=r.closes_at)
    with pytest.raises(Conflict):  # and no results yet
        results.results(c.actor(c.member("worker")), c.coop, r)
    # k-1 shares open nothing, and nothing changes.
    with pytest.raises(ValidationError):
        tellers.open_count(c.actor(c.secretary), c.coop, r, shares[:1], r.closes_at)
    db.session.refresh(r)
    assert r.status == ResolutionStatus.counting and r.result is None

    tellers.open_count(c.actor(c.secretary), c.coop, r, [shares[2], shares[0]], r.closes_at + timedelta(hours=1))
    db.session.refresh(r)
    assert r.status == ResolutionStatus.closed
    # N = 5 (3 For, 2 Against), I = 2 (one each): W = min(2, 5/9), each investor 5/18.
    assert {o["key"]: o["total"] for o in r.result["options"]} == {"for": "59/18", "against": "41/18"}
    assert r.result["counts"]["non-investor"] == {"for": 3, "against": 2, "abstain": 1}
    gave = {t.share_index: t.gave_share_at for t in tellers.tellers_of(r)}
    assert gave[1] is not None and gave[3] is not None and gave[2] is None
    # A second count is refused: it is closed.
    with pytest.raises(Conflict):
        tellers.open_count(c.actor(c.secretary), c.coop, r, shares[:2], r.closes_at)

    # The recount kit reopens the same ciphertexts and reproduces the published result.
    assert tellers.recount(r, shares[1:]) == r.result
    with pytest.raises(ValidationError):
        tellers.recount(r, shares[:1])


def test_changed_and_proxy_ballots_are_sealed_the_same_way(app):
    c = build_coop({"worker": 4, "supported": 2})
    r, _, shares = _tellers_vote(c, kind="poll")
    supported = c.member("supported")
    ballot_svc.appoint_proxy(c.actor(supported), c.coop, r, c.member("worker", 3).id)
    got = vote(c, c.member("worker", 3), r, "2", on_behalf_of=supported.id)
    mine = vote(c, c.member("worker", 0), r, "1")
    ballot_svc.change_ballot(c.actor(c.member("worker", 0)), c.coop, r, mine["change_token"], option(r, "3"))
    assert got["receipt"] and {len(s) for s in db.session.scalars(sa.select(Ballot.sealed))} == {seal.SEALED_LENGTH}
    results.close_resolution(r.id, r.closes_at)
    tellers.open_count(None, c.coop, r, shares[:2], r.closes_at)
    db.session.refresh(r)
    assert r.result["counts"]["all"] == {"2": 1, "3": 1}


def test_open_ballots_opens_many_in_order_as_open_ballot_does_one_by_one():
    ceremony = seal.make_keys(2, 2)
    plain = ["for", None, "against", "for", "12", None]
    sealed = [seal.seal(ceremony.public_key, p) for p in plain]
    key = seal.open_key(ceremony.sealed_private_key, ceremony.shares, 2)
    assert seal.open_ballots(key, sealed) == plain == [seal.open_ballot(key, s) for s in sealed]
    assert seal.open_ballots(key, [memoryview(s) for s in sealed]) == plain  # as a driver may hand them back
    other = seal.make_keys(2, 2)
    with pytest.raises(Exception):  # noqa: B017, PT011  (nacl's CryptoError: another vote's key opens nothing)
        seal.open_ballots(seal.open_key(other.sealed_private_key, other.shares, 2), sealed)
