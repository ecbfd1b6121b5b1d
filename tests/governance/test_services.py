"""Resolutions, the frozen electorate, ballots, proxies, closing and results (services)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, Forbidden, NotFound, ValidationError
from careteams.extensions import db
from careteams.governance import jobs
from careteams.governance.models import (
    Ballot,
    ElectorateEntry,
    ProxyAppointment,
    ProxyStatus,
    ResolutionStatus,
)
from careteams.governance.rules import electorate_hash
from careteams.governance.services import ballots, mixing, register, resolutions, results
from careteams.members.models import ContactChannel, MemberClass, MembershipStatus
from tests.factories import MembershipFactory
from tests.governance.conftest import (
    build_coop,
    choices,
    close_and_count,
    draft,
    give_shares,
    open_with_tellers,
    opened,
    option,
    vote,
)


def _close(resolution, after=timedelta(days=8)):
    return close_and_count(resolution.id, utcnow() + after)


# --- creating, changing, opening --------------------------------------------------------


def test_draft_has_fixed_for_and_against_options_and_coop_quorum(app):
    c = build_coop()
    c.coop.quorum_min_members, c.coop.quorum_percent = 7, 15
    r = draft(c)
    assert [(o.key, o.label) for o in r.options] == [("for", "For"), ("against", "Against")]
    assert r.status == ResolutionStatus.draft
    assert (r.quorum_min_members, r.quorum_percent) == (7, 15)


def test_poll_keeps_its_options_in_order(gov):
    r = draft(gov, "poll", options=["Anna", "Ben"])
    assert [(o.key, o.label) for o in r.options] == [("1", "Anna"), ("2", "Ben")]


def test_quorum_can_change_before_opening_but_nothing_after(gov):
    r = draft(gov)
    resolutions.update_resolution(gov.actor(gov.secretary), gov.coop, r, {"quorum_percent": 25, "kind": "poll",
                                                                   "options": ["A", "B"]})
    assert r.quorum_percent == 25 and [o.label for o in r.options] == ["A", "B"]
    open_with_tellers(gov, r, None, [gov.member("worker").person])
    with pytest.raises(Conflict):
        resolutions.update_resolution(gov.actor(gov.secretary), gov.coop, r, {"quorum_percent": 50})
    db.session.refresh(r)
    assert r.quorum_percent == 25


def test_invalid_settings_are_refused_with_field_details(gov):
    with pytest.raises(ValidationError) as err:
        draft(gov, closes_at=utcnow() - timedelta(days=1))
    assert "closes_at" in err.value.details["fields"]
    with pytest.raises(ValidationError) as err:
        draft(gov, "ordinary", conversion=True)
    assert "conversion" in err.value.details["fields"]


def test_opening_freezes_the_electorate_with_its_hash(gov):
    applicant = MembershipFactory(cooperative=gov.coop, member_class=MemberClass.worker, status=MembershipStatus.applicant)
    gone = MembershipFactory(cooperative=gov.coop, member_class=MemberClass.worker, status=MembershipStatus.left)
    r = opened(gov)
    entries = db.session.scalars(sa.select(ElectorateEntry).where(ElectorateEntry.resolution_id == r.id)).all()
    ids = {e.membership_id for e in entries}
    expected = {m.id for ms in gov.members.values() for m in ms}
    assert ids == expected
    assert applicant.id not in ids and gone.id not in ids
    assert r.electorate_size == len(expected)
    assert r.electorate_hash == electorate_hash((m.id, m.member_class.value) for ms in gov.members.values() for m in ms)
    assert r.status == ResolutionStatus.open


def test_conversion_electorate_has_no_investors(gov):
    r = opened(gov, "special", conversion=True)
    classes = set(db.session.scalars(sa.select(ElectorateEntry.member_class).where(ElectorateEntry.resolution_id == r.id)))
    assert MemberClass.investor not in classes
    with pytest.raises(Forbidden):
        vote(gov, gov.member("investor"), r, "against")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0


def test_later_joiner_cannot_vote(gov):
    r = opened(gov)
    newcomer = MembershipFactory(cooperative=gov.coop, member_class=MemberClass.worker)
    with pytest.raises(Forbidden):
        vote(gov, newcomer, r, "for")


def test_cap_is_copied_when_voting_opens(gov):
    r = draft(gov)
    gov.coop.investor_cap_num, gov.coop.investor_cap_den = 1, 5
    db.session.flush()
    open_with_tellers(gov, r, None, [gov.member("worker").person])
    assert (r.investor_cap_num, r.investor_cap_den) == (1, 5)
    gov.coop.investor_cap_num, gov.coop.investor_cap_den = 1, 20
    db.session.flush()
    db.session.refresh(r)
    assert (r.investor_cap_num, r.investor_cap_den) == (1, 5)


def test_opening_in_the_future_schedules_and_the_clock_opens_once(gov, sms_outbox):
    now = utcnow()
    r = draft(gov, opens_at=now + timedelta(hours=2), closes_at=now + timedelta(days=2))
    open_with_tellers(gov, r, now, [gov.member("worker").person])
    assert r.status == ResolutionStatus.scheduled
    assert jobs.open_and_close(now + timedelta(hours=1)) == {"opened": 0, "closed": 0}
    assert jobs.open_and_close(now + timedelta(hours=3)) == {"opened": 1, "closed": 0}
    assert jobs.open_and_close(now + timedelta(hours=3)) == {"opened": 0, "closed": 0}
    db.session.refresh(r)
    assert r.status == ResolutionStatus.open and r.electorate_size == 8
    with pytest.raises(Conflict):
        resolutions.update_resolution(gov.actor(gov.secretary), gov.coop, r, {"title": "Changed"})


def test_only_the_secretary_opens(gov):
    r = draft(gov)
    with pytest.raises(Forbidden):
        resolutions.open_resolution(gov.actor(gov.member("worker")), gov.coop, r)
    assert r.status == ResolutionStatus.draft


def test_drafts_are_hidden_from_members(gov):
    r = draft(gov)
    with pytest.raises(NotFound):
        resolutions.get_resolution(gov.actor(gov.member("worker")), gov.coop, r.id)
    assert resolutions.list_resolutions(gov.actor(gov.member("worker")), gov.coop) == []
    assert resolutions.list_resolutions(gov.actor(gov.secretary), gov.coop) == [r]


# --- ballots ------------------------------------------------------------------------


def test_cast_gives_receipt_and_change_token_stored_only_hashed(gov):
    r = opened(gov)
    got = vote(gov, gov.member("worker"), r, "for")
    ballot = db.session.scalar(sa.select(Ballot))
    assert ballot.receipt == got["receipt"]
    # The code is six words; its letters (any spacing or case) are what is hashed.
    letters = got["change_token"].replace(" ", "")
    assert ballot.change_token_hash == hashlib.sha256(letters.encode()).hexdigest()
    assert got["change_token"] not in ballot.change_token_hash
    assert ballot.member_class == MemberClass.worker


def test_one_ballot_per_member(gov):
    r = opened(gov)
    vote(gov, gov.member("worker"), r, "for")
    with pytest.raises(Conflict):
        vote(gov, gov.member("worker"), r, "against")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1


def test_change_vote_with_token_before_close(gov):
    r = opened(gov)
    worker = gov.member("worker")
    got = vote(gov, worker, r, "for")
    changed = ballots.change_ballot(gov.actor(worker), gov.coop, r, got["change_token"], option(r, "against"))
    assert changed["receipt"] == got["receipt"]
    assert choices(r) == ["against"]
    with pytest.raises(ValidationError):
        ballots.change_ballot(gov.actor(worker), gov.coop, r, "not-the-right-token", option(r, "for"))
    assert choices(r) == ["against"]
    _close(r)
    with pytest.raises(Conflict):
        ballots.change_ballot(gov.actor(worker), gov.coop, r, got["change_token"], option(r, "for"))


def test_ballot_after_closing_time_is_refused_even_before_the_clock_runs(gov):
    now = utcnow()
    r = opened(gov, now=now)
    with pytest.raises(Conflict):
        vote(gov, gov.member("worker"), r, "for", now=r.closes_at)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0


def test_unknown_option_is_422(gov):
    r = opened(gov)
    other = opened(gov)
    with pytest.raises(ValidationError):
        ballots.cast_ballot(gov.actor(gov.member("worker")), gov.coop, r, option(other, "for"))
    entry = db.session.scalar(sa.select(ElectorateEntry).where(
        ElectorateEntry.resolution_id == r.id, ElectorateEntry.membership_id == gov.member("worker").id))
    assert entry.has_voted is False


# --- proxies ------------------------------------------------------------------------


def test_proxy_ballot_counts_in_the_appointers_class_and_stands(gov):
    r = opened(gov)
    investor, worker = gov.member("investor"), gov.member("worker")
    appointment = ballots.appoint_proxy(gov.actor(investor), gov.coop, r, worker.id)
    vote(gov, worker, r, "against", on_behalf_of=investor.id)
    assert db.session.scalar(sa.select(Ballot.member_class)) == MemberClass.investor
    db.session.refresh(appointment)
    assert appointment.status == ProxyStatus.used
    with pytest.raises(Conflict):
        vote(gov, investor, r, "for")
    with pytest.raises(Conflict):
        ballots.revoke_proxy(gov.actor(investor), gov.coop, r)
    # The proxy still has their own vote.
    vote(gov, worker, r, "for")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 2


def test_voting_in_person_cancels_an_unused_proxy(gov):
    r = opened(gov)
    supported, worker = gov.member("supported"), gov.member("worker")
    appointment = ballots.appoint_proxy(gov.actor(supported), gov.coop, r, worker.id)
    vote(gov, supported, r, "for")
    db.session.refresh(appointment)
    assert appointment.status == ProxyStatus.cancelled
    with pytest.raises(Conflict):
        vote(gov, worker, r, "against", on_behalf_of=supported.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1


def test_proxy_limit_from_the_coop(app):
    c = build_coop({"worker": 5}, proxy_limit=2)
    r = opened(c)
    holder = c.member("worker", 0)
    ballots.appoint_proxy(c.actor(c.member("worker", 1)), c.coop, r, holder.id)
    ballots.appoint_proxy(c.actor(c.member("worker", 2)), c.coop, r, holder.id)
    with pytest.raises(Conflict) as err:
        ballots.appoint_proxy(c.actor(c.member("worker", 3)), c.coop, r, holder.id)
    assert err.value.code == "proxy_limit"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProxyAppointment)) == 2


def test_no_proxy_for_oneself_or_someone_outside_the_electorate_or_twice(gov):
    r = opened(gov, "special", conversion=True)
    worker = gov.member("worker")
    with pytest.raises(ValidationError):
        ballots.appoint_proxy(gov.actor(worker), gov.coop, r, worker.id)
    with pytest.raises(ValidationError):
        ballots.appoint_proxy(gov.actor(worker), gov.coop, r, gov.member("investor").id)
    ballots.appoint_proxy(gov.actor(worker), gov.coop, r, gov.member("supported").id)
    with pytest.raises(Conflict):
        ballots.appoint_proxy(gov.actor(worker), gov.coop, r, gov.member("advocate").id)
    ballots.revoke_proxy(gov.actor(worker), gov.coop, r)
    ballots.appoint_proxy(gov.actor(worker), gov.coop, r, gov.member("advocate").id)


def test_cannot_vote_for_someone_without_their_proxy(gov):
    r = opened(gov)
    with pytest.raises(Conflict):
        vote(gov, gov.member("worker"), r, "for", on_behalf_of=gov.member("supported").id)


# --- closing and results -------------------------------------------------------------------


def test_close_tallies_exactly_once_and_publishes_everything(app, sms_outbox, mail_outbox):
    c = build_coop({"worker": 6, "supported": 4, "investor": 5})
    people = [m.person for ms in c.members.values() for m in ms]
    people[0].preferred_channel = ContactChannel.email
    r = opened(c)
    receipts = []
    for m in c.members["worker"][:4] + c.members["supported"][:2]:
        receipts.append(vote(c, m, r, "for")["receipt"])
    for m in c.members["worker"][4:] + c.members["supported"][2:3]:
        receipts.append(vote(c, m, r, "against")["receipt"])
    for m in c.members["investor"]:
        receipts.append(vote(c, m, r, "against")["receipt"])
    receipts.append(vote(c, c.members["supported"][3], r, None)["receipt"])
    assert jobs.open_and_close(r.closes_at - timedelta(seconds=1)) == {"opened": 0, "closed": 0}
    assert jobs.open_and_close(r.closes_at) == {"opened": 0, "closed": 1}
    assert results.close_resolution(r.id, r.closes_at + timedelta(hours=1)) is False
    db.session.refresh(r)
    assert r.status == ResolutionStatus.counting and r.result is None
    give_shares(r, r.closes_at)
    db.session.refresh(r)
    result = r.result
    # N = 9 (6 for, 3 against), I = 5: W = min(5, 9/9) = 1, each investor 1/5.
    assert result["investor_weight"] == "1/5"
    assert [(o["key"], o["total"]) for o in result["options"]] == [("for", "6"), ("against", "4")]
    assert result["investor_share"] == "1/10"
    assert result["carried"] is True and r.carried is True
    assert result["counts"]["investor"] == {"against": 5}
    # Per-class figures are not published: only the investor / non-investor split the cap needs.
    assert result["counts"]["non-investor"] == {"for": 6, "against": 3, "abstain": 1}
    assert result["counts"]["all"] == {"for": 6, "against": 8, "abstain": 1}
    assert "supported" not in result["counts"] and "worker" not in result["counts"]
    assert result["ballots_by_group"] == {"investor": 5, "non-investor": 10, "all": 15}
    assert result["quorum"] == {"heads": 15, "electorate": 15, "min_members": 0, "percent": 0, "required": 0,
                                "quorate": True}
    assert result["electorate_hash"] == r.electorate_hash
    assert result["receipts"] == sorted(receipts)
    assert result["warnings"] == []
    published = results.results(c.actor(c.member("worker")), c.coop, r)
    assert len(published["electorate"]) == 15
    db.session.commit()  # (the test's outer transaction still rolls it back)
    # Opened, closed, and counted: one text each to the 14 who prefer texts, one email each to the other.
    assert len(sms_outbox) == 3 * 14
    assert sum(f"the results of \"{r.title}\" are published" in t.body for t in sms_outbox) == 14
    assert sum("voting has closed" in t.body and r.title in t.body for t in sms_outbox) == 14
    assert {m.to[0] for m in mail_outbox} == {people[0].email} and len(mail_outbox) == 3
    # Only the title: never the resolution's text.
    assert all("That the co-op" not in t.body for t in sms_outbox)
    assert all("That the co-op" not in m.body for m in mail_outbox)


def test_results_are_not_published_before_close(gov):
    r = opened(gov)
    with pytest.raises(Conflict):
        results.results(gov.actor(gov.member("worker")), gov.coop, r)


def test_small_class_warning_is_published(gov):
    r = opened(gov)
    vote(gov, gov.member("investor"), r, "against")
    for m in gov.members["worker"]:
        vote(gov, m, r, "for")
    _close(r)
    db.session.refresh(r)
    assert any("investor" in w for w in r.result["warnings"])


def test_not_quorate_is_not_carried(app):
    c = build_coop({"worker": 10})
    r = opened(c, quorum_min_members=3, quorum_percent=50)
    for m in c.members["worker"][:4]:
        vote(c, m, r, "for")
    _close(r)
    db.session.refresh(r)
    assert r.carried is False
    assert r.result["quorum"]["required"] == 5 and r.result["quorum"]["quorate"] is False
    assert r.result["outcome"].startswith("Not carried")


def test_poll_tie_is_published_as_a_tie(gov):
    r = opened(gov, "poll", options=["Anna", "Ben"])
    vote(gov, gov.member("worker", 0), r, "1")
    vote(gov, gov.member("worker", 1), r, "2")
    _close(r)
    db.session.refresh(r)
    assert r.result["tie"] is True and r.result["winners"] == ["1", "2"]
    assert r.result["outcome"] == "Tie between Anna and Ben."


def test_stored_totals_recount_to_the_issue_example(app):
    c = build_coop({"worker": 10, "investor": 5})
    r = opened(c)
    for m in c.members["worker"][:6]:
        vote(c, m, r, "for")
    for m in c.members["worker"][6:]:
        vote(c, m, r, "against")
    for m in c.members["investor"]:
        vote(c, m, r, "against")
    _close(r)
    db.session.refresh(r)
    # N = 10, I = 5, c = 1/10: W = 10/9, each investor 2/9; Against = 4 + 10/9 = 46/9.
    assert r.result["investor_weight"] == "2/9"
    totals = {o["key"]: Fraction(o["total"]) for o in r.result["options"]}
    assert totals == {"for": 6, "against": Fraction(46, 9)}


# --- the register ---------------------------------------------------------------------


def test_register_csv_defuses_formulas(gov):
    gov.member("worker").person.name = "=HYPERLINK(\"http://x\")"
    db.session.flush()
    text = register.register_csv(gov.actor(gov.secretary), gov.coop)
    assert "'=HYPERLINK" in text
    assert gov.member("worker").person.phone in text  # phone numbers stay as they are
    assert text.splitlines()[0].startswith("membership_id,name")
    assert len(text.splitlines()) == 1 + 8


def test_register_is_for_the_secretary(gov):
    with pytest.raises(Forbidden):
        register.register(gov.actor(gov.member("worker")), gov.coop)
    rows = register.register(gov.actor(gov.secretary), gov.coop)
    assert [r["membership"].member_class.value for r in rows][:2] == ["supported", "supported"]


def test_own_membership(gov):
    m = gov.member("advocate")
    mine = register.own_membership(gov.actor(m), gov.coop)
    assert mine["membership"].id == m.id
    with pytest.raises(NotFound):
        register.own_membership(gov.actor(gov.secretary), gov.coop)


def test_a_failing_close_does_not_hold_up_the_others(gov, monkeypatch):
    first, second = opened(gov), opened(gov)
    real = mixing.shuffle_ballots

    def broken_for_first(resolution_id):
        if resolution_id == first.id:
            raise RuntimeError("disk on fire")
        return real(resolution_id)

    monkeypatch.setattr(mixing, "shuffle_ballots", broken_for_first)
    assert jobs.open_and_close(first.closes_at + timedelta(seconds=1)) == {"opened": 0, "closed": 1}
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == ResolutionStatus.open and first.closed_at is None
    assert second.status == ResolutionStatus.counting
    monkeypatch.setattr(mixing, "shuffle_ballots", real)
    assert jobs.open_and_close(first.closes_at + timedelta(minutes=1)) == {"opened": 0, "closed": 1}
    db.session.refresh(first)
    assert first.status == ResolutionStatus.counting


def test_the_shuffle_keeps_every_ballot_under_a_fresh_random_id(gov):
    """Both paths (one statement on PostgreSQL, Python elsewhere): the same ballots, fresh ids."""
    r = opened(gov)
    for cls, n in (("worker", 0), ("worker", 1), ("supported", 0), ("investor", 0)):
        vote(gov, gov.member(cls, n), r, "for" if n == 0 else "against")
    before = db.session.execute(sa.select(Ballot.id, Ballot.sealed, Ballot.member_class, Ballot.receipt,
                                          Ballot.change_token_hash).where(Ballot.resolution_id == r.id)).all()
    assert mixing.shuffle_ballots(r.id) == 4
    after = db.session.execute(sa.select(Ballot.id, Ballot.sealed, Ballot.member_class, Ballot.receipt,
                                         Ballot.change_token_hash).where(Ballot.resolution_id == r.id)).all()
    assert sorted(tuple(x[1:]) for x in after) == sorted(tuple(x[1:]) for x in before)
    new_ids = [x[0] for x in after]
    assert len(set(new_ids)) == 4 and not set(new_ids) & {x[0] for x in before}
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in new_ids)
    assert close_and_count(r.id, r.closes_at + timedelta(seconds=1), tell=False)
    db.session.refresh(r)
    assert r.result["counts"]["non-investor"] == {"for": 2, "against": 1}
    assert r.result["counts"]["investor"] == {"for": 1}
