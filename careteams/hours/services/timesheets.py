"""Timesheet entries by hand: log, correct, submit, confirm, adjust, dispute and
settle; and the lists people work from (mine, to confirm, disputes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours import rules
from careteams.hours.enums import EntryEventKind, TimesheetAction, TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.hours.services import history
from careteams.hours.services.common import (
    check_business_day,
    checkers_of,
    facilitators_of,
    mark_confirmed,
    notify_person,
    step,
)
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor
from careteams.teams.models import (
    Arranger,
    Hat,
    HatStatus,
    HatType,
    Team,
    TeamMember,
    TeamMemberStatus,
)
from careteams.teams.permissions import TeamAccess, TeamPermission
from careteams.teams.services.access import get_visible_team, team_access

A = TimesheetAction
K = EntryEventKind


def _visible_entry(actor: Actor, entry_id: int) -> tuple[TimesheetEntry, TeamAccess]:
    entry = db.session.get(TimesheetEntry, entry_id)
    if entry is None:
        raise NotFound("No such timesheet entry.")
    access = team_access(actor, entry.team)
    if not perm.can_see_entry(access, entry.person_id):
        raise NotFound("No such timesheet entry.")
    return entry, access


def get_entry(actor: Actor, entry_id: int) -> TimesheetEntry:
    """One entry, for its worker, the team's checkers and the co-op's facilitators."""
    return _visible_entry(actor, entry_id)[0]


def _check_times(team: Team, started_at: datetime, ended_at: datetime, break_minutes: int, now: datetime,
                 field: str = "ended_at") -> None:
    coop = db.session.get(Cooperative, team.cooperative_id)
    # A date before the co-op existed or years ahead is a typing mistake (2062 for 2026).
    check_business_day(coop, started_at.astimezone(ZoneInfo(team.zone)).date(), "started_at", now)
    if ended_at <= started_at:
        raise ValidationError(details={"fields": {field: ["The end must be after the start."]}})
    if rules.worked_minutes(started_at, ended_at, break_minutes) <= 0:
        raise ValidationError(details={"fields": {"break_minutes": ["Breaks are longer than the time worked."]}})
    if ended_at > now + timedelta(minutes=15):
        raise ValidationError(details={"fields": {field: ["Hours can only be logged once they are worked."]}})
    if ended_at - started_at > timedelta(hours=24):
        raise ValidationError(details={"fields": {field: ["One entry covers at most 24 hours."]}})


def log_entry(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """A worker logs support that was not on the rota; it starts pending."""
    now = now or utcnow()
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_log_hours(access))
    _check_times(team, data["started_at"], data["ended_at"], data.get("break_minutes", 0), now)
    entry = TimesheetEntry(team_id=team.id, person_id=actor.person_id, created_by_id=actor.person_id,
                           status=TimesheetStatus.pending, **data)
    db.session.add(entry)
    db.session.flush()
    history.record(entry, K.logged, now, actor.person_id, "worker", words=entry.note,
                   after=history.figures(entry))
    return entry


EDITABLE = ("started_at", "ended_at", "break_minutes", "travel_minutes", "waiting_minutes", "mileage", "note")


def update_entry(actor: Actor, entry_id: int, changes: dict, now: datetime | None = None) -> TimesheetEntry:
    """The worker corrects their own pending entry."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_act_as_worker(access, entry.person_id))
    step(entry, A.edit)
    values = {k: changes.get(k, getattr(entry, k)) for k in EDITABLE}
    _check_times(entry.team, values["started_at"], values["ended_at"], values["break_minutes"], now)
    before = history.figures(entry)
    for key in EDITABLE:
        if key in changes:
            setattr(entry, key, changes[key])
    db.session.flush()
    history.record(entry, K.edited, now, actor.person_id, "worker", before=before, after=history.figures(entry))
    return entry


def submit_entry(actor: Actor, entry_id: int, now: datetime | None = None) -> TimesheetEntry:
    """The worker says this is what happened; the team's checkers are told."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_act_as_worker(access, entry.person_id))
    step(entry, A.submit)
    entry.submitted_at = now
    db.session.flush()
    history.record(entry, K.submitted, now, actor.person_id, "worker")
    for person in checkers_of(entry.team, now, exclude=entry.person_id):
        notify_person(person, "Hours to confirm", f"Hours for {entry.team.display_name}'s team are waiting for you to confirm.")
    return entry


def confirm_entry(actor: Actor, entry_id: int, now: datetime | None = None) -> TimesheetEntry:
    """The leader or an Hours checker confirms submitted hours (never their own); or,
    having heard the worker's answer, confirms disputed hours as the worker logged them."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_check_entry(access, entry.person_id))
    was_disputed = entry.status == TimesheetStatus.disputed
    mark_confirmed(entry, actor.person_id, now, A.confirm)
    db.session.flush()
    history.record(entry, K.confirmed, now, actor.person_id, "checker")
    if was_disputed:
        notify_person(entry.person, "Your hours: confirmed",
                      f"Your disputed hours with {entry.team.display_name}'s team are now confirmed as you logged them.")
    return entry


def propose_adjustment(actor: Actor, entry_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """A checker proposes other times; the worker accepts or rejects them."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_check_entry(access, entry.person_id))
    started = data.get("started_at", entry.started_at)
    ended = data.get("ended_at", entry.ended_at)
    breaks = data.get("break_minutes", entry.break_minutes)
    _check_times(entry.team, started, ended, breaks, now)
    step(entry, A.adjust)
    entry.proposed_started_at, entry.proposed_ended_at = started, ended
    entry.proposed_break_minutes = breaks
    entry.proposed_travel_minutes = data.get("travel_minutes", entry.travel_minutes)
    entry.proposal_note = data.get("note") or ""
    entry.proposed_by_id = actor.person_id
    db.session.flush()
    proposed = {"started_at": started.isoformat(), "ended_at": ended.isoformat(), "break_minutes": breaks,
                "travel_minutes": entry.proposed_travel_minutes}
    history.record(entry, K.adjustment_proposed, now, actor.person_id, "checker", words=entry.proposal_note,
                   before=history.figures(entry), after=proposed)
    notify_person(entry.person, "Your hours: a change is proposed",
            f"A change to your hours with {entry.team.display_name}'s team is proposed. Please accept or reject it.")
    return entry


def accept_adjustment(actor: Actor, entry_id: int, now: datetime | None = None) -> TimesheetEntry:
    """The worker accepts the proposed figures: the entry is confirmed with them."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_act_as_worker(access, entry.person_id))
    before = history.figures(entry)
    if entry.status == TimesheetStatus.adjustment_proposed:
        entry.started_at, entry.ended_at = entry.proposed_started_at, entry.proposed_ended_at
        entry.break_minutes = entry.proposed_break_minutes
        entry.travel_minutes = entry.proposed_travel_minutes
    # Both sides agree: the checker proposed these figures, the worker accepts them.
    mark_confirmed(entry, entry.proposed_by_id, now, A.accept)
    db.session.flush()
    history.record(entry, K.accepted, now, actor.person_id, "worker", before=before, after=history.figures(entry))
    return entry


def _open_dispute(entry: TimesheetEntry, by_id: int, comment: str, now: datetime, action: TimesheetAction) -> None:
    step(entry, action)
    entry.disputed_at, entry.disputed_by_id, entry.dispute_comment = now, by_id, comment
    if action == A.reject:
        history.record(entry, K.rejected, now, by_id, "worker", words=comment)
    else:
        history.record(entry, K.disputed, now, by_id, "checker", words=comment)
    for person in facilitators_of(entry.team.cooperative_id):
        notify_person(person, "Hours in dispute", f"Hours for {entry.team.display_name}'s team are in dispute (entry {entry.id}).")


def reject_adjustment(actor: Actor, entry_id: int, comment: str, now: datetime | None = None) -> TimesheetEntry:
    """The worker rejects the proposed figures: the entry becomes a dispute."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_act_as_worker(access, entry.person_id))
    _open_dispute(entry, actor.person_id, comment, now, A.reject)
    db.session.flush()
    return entry


def dispute_entry(actor: Actor, entry_id: int, comment: str, now: datetime | None = None) -> TimesheetEntry:
    """A checker disputes submitted hours, with a comment for a facilitator."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_check_entry(access, entry.person_id))
    _open_dispute(entry, actor.person_id, comment, now, A.dispute)
    db.session.flush()
    # The worker is told there is a question (never the words: they may hold health details).
    notify_person(entry.person, "Your hours: in dispute",
                  f"Your hours with {entry.team.display_name}'s team are disputed. "
                  "Please read why on the website and answer.")
    return entry


def resolve_dispute(actor: Actor, entry_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """A facilitator settles a dispute: confirmed with the figures they settle on, or void."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_resolve_dispute(access, entry.person_id))
    before = history.figures(entry)
    if data["outcome"] == "void":
        step(entry, A.resolve_void)
    else:
        started = data.get("started_at", entry.started_at)
        ended = data.get("ended_at", entry.ended_at)
        breaks = data.get("break_minutes", entry.break_minutes)
        if entry.status == TimesheetStatus.disputed:
            _check_times(entry.team, started, ended, breaks, now)
            entry.started_at, entry.ended_at, entry.break_minutes = started, ended, breaks
            entry.travel_minutes = data.get("travel_minutes", entry.travel_minutes)
        mark_confirmed(entry, actor.person_id, now, A.resolve)
    entry.resolved_by_id, entry.resolved_at, entry.resolution_note = actor.person_id, now, data.get("note") or ""
    db.session.flush()
    history.record(entry, K.voided if data["outcome"] == "void" else K.settled, now, actor.person_id, "facilitator",
                   words=entry.resolution_note, before=before, after=history.figures(entry))
    notify_person(entry.person, "Your hours: dispute settled",
            f"The dispute about your hours with {entry.team.display_name}'s team is settled.")
    for person in _other_side(entry, actor.person_id, now):
        notify_person(person, "Hours: dispute settled",
                      f"The dispute about hours for {entry.team.display_name}'s team is settled (entry {entry.id}).")
    return entry


def _other_side(entry: TimesheetEntry, exclude: int, now: datetime) -> list:
    """Who speaks for the team in a dispute: the checker who disputed, or (when the
    worker opened it by rejecting a change) the team's checkers."""
    if entry.disputed_by_id and entry.disputed_by_id not in (entry.person_id, exclude):
        person = db.session.get(Person, entry.disputed_by_id)
        if person is not None and person.active:
            return [person]
        return checkers_of(entry.team, now, exclude=entry.person_id)
    return [p for p in checkers_of(entry.team, now, exclude=entry.person_id) if p.id != exclude]


def _words(text: str | None) -> str:
    """What someone says in a dispute: 1 to 500 characters (the API's field is `comment`)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(details={"fields": {"comment": ["Write your answer."]}})
    if len(text) > 500:
        raise ValidationError(details={"fields": {"comment": ["Keep it to 500 characters or fewer."]}})
    return text


def _in_dispute(entry: TimesheetEntry) -> None:
    if not rules.in_conversation(entry.status):
        raise Conflict("Only hours in dispute can be answered or replied to.", code="not_disputed")


def answer_dispute(actor: Actor, entry_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """The worker answers a dispute about their hours, in their own words; the checker
    who disputed them (or the team's checkers) is told, without the words."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_answer_dispute(access, entry.person_id))
    words = _words(data.get("comment"))
    _in_dispute(entry)
    history.record(entry, K.answered, now, actor.person_id, "worker", words=words)
    db.session.flush()
    for person in _other_side(entry, actor.person_id, now):
        notify_person(person, "Hours in dispute: an answer",
                      f"The worker answered about hours for {entry.team.display_name}'s team (entry {entry.id}).")
    return entry


def reply_to_dispute(actor: Actor, entry_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """The leader or an Hours checker replies to the worker's answer; the worker is told."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_reply_to_dispute(access, entry.person_id))
    words = _words(data.get("comment"))
    _in_dispute(entry)
    history.record(entry, K.replied, now, actor.person_id, "checker", words=words)
    db.session.flush()
    notify_person(entry.person, "Your hours: a reply",
                  f"There is a reply about your hours with {entry.team.display_name}'s team. Please see the website.")
    return entry


def entry_history(actor: Actor, entry_id: int) -> list:
    """The entry's steps, oldest first, for whoever may see the entry."""
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_see_history(access, entry.person_id))
    return history.events_of(entry)


def entry_view(actor: Actor, entry_id: int) -> dict:
    """The entry page: the entry, its history, and what this actor may do now."""
    entry, access = _visible_entry(actor, entry_id)
    disputed = rules.in_conversation(entry.status)
    return {"entry": entry, "steps": history.timeline(entry, history.events_of(entry)),
            "may": {"answer": disputed and perm.can_answer_dispute(access, entry.person_id),
                    "reply": disputed and perm.can_reply_to_dispute(access, entry.person_id),
                    "confirm": disputed and perm.can_check_entry(access, entry.person_id),
                    "settle": disputed and perm.can_resolve_dispute(access, entry.person_id)},
            "role": history.role_of(access, entry.person_id)}


def correct_entry(actor: Actor, entry_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """A confirmed entry never changes: a correction is a new pending entry linked to it,
    which both sides confirm again. Its pay replaces the original's (see close_run)."""
    now = now or utcnow()
    original, access = _visible_entry(actor, entry_id)
    ensure(perm.can_correct_entry(access, original.person_id))
    if original.status != TimesheetStatus.confirmed:
        raise Conflict("Only confirmed hours are corrected; change this one directly.", code="not_confirmed")
    if db.session.scalar(sa.select(TimesheetEntry.id).where(
            TimesheetEntry.corrects_id == original.id, TimesheetEntry.status != TimesheetStatus.void)):
        raise Conflict("This entry already has a correction.", code="already_corrected")
    values = {k: data.get(k, getattr(original, k)) for k in EDITABLE}
    _check_times(original.team, values["started_at"], values["ended_at"], values["break_minutes"], now)
    entry = TimesheetEntry(team_id=original.team_id, person_id=original.person_id, shift_id=original.shift_id,
                           kind=original.kind, corrects_id=original.id, created_by_id=actor.person_id,
                           status=TimesheetStatus.pending, **values)
    db.session.add(entry)
    db.session.flush()
    role = "worker" if actor.person_id == original.person_id else "checker"
    history.record(original, K.corrected, now, actor.person_id, role, other_entry_id=entry.id)
    history.record(entry, K.correction, now, actor.person_id, role, before=history.figures(original),
                   after=history.figures(entry), other_entry_id=original.id)
    return entry


def my_entries(actor: Actor, limit: int = 200) -> list[TimesheetEntry]:
    """The actor's own entries, newest first."""
    return list(db.session.scalars(sa.select(TimesheetEntry).where(TimesheetEntry.person_id == actor.person_id)
                                   .order_by(TimesheetEntry.started_at.desc()).limit(limit)))


def _checker_team_ids(actor: Actor, now: datetime) -> list[int]:
    """Teams where the actor leads, arranges or wears a hat with confirm_hours."""
    led = set(db.session.scalars(sa.select(Team.id).where(Team.leader_id == actor.person_id)))
    arranged = set(db.session.scalars(sa.select(Arranger.team_id).where(
        Arranger.person_id == actor.person_id, Arranger.in_force())))
    hats = db.session.scalars(sa.select(Hat).join(HatType, HatType.id == Hat.hat_type_id).where(
        Hat.person_id == actor.person_id, Hat.status == HatStatus.accepted)).all()
    hatted = {h.team_id for h in hats if h.in_force(now) and TeamPermission.confirm_hours.value in h.hat_type.permissions}
    return sorted(led | arranged | hatted)


def entries_to_confirm(actor: Actor, now: datetime | None = None) -> list[TimesheetEntry]:
    """Submitted entries in teams where the actor may confirm, not their own."""
    now = now or utcnow()
    team_ids = _checker_team_ids(actor, now)
    if not team_ids:
        return []
    return list(db.session.scalars(sa.select(TimesheetEntry).where(
        TimesheetEntry.team_id.in_(team_ids), TimesheetEntry.person_id != actor.person_id,
        TimesheetEntry.status.in_((TimesheetStatus.submitted, TimesheetStatus.adjustment_proposed)))
        .order_by(TimesheetEntry.started_at)))


def disputes_in_my_teams(actor: Actor, now: datetime | None = None) -> list[TimesheetEntry]:
    """Disputed entries in teams where the actor checks hours, not their own: to reply to."""
    now = now or utcnow()
    team_ids = _checker_team_ids(actor, now)
    if not team_ids:
        return []
    return list(db.session.scalars(sa.select(TimesheetEntry).where(
        TimesheetEntry.team_id.in_(team_ids), TimesheetEntry.person_id != actor.person_id,
        TimesheetEntry.status == TimesheetStatus.disputed).order_by(TimesheetEntry.disputed_at)))


def disputes(actor: Actor, cooperative_id: int) -> list[TimesheetEntry]:
    """Disputed entries in the co-op (its facilitators)."""
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    return list(db.session.scalars(sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
        Team.cooperative_id == cooperative_id, TimesheetEntry.status == TimesheetStatus.disputed)
        .order_by(TimesheetEntry.disputed_at)))


def teams_to_log_in(actor: Actor) -> list[Team]:
    """Teams where the actor has a current (trial or active) place, for logging hours."""
    return list(db.session.scalars(sa.select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.person_id == actor.person_id,
        TeamMember.status.in_((TeamMemberStatus.active, TeamMemberStatus.trial))).order_by(Team.display_name)))


def zone_of_team(actor: Actor, team_id: int) -> str:
    """The team's time zone (for reading times typed on its clock); 404 if private."""
    return get_visible_team(actor, team_id)[0].zone
