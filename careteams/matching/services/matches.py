"""The consent state machine: invite, ask, answer, review, introduce, trial, confirm, withdraw."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, Forbidden, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import (
    Match,
    MatchShift,
    MatchState,
    ReviewPrompt,
    Side,
    Vacancy,
    VacancyStatus,
)
from careteams.matching.rules import Action, IllegalTransition
from careteams.matching.services.common import (
    CURRENT_MEMBER_STATUSES,
    check_facts,
    local_today,
    profile_of,
)
from careteams.matching.services.notifications import (
    notify_both,
    notify_facilitators,
    notify_other,
    notify_team,
    notify_worker,
)
from careteams.matching.services.settings import matching_settings
from careteams.matching.services.vacancies import vacancy_and_access
from careteams.members.permissions import Actor, is_facilitator
from careteams.teams.models import TeamMember, TeamMemberStatus, TeamRole
from careteams.teams.permissions import TeamAccess
from careteams.teams.services.access import team_access


def sides_of(actor: Actor, match: Match, access: TeamAccess) -> frozenset[Side]:
    sides = set()
    if match.worker_id == actor.person_id:
        sides.add(Side.worker)
    if perm.can_answer_for_team(access):
        sides.add(Side.team)
    if is_facilitator(actor, match.cooperative_id):
        sides.add(Side.facilitator)
    return frozenset(sides)


def ensure_may_review(actor: Actor, match: Match) -> None:
    """403 `separation_of_duties` for whoever answered the match; 403 for anyone not a facilitator."""
    if perm.can_review_match(actor, match.cooperative_id, match.team_answered_by_id, match.worker_id):
        return
    if perm.answered_the_match(actor, match.team_answered_by_id, match.worker_id):
        raise Forbidden("Whoever answered a match cannot also review it; another facilitator will.",
                        code="separation_of_duties")
    raise Forbidden()


def visible_match(actor: Actor, match_id: int, for_update: bool = False) -> tuple[Match, frozenset[Side], TeamAccess]:
    query = sa.select(Match).where(Match.id == match_id)
    if for_update:
        # Both sides may answer at the same moment: serialise on the match row.
        query = query.with_for_update(of=Match)
    match = db.session.scalar(query)
    if match is None:
        raise NotFound("No such match.")
    access = team_access(actor, match.vacancy.team)
    sides = sides_of(actor, match, access)
    # Anyone on the team side who can see vacancies may look; only answer_matches acts.
    if not sides and not perm.can_view_team_vacancies(access):
        raise NotFound("No such match.")
    return match, sides, access


def match_facts(match: Match, review_required: bool) -> rules.MatchFacts:
    return rules.MatchFacts(
        state=match.state, started_by=match.started_by, held=match.held, review_required=review_required,
        introduction_recorded=match.introduction_on is not None, shifts_recorded=len(match.shifts),
        team_confirmed=match.team_confirmed_at is not None, worker_confirmed=match.worker_confirmed_at is not None)


def _checks_problems(coop_id: int, person_id: int, on: date) -> list[str]:
    profile = profile_of(coop_id, person_id)
    if profile is None:
        return ["no worker profile"]
    return rules.check_problems(check_facts(profile.checks), on, matching_settings(coop_id).required_training or [])


def invite_worker(actor: Actor, vacancy_id: int, person_id: int, note: str | None = None,
                  now: datetime | None = None) -> Match:
    """The team side invites a worker to a vacancy; the worker then answers."""
    now = now or utcnow()
    vacancy, access = vacancy_and_access(actor, vacancy_id)
    ensure(perm.can_view_team_vacancies(access), not_found=True)
    ensure(perm.can_answer_for_team(access))
    profile = profile_of(vacancy.cooperative_id, person_id)
    if profile is None or not profile.available:
        raise NotFound("No such worker.")
    match = _start_match(vacancy, person_id, Side.team, note, now)
    # Inviting is the team's yes: the inviter answered for the team.
    match.team_answered_by_id = actor.person_id
    db.session.flush()
    return match


def ask_to_join(actor: Actor, vacancy_id: int, note: str | None = None, now: datetime | None = None) -> Match:
    """A worker asks to join a vacancy; the team side then answers."""
    now = now or utcnow()
    vacancy = db.session.get(Vacancy, vacancy_id)
    profile = vacancy and profile_of(vacancy.cooperative_id, actor.person_id)
    if vacancy is None or profile is None or vacancy.status != VacancyStatus.open:
        raise NotFound("No such vacancy.")
    return _start_match(vacancy, actor.person_id, Side.worker, note, now)


def _start_match(vacancy: Vacancy, person_id: int, side: Side, note: str | None, now: datetime) -> Match:
    if vacancy.status != VacancyStatus.open:
        raise Conflict("This vacancy is not open.")
    if person_id == vacancy.team.leader_id:
        raise Conflict("The team's leader cannot be matched to their own team.")
    if db.session.scalar(sa.select(Match.id).where(Match.vacancy_id == vacancy.id, Match.worker_id == person_id)):
        raise Conflict("There is already a match between this worker and this vacancy.", code="already_matched")
    if db.session.scalar(sa.select(TeamMember.id).where(
            TeamMember.team_id == vacancy.team_id, TeamMember.person_id == person_id,
            TeamMember.status.in_(CURRENT_MEMBER_STATUSES))):
        # Checked at the start, not only at the trial: a match that could never start
        # its trial would be left stuck half-way.
        raise Conflict("This worker already has a place in the team.", code="already_in_team")
    problems = _checks_problems(vacancy.cooperative_id, person_id, local_today(now, vacancy.cooperative_id))
    if problems:
        raise Conflict("The worker's checks are not in date: " + "; ".join(problems), code="checks_not_valid")
    match = Match(vacancy_id=vacancy.id, team_id=vacancy.team_id, cooperative_id=vacancy.cooperative_id,
                  worker_id=person_id, started_by=side,
                  state=MatchState.invited if side == Side.team else MatchState.asked,
                  team_said_yes=True if side == Side.team else None,
                  worker_said_yes=True if side == Side.worker else None, created_at=now)
    _set_note(match, side, note)
    db.session.add(match)
    db.session.flush()
    if side == Side.team:
        notify_worker(match, "A team would like you to join them. Log in to careteams to see the vacancy and answer.")
    else:
        notify_team(match, "A worker has asked to join your team. Log in to careteams to see them and answer.")
    return match


def _set_note(match: Match, side: Side, note: str | None) -> None:
    if note is None:
        return
    if side == Side.team:
        match.team_note = note
    elif side == Side.worker:
        match.worker_note = note


def act_on_match(actor: Actor, match_id: int, action: Action, note: str | None = None, on: date | None = None,
                 now: datetime | None = None) -> Match:
    """Move a match through the consent flow: answer, approve, hold, introduce, trial, confirm, withdraw."""
    now = now or utcnow()
    match, sides, _ = visible_match(actor, match_id, for_update=True)
    ensure(perm.may_take(action, sides))
    side = perm.side_for(action, sides)
    if action in perm.REVIEW_ACTIONS:
        ensure_may_review(actor, match)
    settings = matching_settings(match.cooperative_id)
    try:
        new_state = rules.next_state(match_facts(match, settings.review_required), action, side)
    except IllegalTransition as exc:
        raise Conflict(str(exc), code="illegal_transition") from None
    old_state = match.state
    if action == Action.answer_yes and match.vacancy.status != VacancyStatus.open:
        raise Conflict("This vacancy is no longer open.")

    if action in (Action.answer_yes, Action.answer_no):
        setattr(match, "team_said_yes" if side == Side.team else "worker_said_yes", action == Action.answer_yes)
        if side == Side.team:
            match.team_answered_by_id = actor.person_id
        _set_note(match, side, note)
        if action == Action.answer_no:
            match.declined_by = side
            match.closed_at = now
            notify_other(match, side, "There is news about a match on careteams. Log in to see it.")
        else:
            match.mutual_at = now
            if new_state == MatchState.introduction:
                match.approved_at = now
            notify_both(match, "You and a match have both said yes. Log in to careteams to see what happens next.")
            if new_state == MatchState.review:
                notify_facilitators(match, "A match is waiting for review on careteams.")
    elif action == Action.approve:
        match.reviewed_by_id = actor.person_id
        match.approved_at = now
        notify_both(match, "A facilitator has approved your match. Log in to careteams to arrange an introduction.")
    elif action == Action.decline:
        # The facilitator's review says no: closed, nobody joins; the note stays with facilitators.
        match.reviewed_by_id = actor.person_id
        match.declined_by = side
        match.closed_at = now
        match.held = False
        if note:
            match.hold_note = note
        notify_both(match, "A facilitator has reviewed your match and it will not go ahead. Log in to careteams to see it.")
    elif action == Action.hold:
        if not note:
            raise ValidationError(details={"fields": {"note": ["Say why the match is held (only facilitators see it)."]}})
        match.held, match.hold_note, match.held_by_id = True, note, actor.person_id
    elif action == Action.release:
        match.held = False
        if note:
            match.hold_note = note
    elif action == Action.record_introduction:
        if on is None:
            raise ValidationError(details={"fields": {"on": ["Give the date of the introduction."]}})
        match.introduction_on = on
    elif action == Action.start_trial:
        problems = _checks_problems(match.cooperative_id, match.worker_id, local_today(now, match.cooperative_id))
        if problems:
            raise Conflict("The worker's checks are not in date: " + "; ".join(problems), code="checks_not_valid")
        if db.session.scalar(sa.select(TeamMember.id).where(
                TeamMember.team_id == match.team_id, TeamMember.person_id == match.worker_id,
                TeamMember.status.in_(CURRENT_MEMBER_STATUSES))):
            raise Conflict("This worker already has a place in the team.")
        member = TeamMember(team_id=match.team_id, person_id=match.worker_id, role=TeamRole.paid_worker,
                            status=TeamMemberStatus.trial, invited_at=now, started_on=local_today(now, match.cooperative_id))
        db.session.add(member)
        db.session.flush()
        match.team_member_id = member.id
        match.joined_at = now
        notify_both(match, "The trial has started. Log in to careteams to record the trial shifts.")
    elif action == Action.record_shift:
        if on is None:
            raise ValidationError(details={"fields": {"on": ["Give the date of the shift."]}})
        before = len(match.shifts)
        db.session.add(MatchShift(match_id=match.id, worked_on=on, trial=match.state == MatchState.trial,
                                  recorded_by_id=actor.person_id, recorded_at=now))
        db.session.flush()
        db.session.expire(match, ["shifts"])
        for after in rules.review_prompts_due(before, before + 1):
            db.session.add(ReviewPrompt(match_id=match.id, after_shift=after, due_at=now))
            notify_both(match, f"After {after} shifts together: is it working? Log in to careteams to say.")
    elif action == Action.confirm:
        if side == Side.team:
            match.team_confirmed_at = now
        else:
            match.worker_confirmed_at = now
        if new_state == MatchState.active:
            member = db.session.get(TeamMember, match.team_member_id)
            member.status = TeamMemberStatus.active
            member.active_on = local_today(now, match.cooperative_id)
            match.active_at = now
            match.closed_at = now
            if match.vacancy.status == VacancyStatus.open:
                match.vacancy.status = VacancyStatus.filled
                match.vacancy.status_changed_at = now
            notify_both(match, "Both sides have confirmed: welcome to the team.")
    elif action == Action.withdraw:
        match.withdrawn_by = side
        match.withdrawn_from = old_state
        match.closed_at = now
        _set_note(match, side, note)
        if old_state == MatchState.trial and match.team_member_id:
            member = db.session.get(TeamMember, match.team_member_id)
            member.status = TeamMemberStatus.left
            member.ended_on = local_today(now, match.cooperative_id)
        notify_other(match, side, "There is news about a match on careteams. Log in to see it.")
    match.state = new_state
    db.session.flush()
    return match
