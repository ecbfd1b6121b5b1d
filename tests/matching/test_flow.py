"""The consent flow through the services: both directions, review on and off,
withdrawal at every stage, the team place it creates, checks and notifications."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from careteams.errors import Conflict, ValidationError
from careteams.extensions import db
from careteams.matching.models import (
    CheckKind,
    MatchingSettings,
    MatchState,
    Notification,
    ReviewPrompt,
    Side,
    VacancyStatus,
)
from careteams.matching.rules import Action
from careteams.matching.services.match_summaries import view_match
from careteams.matching.services.matches import act_on_match, ask_to_join, invite_worker
from careteams.matching.services.profiles import get_own_profile, worker_eligibility
from careteams.matching.services.suggestions import rank_candidates
from careteams.matching.services.vacancies import update_vacancy
from careteams.teams.models import TeamMember, TeamMemberStatus
from tests.matching.conftest import NOW, actor, make_worker, post_vacancy


def act(person, match, action, **kw):
    return act_on_match(actor(person), match.id, action, now=NOW, **kw)


def to_state(world, worker, state, started_by=Side.team):
    """Drive a new match to `state` the legal way; return it."""
    vacancy = post_vacancy(world)
    if started_by == Side.team:
        match = invite_worker(actor(world.answerer), vacancy.id, worker.id, now=NOW)
        if state == MatchState.invited:
            return match
        act(worker, match, Action.answer_yes)
    else:
        match = ask_to_join(actor(worker), vacancy.id, now=NOW)
        if state == MatchState.asked:
            return match
        act(world.leader, match, Action.answer_yes)
    if state == MatchState.review:
        return match
    act(world.facilitator, match, Action.approve)
    if state == MatchState.introduction:
        return match
    act(world.facilitator, match, Action.record_introduction, on=date(2026, 11, 20))
    act(worker, match, Action.start_trial)
    if state == MatchState.trial:
        return match
    act(world.leader, match, Action.record_shift, on=date(2026, 11, 21))
    act(world.leader, match, Action.confirm)
    act(worker, match, Action.confirm)
    assert match.state == MatchState.active
    return match


def member_row(world, worker):
    return db.session.scalar(sa.select(TeamMember).where(TeamMember.team_id == world.team.id,
                                                         TeamMember.person_id == worker.id))


def test_invite_to_active_creates_the_team_place_trial_then_active(world, sms_outbox):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.trial)
    place = member_row(world, worker)
    assert place.status == TeamMemberStatus.trial and match.team_member_id == place.id
    assert match.joined_at == NOW
    act(world.answerer, match, Action.record_shift, on=date(2026, 11, 21))
    act(worker, match, Action.confirm)
    assert match.state == MatchState.trial and member_row(world, worker).status == TeamMemberStatus.trial
    act(world.leader, match, Action.confirm)
    assert match.state == MatchState.active
    assert member_row(world, worker).status == TeamMemberStatus.active
    assert match.vacancy.status == VacancyStatus.filled
    # Everyone heard about it on the web; no text mentions the plan or health.
    bodies = db.session.scalars(sa.select(Notification.body).where(Notification.person_id == worker.id)).all()
    assert any("welcome" in b.lower() for b in bodies)


def test_ask_direction_the_team_answers(world):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    vacancy = post_vacancy(world)
    match = ask_to_join(actor(worker), vacancy.id, note="I live nearby", now=NOW)
    assert match.state == MatchState.asked and match.worker_said_yes is True
    with pytest.raises(Conflict, match="other side"):
        act(worker, match, Action.answer_yes)
    act(world.answerer, match, Action.answer_no, note="Not this time")
    assert match.state == MatchState.declined and match.declined_by == Side.team
    assert match.team_note == "Not this time" and match.worker_note == "I live nearby"
    # A "no" is not asked again for the same vacancy.
    with pytest.raises(Conflict):
        ask_to_join(actor(worker), vacancy.id, now=NOW)


def test_review_switched_off_goes_straight_to_introduction(world):
    db.session.add(MatchingSettings(cooperative_id=world.coop.id, review_required=False, required_training=[]))
    db.session.flush()
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    vacancy = post_vacancy(world)
    match = invite_worker(actor(world.leader), vacancy.id, worker.id, now=NOW)
    act(worker, match, Action.answer_yes)
    assert match.state == MatchState.introduction and match.approved_at == NOW


@pytest.mark.parametrize("state", [MatchState.invited, MatchState.asked, MatchState.review,
                                   MatchState.introduction, MatchState.trial])
@pytest.mark.parametrize("who", ["team", "worker"])
def test_withdrawal_at_every_stage_from_both_sides(world, state, who):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, state, started_by=Side.worker if state == MatchState.asked else Side.team)
    act(world.answerer if who == "team" else worker, match, Action.withdraw)
    assert match.state == MatchState.withdrawn
    assert match.withdrawn_by == Side(who) and match.withdrawn_from == state
    place = member_row(world, worker)
    if state == MatchState.trial:
        assert place.status == TeamMemberStatus.left and place.ended_on == NOW.date()
    else:
        assert place is None
    with pytest.raises(Conflict):
        act(worker, match, Action.withdraw)


def test_after_joining_withdrawal_is_refused_and_ending_consent_applies(world):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.active)
    with pytest.raises(Conflict, match="end the membership"):
        act(worker, match, Action.withdraw)
    assert member_row(world, worker).status == TeamMemberStatus.active


def test_illegal_transitions_are_409_and_change_nothing(world):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.review)
    for person, action in ((worker, Action.start_trial), (world.leader, Action.confirm),
                           (world.facilitator, Action.record_introduction)):
        with pytest.raises(Conflict) as err:
            act(person, match, action, on=date(2026, 11, 1))
        assert err.value.code == "illegal_transition"
    assert match.state == MatchState.review and match.introduction_on is None


def test_hold_blocks_approval_and_is_seen_only_by_facilitators(world):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.review)
    with pytest.raises(ValidationError):
        act(world.facilitator, match, Action.hold)
    act(world.facilitator, match, Action.hold, note="Checking a safeguarding concern")
    with pytest.raises(Conflict, match="holding"):
        act(world.facilitator, match, Action.approve)
    assert view_match(actor(world.facilitator), match.id)["hold_note"] == "Checking a safeguarding concern"
    for person in (worker, world.leader, world.answerer):
        view = view_match(actor(person), match.id)
        assert "hold_note" not in view and "Checking" not in repr(view)
    act(world.facilitator, match, Action.release)
    act(world.facilitator, match, Action.approve)
    assert match.state == MatchState.introduction


def test_an_expired_required_check_stops_suggestion_invitation_and_trial(world):
    expired = make_worker(world.coop, "Xena Ford", skills=[world.skills["Personal care"]], dbs_expires=date(2026, 11, 1))
    vacancy = post_vacancy(world)
    assert expired.id not in [c["person_id"] for c in rank_candidates(vacancy, NOW)]
    with pytest.raises(Conflict, match="Enhanced DBS check: expired on 2026-11-01"):
        invite_worker(actor(world.leader), vacancy.id, expired.id, now=NOW)
    # A check that runs out between the introduction and the trial stops the trial.
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.introduction)
    act(world.facilitator, match, Action.record_introduction, on=date(2026, 11, 20))
    profile = get_own_profile(actor(worker), world.coop)
    check = next(c for c in profile.checks if c.kind == CheckKind.enhanced_dbs)
    check.expires_on = NOW.date() - timedelta(days=1)
    db.session.flush()
    with pytest.raises(Conflict, match="checks are not in date"):
        act(worker, match, Action.start_trial)
    assert match.state == MatchState.introduction and member_row(world, worker) is None


def test_a_check_stops_counting_at_midnight_where_the_coop_is(world):
    """A DBS check that expires on 1 June no longer counts from 00:00 on 1 June in
    London, which in summer is 23:00 UTC on 31 May."""
    worker = make_worker(world.coop, "Ola Night", skills=[world.skills["Personal care"]], dbs_expires=date(2027, 6, 1))
    vacancy = post_vacancy(world)
    before = datetime(2027, 5, 31, 22, 30, tzinfo=UTC)  # 23:30 on 31 May in London
    after = datetime(2027, 5, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 June in London, still 31 May in UTC
    assert worker.id in [c["person_id"] for c in rank_candidates(vacancy, before)]
    assert worker.id not in [c["person_id"] for c in rank_candidates(vacancy, after)]
    with pytest.raises(Conflict, match="expired on 2027-06-01"):
        invite_worker(actor(world.leader), vacancy.id, worker.id, now=after)
    # The rota asks the same question about a visit's start.
    assert worker_eligibility([worker.id], [], before, world.coop.id) == {worker.id: []}
    assert worker_eligibility([worker.id], [], after, world.coop.id)[worker.id] != []


def test_review_prompts_after_the_third_and_eighth_shift(world):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.active)  # one shift recorded on the way
    for day in range(2, 9):
        act(worker if day % 2 else world.leader, match, Action.record_shift, on=date(2026, 11, 21 + day))
        due = sorted(db.session.scalars(sa.select(ReviewPrompt.after_shift).where(ReviewPrompt.match_id == match.id)))
        assert due == ([3] if day < 8 else [3, 8]) if day >= 3 else due == []
    assert len(match.shifts) == 8
    for person in (worker, world.leader):
        assert view_match(actor(person), match.id)["reviews_due"] == [3, 8]


def test_answering_a_closed_vacancy_is_a_conflict(world):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    match = to_state(world, worker, MatchState.invited)
    update_vacancy(actor(world.leader), match.vacancy_id, {"status": VacancyStatus.paused})
    with pytest.raises(Conflict, match="no longer open"):
        act(worker, match, Action.answer_yes)
    assert match.state == MatchState.invited and match.worker_said_yes is None


def test_notifications_reach_each_side_without_private_details(world, sms_outbox):
    worker = make_worker(world.coop, skills=[world.skills["Personal care"]])
    to_state(world, worker, MatchState.review)
    people = {n.person_id for n in db.session.scalars(sa.select(Notification))}
    assert {worker.id, world.leader.id, world.answerer.id, world.facilitator.id} <= people
    assert world.builder.id not in people  # the Team builder hat does not answer matches
    db.session.commit()  # texts leave on commit
    assert sms_outbox, "texts are sent after commit"
    for text in sms_outbox:
        assert "breakfast" not in str(text).lower() and "Ann" not in str(text)
