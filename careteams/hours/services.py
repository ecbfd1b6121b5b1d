"""Use-cases for hours. Services flush; the caller (view, job, SMS command) commits once.

Every change to an entry goes through `rules.next_status`, after a permission
predicate from hours.permissions; a confirmed entry never changes again.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from careteams import notify
from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours import rules
from careteams.hours.models import (
    AreaBand,
    CoopPayRate,
    Funder,
    HoursSettings,
    PayRun,
    RunEntry,
    RunInvoiceLine,
    RunLine,
    TeamHoursTerms,
    TimesheetEntry,
    WorkerRate,
)
from careteams.hours.rules import EntryKind, Frequency, TimesheetAction, TimesheetStatus
from careteams.matching.models import EmploymentType, WorkerProfile
from careteams.members.models import ContactChannel, Cooperative, Person, StaffRole, StaffRoleName
from careteams.members.permissions import Actor
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftKind, ShiftStatus
from careteams.teams.models import Hat, HatStatus, Team, TeamMember, TeamMemberStatus, TeamRole
from careteams.teams.permissions import TeamAccess, TeamPermission, can_see_team
from careteams.teams.services import team_access

A = TimesheetAction

# ---------------------------------------------------------------- settings


def settings_for(cooperative_id: int) -> HoursSettings:
    """The co-op's pay settings, or the defaults (not saved) when it has none."""
    row = db.session.scalar(sa.select(HoursSettings).where(HoursSettings.cooperative_id == cooperative_id))
    if row is not None:
        return row
    return HoursSettings(cooperative_id=cooperative_id, auto_confirm_hours=72, charge_percent=Decimal("17.5"),
                         deduction_percent=Decimal("7.5"), sleep_in_allowance_pence=0, cancellation_notice_hours=24,
                         cancellation_pay_percent=Decimal("100"), mileage_pence_per_mile=45,
                         pay_frequency=Frequency.monthly)


def update_settings(actor: Actor, cooperative_id: int, changes: dict) -> HoursSettings:
    """Change a co-op's pay settings (its admins)."""
    ensure(perm.can_set_pay_settings(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    row = db.session.scalar(sa.select(HoursSettings).where(HoursSettings.cooperative_id == cooperative_id))
    if row is None:
        row = settings_for(cooperative_id)
        db.session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.flush()
    return row


def set_coop_pay_rate(actor: Actor, cooperative_id: int, data: dict) -> CoopPayRate:
    """Add the co-op's hourly pay for employed workers in an area band from a date (admins)."""
    ensure(perm.can_set_pay_settings(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    row = CoopPayRate(cooperative_id=cooperative_id, **data)
    db.session.add(row)
    db.session.flush()
    return row


def _team(actor: Actor, team_id: int) -> tuple[Team, TeamAccess]:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound("No such team.")
    access = team_access(actor, team)
    if not can_see_team(access):
        raise NotFound("No such team.")
    return team, access


def set_team_terms(actor: Actor, team_id: int, area_band: AreaBand) -> TeamHoursTerms:
    """Set a team's area band (facilitators)."""
    team, access = _team(actor, team_id)
    ensure(perm.can_set_team_terms(access))
    row = db.session.scalar(sa.select(TeamHoursTerms).where(TeamHoursTerms.team_id == team.id))
    if row is None:
        row = TeamHoursTerms(team_id=team.id)
        db.session.add(row)
    row.area_band = area_band
    db.session.flush()
    return row


def set_funders(actor: Actor, team_id: int, funders: list[dict]) -> list[Funder]:
    """Replace who pays for a team; shares must sum to 100 (facilitators)."""
    team, access = _team(actor, team_id)
    ensure(perm.can_set_team_terms(access))
    if sum(f["share_percent"] for f in funders) != 100:
        raise ValidationError("The funders' shares must add up to 100%.",
                              details={"fields": {"funders": ["Shares must add up to 100."]}})
    for old in db.session.scalars(sa.select(Funder).where(Funder.team_id == team.id, Funder.active)):
        old.active = False
    rows = [Funder(team_id=team.id, **f) for f in funders]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def team_funders(actor: Actor, team_id: int) -> list[Funder]:
    """A team's current funders (facilitators and the team's checkers)."""
    team, access = _team(actor, team_id)
    ensure(perm.can_see_team_terms(access))
    return _funders(team.id)


def _funders(team_id: int) -> list[Funder]:
    return list(db.session.scalars(sa.select(Funder).where(Funder.team_id == team_id, Funder.active)
                                   .order_by(Funder.id)))


def set_worker_rate(actor: Actor, data: dict) -> WorkerRate:
    """An independent worker's rate from a date: their usual one (the worker), or one
    agreed with a team (a facilitator records it)."""
    team_id = data.get("team_id")
    if team_id is None:
        cooperative_id = data["cooperative_id"]
        ensure(data["person_id"] == actor.person_id and (cooperative_id in actor.member_of
                                                          or _profile(cooperative_id, actor.person_id) is not None))
    else:
        team, access = _team(actor, team_id)
        ensure(perm.can_set_team_terms(access))
        cooperative_id = team.cooperative_id
    row = WorkerRate(cooperative_id=cooperative_id, person_id=data["person_id"], team_id=team_id,
                     effective_from=data["effective_from"], hourly_rate_pence=data["hourly_rate_pence"])
    db.session.add(row)
    db.session.flush()
    return row


# ---------------------------------------------------------------- entries


def _notify(person: Person, subject: str, body: str, dedupe_key: str | None = None) -> None:
    if person.preferred_channel == ContactChannel.sms and person.phone:
        notify.queue(notify.Text(to=person.phone, body=body, dedupe_key=dedupe_key))
    elif person.email:
        notify.queue(notify.Email(to=person.email, subject=subject, body=body))
    elif person.phone:
        notify.queue(notify.Text(to=person.phone, body=body, dedupe_key=dedupe_key))


def _visible_entry(actor: Actor, entry_id: int) -> tuple[TimesheetEntry, TeamAccess]:
    entry = db.session.get(TimesheetEntry, entry_id)
    if entry is None:
        raise NotFound("No such timesheet entry.")
    access = team_access(actor, entry.team)
    if not perm.can_see_entry(access, entry.person_id):
        raise NotFound("No such timesheet entry.")
    return entry, access


def _step(entry: TimesheetEntry, action: TimesheetAction) -> None:
    try:
        entry.status = rules.next_status(entry.status, action)
    except rules.InvalidTransition as exc:
        raise Conflict(str(exc), code="invalid_transition") from None


def get_entry(actor: Actor, entry_id: int) -> TimesheetEntry:
    """One entry, for its worker, the team's checkers and the co-op's facilitators."""
    return _visible_entry(actor, entry_id)[0]


def _check_times(started_at: datetime, ended_at: datetime, break_minutes: int, now: datetime,
                 field: str = "ended_at") -> None:
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
    team, access = _team(actor, team_id)
    ensure(perm.can_log_hours(access))
    _check_times(data["started_at"], data["ended_at"], data.get("break_minutes", 0), now)
    entry = TimesheetEntry(team_id=team.id, person_id=actor.person_id, created_by_id=actor.person_id,
                           status=TimesheetStatus.pending, **data)
    db.session.add(entry)
    db.session.flush()
    return entry


EDITABLE = ("started_at", "ended_at", "break_minutes", "travel_minutes", "waiting_minutes", "mileage", "note")


def update_entry(actor: Actor, entry_id: int, changes: dict, now: datetime | None = None) -> TimesheetEntry:
    """The worker corrects their own pending entry."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_act_as_worker(access, entry.person_id))
    _step(entry, A.edit)
    values = {k: changes.get(k, getattr(entry, k)) for k in EDITABLE}
    _check_times(values["started_at"], values["ended_at"], values["break_minutes"], now)
    for key in EDITABLE:
        if key in changes:
            setattr(entry, key, changes[key])
    db.session.flush()
    return entry


def submit_entry(actor: Actor, entry_id: int, now: datetime | None = None) -> TimesheetEntry:
    """The worker says this is what happened; the team's checkers are told."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_act_as_worker(access, entry.person_id))
    _step(entry, A.submit)
    entry.submitted_at = now
    db.session.flush()
    for person in _checkers_of(entry.team, now, exclude=entry.person_id):
        _notify(person, "Hours to confirm", f"Hours for {entry.team.display_name}'s team are waiting for you to confirm.")
    return entry


def _confirm(entry: TimesheetEntry, by_id: int | None, now: datetime, action: TimesheetAction) -> None:
    _step(entry, action)
    entry.confirmed_at = now
    entry.confirmed_by_id = by_id
    entry.auto_confirmed = action == A.auto_confirm


def confirm_entry(actor: Actor, entry_id: int, now: datetime | None = None) -> TimesheetEntry:
    """The leader or an Hours checker confirms submitted hours (never their own)."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_check_entry(access, entry.person_id))
    _confirm(entry, actor.person_id, now, A.confirm)
    db.session.flush()
    return entry


def propose_adjustment(actor: Actor, entry_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """A checker proposes other times; the worker accepts or rejects them."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_check_entry(access, entry.person_id))
    started = data.get("started_at", entry.started_at)
    ended = data.get("ended_at", entry.ended_at)
    breaks = data.get("break_minutes", entry.break_minutes)
    _check_times(started, ended, breaks, now)
    _step(entry, A.adjust)
    entry.proposed_started_at, entry.proposed_ended_at = started, ended
    entry.proposed_break_minutes = breaks
    entry.proposed_travel_minutes = data.get("travel_minutes", entry.travel_minutes)
    entry.proposal_note = data.get("note") or ""
    entry.proposed_by_id = actor.person_id
    db.session.flush()
    _notify(entry.person, "Your hours: a change is proposed",
            f"A change to your hours with {entry.team.display_name}'s team is proposed. Please accept or reject it.")
    return entry


def accept_adjustment(actor: Actor, entry_id: int, now: datetime | None = None) -> TimesheetEntry:
    """The worker accepts the proposed figures: the entry is confirmed with them."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_act_as_worker(access, entry.person_id))
    if entry.status == TimesheetStatus.adjustment_proposed:
        entry.started_at, entry.ended_at = entry.proposed_started_at, entry.proposed_ended_at
        entry.break_minutes = entry.proposed_break_minutes
        entry.travel_minutes = entry.proposed_travel_minutes
    # Both sides agree: the checker proposed these figures, the worker accepts them.
    _confirm(entry, entry.proposed_by_id, now, A.accept)
    db.session.flush()
    return entry


def _open_dispute(entry: TimesheetEntry, by_id: int, comment: str, now: datetime, action: TimesheetAction) -> None:
    _step(entry, action)
    entry.disputed_at, entry.disputed_by_id, entry.dispute_comment = now, by_id, comment
    for person in _facilitators(entry.team.cooperative_id):
        _notify(person, "Hours in dispute", f"Hours for {entry.team.display_name}'s team are in dispute (entry {entry.id}).")


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
    return entry


def resolve_dispute(actor: Actor, entry_id: int, data: dict, now: datetime | None = None) -> TimesheetEntry:
    """A facilitator settles a dispute: confirmed with the figures they settle on, or void."""
    now = now or utcnow()
    entry, access = _visible_entry(actor, entry_id)
    ensure(perm.can_resolve_dispute(access, entry.person_id))
    if data["outcome"] == "void":
        _step(entry, A.resolve_void)
    else:
        started = data.get("started_at", entry.started_at)
        ended = data.get("ended_at", entry.ended_at)
        breaks = data.get("break_minutes", entry.break_minutes)
        if entry.status == TimesheetStatus.disputed:
            _check_times(started, ended, breaks, now)
            entry.started_at, entry.ended_at, entry.break_minutes = started, ended, breaks
            entry.travel_minutes = data.get("travel_minutes", entry.travel_minutes)
        _confirm(entry, actor.person_id, now, A.resolve)
    entry.resolved_by_id, entry.resolved_at, entry.resolution_note = actor.person_id, now, data.get("note") or ""
    db.session.flush()
    _notify(entry.person, "Your hours: dispute settled",
            f"The dispute about your hours with {entry.team.display_name}'s team is settled.")
    return entry


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
    _check_times(values["started_at"], values["ended_at"], values["break_minutes"], now)
    entry = TimesheetEntry(team_id=original.team_id, person_id=original.person_id, shift_id=original.shift_id,
                           kind=original.kind, corrects_id=original.id, created_by_id=actor.person_id,
                           status=TimesheetStatus.pending, **values)
    db.session.add(entry)
    db.session.flush()
    return entry


# ---------------------------------------------------------------- lists


def my_entries(actor: Actor, limit: int = 200) -> list[TimesheetEntry]:
    """The actor's own entries, newest first."""
    return list(db.session.scalars(sa.select(TimesheetEntry).where(TimesheetEntry.person_id == actor.person_id)
                                   .order_by(TimesheetEntry.started_at.desc()).limit(limit)))


def _checker_team_ids(actor: Actor, now: datetime) -> list[int]:
    """Teams where the actor leads, arranges or wears a hat with confirm_hours."""
    from careteams.teams.models import Arranger, HatType

    led = set(db.session.scalars(sa.select(Team.id).where(Team.leader_id == actor.person_id)))
    arranged = set(db.session.scalars(sa.select(Arranger.team_id).where(
        Arranger.person_id == actor.person_id, Arranger.ended_at.is_(None))))
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


def disputes(actor: Actor, cooperative_id: int) -> list[TimesheetEntry]:
    """Disputed entries in the co-op (its facilitators)."""
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    return list(db.session.scalars(sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
        Team.cooperative_id == cooperative_id, TimesheetEntry.status == TimesheetStatus.disputed)
        .order_by(TimesheetEntry.disputed_at)))


def _checkers_of(team: Team, now: datetime, exclude: int) -> list[Person]:
    from careteams.teams.models import HatType

    hats = db.session.scalars(sa.select(Hat).join(HatType, HatType.id == Hat.hat_type_id)
                              .where(Hat.team_id == team.id, Hat.status == HatStatus.accepted)).all()
    ids = {team.leader_id} | {h.person_id for h in hats
                              if h.in_force(now) and TeamPermission.confirm_hours.value in h.hat_type.permissions}
    ids.discard(exclude)
    return list(db.session.scalars(sa.select(Person).where(Person.id.in_(ids), Person.active)))


def _facilitators(cooperative_id: int) -> list[Person]:
    return list(db.session.scalars(sa.select(Person).join(StaffRole, StaffRole.person_id == Person.id).where(
        StaffRole.cooperative_id == cooperative_id, StaffRole.role == StaffRoleName.facilitator, Person.active)))


# ---------------------------------------------------------------- clock jobs

KIND_OF_SHIFT = {ShiftKind.overnight: EntryKind.overnight, ShiftKind.sleep_in: EntryKind.sleep_in}
LOOKBACK = timedelta(days=14)


def create_pending_entries(now: datetime) -> int:
    """A pending entry for each booked shift that has ended, and for each booked shift
    cancelled at short notice when the co-op pays for those. Idempotent: one per shift."""
    have = sa.select(TimesheetEntry.id).where(TimesheetEntry.shift_id == Shift.id).exists()
    shifts = db.session.scalars(sa.select(Shift).where(
        Shift.booked_person_id.is_not(None), Shift.ends_at <= now, Shift.ends_at > now - LOOKBACK,
        Shift.status.in_((ShiftStatus.booked, ShiftStatus.completed, ShiftStatus.cancelled)), ~have)).all()
    made = 0
    for shift in shifts:
        kind = KIND_OF_SHIFT.get(shift.kind, EntryKind.visit)
        if shift.status == ShiftStatus.cancelled:
            settings = settings_for(shift.team.cooperative_id)
            if not rules.cancellation_pay_due(shift.notice_minutes, settings.cancellation_notice_hours,
                                              settings.cancellation_pay_percent):
                continue
            kind = EntryKind.cancellation
        entry = TimesheetEntry(team_id=shift.team_id, person_id=shift.booked_person_id, shift_id=shift.id, kind=kind,
                               status=TimesheetStatus.pending, started_at=shift.starts_at, ended_at=shift.ends_at,
                               break_minutes=0 if kind == EntryKind.cancellation else shift.break_minutes,
                               note="Cancelled at short notice" if kind == EntryKind.cancellation else "")
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
        except IntegrityError:
            continue  # another clock made it first
        made += 1
    return made


def auto_confirm_due(now: datetime) -> int:
    """Submitted entries nobody answered within the co-op's time are confirmed, and say so."""
    rows = db.session.scalars(sa.select(TimesheetEntry).where(
        TimesheetEntry.status == TimesheetStatus.submitted, TimesheetEntry.submitted_at <= now - timedelta(hours=1))).all()
    done = 0
    for entry in rows:
        hours = settings_for(entry.team.cooperative_id).auto_confirm_hours
        if rules.due_for_auto_confirm(entry.status, entry.submitted_at, now, hours):
            _confirm(entry, None, now, A.auto_confirm)
            done += 1
    db.session.flush()
    return done


def remind_pending(now: datetime) -> int:
    """Remind workers of entries they have not submitted, at most once a day (dedupe keyed)."""
    rows = db.session.scalars(sa.select(TimesheetEntry).where(
        TimesheetEntry.status == TimesheetStatus.pending, TimesheetEntry.ended_at <= now - timedelta(hours=2))).all()
    sent = 0
    for entry in rows:
        today = now.astimezone(ZoneInfo(entry.team.zone)).date()
        if not rules.reminder_due(entry.status, entry.last_reminded_on, today):
            continue
        claimed = db.session.execute(sa.update(TimesheetEntry).where(
            TimesheetEntry.id == entry.id, TimesheetEntry.status == TimesheetStatus.pending,
            sa.or_(TimesheetEntry.last_reminded_on.is_(None), TimesheetEntry.last_reminded_on < today))
            .values(last_reminded_on=today).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        db.session.refresh(entry)
        _notify(entry.person, "Please submit your hours",
                f"Please check and submit your hours for {entry.team.display_name}'s team.",
                dedupe_key=f"hours-remind-{entry.id}-{today.isoformat()}")
        sent += 1
    db.session.flush()
    return sent


# ---------------------------------------------------------------- SMS: DONE 482


@dataclass(frozen=True)
class DoneResult:
    outcome: str  # submitted, unknown_code, already_done, bad_times, not_finished
    entry: TimesheetEntry | None = None


def done_by_code(person: Person, code: str, times: tuple[time, time] | None, now: datetime | None = None) -> DoneResult:
    """`DONE 482` submits the visit's hours as planned; `DONE 482 10:05-13:10` with those
    times (the team's zone). Makes the pending entry if the clock has not yet."""
    now = now or utcnow()
    shift = db.session.scalar(
        sa.select(Shift).join(Offer, Offer.shift_id == Shift.id)
        .where(Offer.person_id == person.id, Offer.code == code.strip(), Offer.status == OfferStatus.accepted,
               Shift.booked_person_id == person.id, Shift.status.in_((ShiftStatus.booked, ShiftStatus.completed)),
               Shift.starts_at > now - LOOKBACK)
        .order_by(Shift.starts_at.desc()).limit(1))
    if shift is None:
        return DoneResult("unknown_code")
    if shift.starts_at > now:
        return DoneResult("not_finished")
    entry = db.session.scalar(sa.select(TimesheetEntry).where(TimesheetEntry.shift_id == shift.id,
                                                              TimesheetEntry.corrects_id.is_(None)))
    if entry is None:
        entry = TimesheetEntry(team_id=shift.team_id, person_id=person.id, shift_id=shift.id,
                               kind=KIND_OF_SHIFT.get(shift.kind, EntryKind.visit), status=TimesheetStatus.pending,
                               started_at=shift.starts_at, ended_at=shift.ends_at, break_minutes=shift.break_minutes)
        db.session.add(entry)
        db.session.flush()
    if entry.status != TimesheetStatus.pending:
        return DoneResult("already_done", entry)
    from careteams.members.services import actor_for

    actor = actor_for(person)
    if times is not None:
        zone = shift.team.zone
        local_day = shift.starts_at.astimezone(ZoneInfo(zone)).date()
        try:
            started, ended = rules.local_times(local_day, (times[0].hour, times[0].minute),
                                               (times[1].hour, times[1].minute), zone)
            update_entry(actor, entry.id, {"started_at": started, "ended_at": ended}, now)
        except (ValidationError, ValueError):
            return DoneResult("bad_times", entry)
    submit_entry(actor, entry.id, now)
    return DoneResult("submitted", entry)


# ---------------------------------------------------------------- pricing


def _profile(cooperative_id: int, person_id: int) -> WorkerProfile | None:
    return db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.cooperative_id == cooperative_id,
                                                            WorkerProfile.person_id == person_id))


class Unpriced(Exception):
    pass


def terms_for(entry: TimesheetEntry, profile: WorkerProfile | None, settings: HoursSettings) -> rules.PayTerms:
    """What an entry is paid at: the rate in force on the local day the work started."""
    team = entry.team
    day = entry.started_at.astimezone(ZoneInfo(team.zone)).date()
    bank_holiday = day in rules.load_wage_table()["bank_holidays"]
    common = dict(sleep_in_pence=settings.sleep_in_allowance_pence,
                  cancellation_percent=settings.cancellation_pay_percent,
                  mileage_pence_per_mile=settings.mileage_pence_per_mile, charge_percent=settings.charge_percent,
                  deduction_percent=settings.deduction_percent, bank_holiday=bank_holiday)
    if profile is not None and profile.employment_type == EmploymentType.employed:
        band = db.session.scalar(sa.select(TeamHoursTerms.area_band).where(TeamHoursTerms.team_id == team.id)) \
            or AreaBand.urban
        rates = db.session.scalars(sa.select(CoopPayRate).where(
            CoopPayRate.cooperative_id == team.cooperative_id, CoopPayRate.area_band == band,
            CoopPayRate.effective_from <= day).order_by(CoopPayRate.effective_from.desc()).limit(1)).first()
        if rates is None:
            raise Unpriced(f"no {band.value} pay rate for {day.isoformat()}")
        return rules.PayTerms(employed=True, hourly_pence=rates.hourly_rate_pence,
                              night_pence=rates.night_enhancement_pence,
                              bank_holiday_pence=rates.bank_holiday_enhancement_pence, **common)
    agreed = db.session.scalars(sa.select(WorkerRate).where(
        WorkerRate.person_id == entry.person_id, WorkerRate.cooperative_id == team.cooperative_id,
        sa.or_(WorkerRate.team_id == team.id, WorkerRate.team_id.is_(None)), WorkerRate.effective_from <= day)
        .order_by(WorkerRate.team_id.is_(None), WorkerRate.effective_from.desc()).limit(1)).first()
    pence = agreed.hourly_rate_pence if agreed else (profile.hourly_rate_pence if profile else None)
    if not pence:
        raise Unpriced("no hourly rate for this worker")
    return rules.PayTerms(employed=False, hourly_pence=pence, **common)


def facts_of(entry: TimesheetEntry) -> rules.EntryFacts:
    return rules.EntryFacts(kind=entry.kind, worked_minutes=rules.worked_minutes(
        entry.started_at, entry.ended_at, entry.break_minutes), travel_minutes=entry.travel_minutes,
        mileage=entry.mileage)


def working_minutes_of(entry: TimesheetEntry) -> int:
    """Minimum-wage working time: visit time, travel between visits, waiting. A sleep-in's
    sleeping hours and a cancelled visit are not working time (nor is their pay counted)."""
    if entry.kind in (EntryKind.sleep_in, EntryKind.cancellation):
        return 0
    return rules.worked_minutes(entry.started_at, entry.ended_at, entry.break_minutes) \
        + entry.travel_minutes + entry.waiting_minutes


WAGE_ELEMENTS = frozenset({"hours", "travel", "night_enhancement", "bank_holiday_enhancement"})


# ---------------------------------------------------------------- runs


@dataclass
class RunOutcome:
    run: PayRun
    created: bool
    held_back: list[tuple[int, str]] = field(default_factory=list)  # (entry id, why)


def close_run(actor: Actor, cooperative_id: int, period_start: date, now: datetime | None = None) -> RunOutcome:
    """Make (and close) the co-op's run for the period starting on `period_start`.

    Takes every confirmed entry not yet in any run that started before the period's
    end, so an entry confirmed after an earlier run closed goes into this one. Asking
    again for a closed period returns the same run with the same stored figures.
    """
    now = now or utcnow()
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    coop = db.session.get(Cooperative, cooperative_id)
    settings = settings_for(cooperative_id)
    try:
        start, end = rules.period_bounds(settings.pay_frequency, period_start)
    except ValueError as exc:
        raise ValidationError(details={"fields": {"period_start": [str(exc)]}}) from None
    if rules.local_midnight_utc(end, coop.timezone) > now:
        raise ValidationError(details={"fields": {"period_start": ["The period has not ended yet."]}})
    existing = db.session.scalar(sa.select(PayRun).where(
        PayRun.cooperative_id == cooperative_id, PayRun.frequency == settings.pay_frequency,
        PayRun.period_start == start))
    if existing is not None:
        return RunOutcome(existing, False)
    run = PayRun(cooperative_id=cooperative_id, frequency=settings.pay_frequency, period_start=start,
                 period_end=end, closed_at=now, created_by_id=actor.person_id)
    db.session.add(run)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("That run is being made by someone else; try again.", code="run_in_progress") from None
    cutoff = rules.local_midnight_utc(end, coop.timezone)
    in_a_run = sa.select(RunEntry.id).where(RunEntry.entry_id == TimesheetEntry.id).exists()
    entries = db.session.scalars(sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
        Team.cooperative_id == cooperative_id, TimesheetEntry.status == TimesheetStatus.confirmed,
        TimesheetEntry.confirmed_at <= now, TimesheetEntry.started_at < cutoff, ~in_a_run)
        .order_by(TimesheetEntry.started_at, TimesheetEntry.id)).all()
    held_back: list[tuple[int, str]] = []
    profiles: dict[int, WorkerProfile | None] = {}
    for entry in entries:
        if entry.person_id not in profiles:
            profiles[entry.person_id] = _profile(cooperative_id, entry.person_id)
        profile = profiles[entry.person_id]
        if _superseded(entry):
            # Corrected before it was ever paid: the correction's figures replace it. It is
            # still recorded (with no lines) so it is settled and never picked up again.
            _record(run, entry, profile, [], working=0, start=start)
            continue
        try:
            terms = terms_for(entry, profile, settings)
        except Unpriced as exc:
            held_back.append((entry.id, str(exc)))
            continue
        lines = rules.pay_lines(facts_of(entry), terms)
        reversal = _reversal_lines(entry)
        _record(run, entry, profile, lines + reversal, working=working_minutes_of(entry) - _reversed_minutes(entry),
                start=start)
    db.session.flush()
    _flag_fair_pay(run)
    return RunOutcome(run, True, held_back)


def _reversal_lines(entry: TimesheetEntry) -> list[rules.PayLine]:
    """When the corrected original was already paid, the correction also reverses its lines."""
    if entry.corrects_id is None:
        return []
    paid = db.session.scalar(sa.select(RunEntry).where(RunEntry.entry_id == entry.corrects_id))
    if paid is None:
        return []
    lines = db.session.scalars(sa.select(RunLine).where(RunLine.run_entry_id == paid.id)).all()
    return [rules.PayLine(f"reversal:{line.element}", -line.quantity, line.rate_pence, -line.pay_pence,
                          -line.charge_pence) for line in lines]


def _reversed_minutes(entry: TimesheetEntry) -> int:
    if entry.corrects_id is None:
        return 0
    paid = db.session.scalar(sa.select(RunEntry).where(RunEntry.entry_id == entry.corrects_id))
    return paid.working_minutes if paid else 0


def _record(run: PayRun, entry: TimesheetEntry, profile: WorkerProfile | None, lines: list[rules.PayLine], *,
            working: int, start: date) -> None:
    employed = profile is not None and profile.employment_type == EmploymentType.employed
    band = rules.age_band(profile.date_of_birth if profile else None, start)
    run_entry = RunEntry(run_id=run.id, entry_id=entry.id, person_id=entry.person_id, team_id=entry.team_id,
                         employed=employed, working_minutes=working, age_band=band)
    db.session.add(run_entry)
    db.session.flush()
    for line in lines:
        element = line.element.removeprefix("reversal:")
        db.session.add(RunLine(run_entry_id=run_entry.id, element=line.element, quantity=line.quantity,
                               rate_pence=line.rate_pence, pay_pence=line.pay_pence, charge_pence=line.charge_pence,
                               wage_pay=element in WAGE_ELEMENTS))
    charge = sum(line.charge_pence for line in lines)
    if charge:
        funders = _funders(entry.team_id)
        if funders:
            parts = rules.split_by_shares(charge, [f.share_percent for f in funders])
            for funder, part in zip(funders, parts, strict=True):
                db.session.add(RunInvoiceLine(run_entry_id=run_entry.id, funder_id=funder.id, funder_name=funder.name,
                                              funder_kind=funder.kind.value, share_percent=funder.share_percent,
                                              amount_pence=part))
        else:
            db.session.add(RunInvoiceLine(run_entry_id=run_entry.id, funder_id=None, funder_name="No funder set",
                                          funder_kind="none", share_percent=100, amount_pence=charge))


def _run_for(actor: Actor, run_id: int) -> PayRun:
    run = db.session.get(PayRun, run_id)
    if run is None:
        raise NotFound("No such run.")
    ensure(perm.can_run_pay(actor, run.cooperative_id),
           not_found=not actor.is_staff(run.cooperative_id) and run.cooperative_id not in actor.member_of)
    return run


def list_runs(actor: Actor, cooperative_id: int) -> list[PayRun]:
    """The co-op's runs, newest first (facilitators)."""
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    return list(db.session.scalars(sa.select(PayRun).where(PayRun.cooperative_id == cooperative_id)
                                   .order_by(PayRun.period_start.desc())))


@dataclass
class FairPayRow:
    person_id: int
    name: str
    employed: bool
    band: str
    result: rules.FairPay


@dataclass
class RunReport:
    run: PayRun
    payroll: list[dict]  # employed: one row per worker per pay element
    statements: list[dict]  # independent: one per worker, with lines
    invoices: list[dict]  # one per funder per team
    fair_pay: list[FairPayRow]
    totals: dict[str, int]


BAND_LABELS = {"21_and_over": "21 and over", "18_to_20": "18 to 20", "under_18": "under 18"}


def _fair_pay_rows(run: PayRun) -> list[FairPayRow]:
    entries = db.session.scalars(sa.select(RunEntry).where(RunEntry.run_id == run.id)).all()
    pay: dict[int, int] = defaultdict(int)
    minutes: dict[int, int] = defaultdict(int)
    info: dict[int, tuple[bool, str]] = {}
    for run_entry in entries:
        minutes[run_entry.person_id] += run_entry.working_minutes
        info[run_entry.person_id] = (run_entry.employed, run_entry.age_band)
    for line in db.session.scalars(sa.select(RunLine).join(RunEntry).where(RunEntry.run_id == run.id, RunLine.wage_pay)):
        pay[line.run_entry.person_id] += line.pay_pence
    rows = []
    for person_id in sorted(info):
        employed, band = info[person_id]
        if minutes[person_id] <= 0:
            continue
        minimum = rules.minimum_hourly_pence(band, run.period_start)
        if minimum is None:
            continue
        person = db.session.get(Person, person_id)
        rows.append(FairPayRow(person_id, person.name, employed, band,
                               rules.fair_pay(pay[person_id], minutes[person_id], minimum[0],
                                              BAND_LABELS.get(band, band))))
    return rows


def _flag_fair_pay(run: PayRun) -> None:
    below = [row for row in _fair_pay_rows(run) if row.employed and row.result.below]
    if not below:
        return
    body = "Effective hourly pay below the legal minimum in the run for " \
           f"{run.period_start.isoformat()}:\n" + "\n".join(f"- {row.name}: {row.result.arithmetic}" for row in below)
    for person in _facilitators(run.cooperative_id):
        if person.email:
            notify.queue(notify.Email(to=person.email, subject="Fair-pay check: pay below the minimum", body=body))


def run_report(actor: Actor, run_id: int) -> RunReport:
    """A run's payroll rows, statements, invoices and fair-pay check, from its stored lines."""
    run = _run_for(actor, run_id)
    lines = db.session.execute(
        sa.select(RunLine, RunEntry, Person.name, Team.display_name).join(RunEntry, RunEntry.id == RunLine.run_entry_id)
        .join(Person, Person.id == RunEntry.person_id).join(Team, Team.id == RunEntry.team_id)
        .where(RunEntry.run_id == run.id).order_by(Person.name, RunEntry.person_id, RunLine.element, RunLine.id)).all()
    payroll: dict[tuple[int, str], dict] = {}
    statements: dict[int, dict] = {}
    for line, run_entry, name, team_name in lines:
        if run_entry.employed:
            row = payroll.setdefault((run_entry.person_id, line.element), {
                "person_id": run_entry.person_id, "name": name, "element": line.element,
                "quantity": Decimal(0), "amount_pence": 0})
            row["quantity"] += line.quantity
            row["amount_pence"] += line.pay_pence
        else:
            statement = statements.setdefault(run_entry.person_id, {
                "person_id": run_entry.person_id, "name": name, "lines": [], "total_pence": 0})
            statement["lines"].append({"entry_id": run_entry.entry_id, "team": team_name, "element": line.element,
                                       "quantity": line.quantity, "rate_pence": line.rate_pence,
                                       "amount_pence": line.pay_pence})
            statement["total_pence"] += line.pay_pence
    invoices: dict[tuple[int, str], dict] = {}
    for inv, run_entry, team_name in db.session.execute(
            sa.select(RunInvoiceLine, RunEntry, Team.display_name).join(RunEntry, RunEntry.id == RunInvoiceLine.run_entry_id)
            .join(Team, Team.id == RunEntry.team_id).where(RunEntry.run_id == run.id)
            .order_by(Team.display_name, RunInvoiceLine.funder_name, RunEntry.entry_id)).all():
        key = (run_entry.team_id, inv.funder_name)
        invoice = invoices.setdefault(key, {"team_id": run_entry.team_id, "team": team_name,
                                            "funder_id": inv.funder_id, "funder": inv.funder_name,
                                            "funder_kind": inv.funder_kind, "lines": [], "total_pence": 0})
        invoice["lines"].append({"entry_id": run_entry.entry_id, "share_percent": inv.share_percent,
                                 "amount_pence": inv.amount_pence})
        invoice["total_pence"] += inv.amount_pence
    totals = {"payroll_pence": sum(r["amount_pence"] for r in payroll.values()),
              "statements_pence": sum(s["total_pence"] for s in statements.values()),
              "invoiced_pence": sum(i["total_pence"] for i in invoices.values())}
    return RunReport(run, list(payroll.values()), list(statements.values()), list(invoices.values()),
                     _fair_pay_rows(run), totals)


def payroll_csv(report: RunReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period_start", "period_end", "person_id", "name", "pay_element", "quantity", "amount_gbp"])
    for row in report.payroll:
        writer.writerow([report.run.period_start, report.run.period_end, row["person_id"], row["name"], row["element"],
                         row["quantity"], rules.pounds(row["amount_pence"]).lstrip("£").replace(",", "")])
    return out.getvalue()


def invoice_for(report: RunReport, team_id: int, funder_id: int | None) -> dict:
    for invoice in report.invoices:
        if invoice["team_id"] == team_id and invoice["funder_id"] == funder_id:
            return invoice
    raise NotFound("No such invoice in this run.")


def invoice_csv(report: RunReport, invoice: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period_start", "period_end", "team", "funder", "entry_id", "share_percent", "amount_gbp"])
    for line in invoice["lines"]:
        writer.writerow([report.run.period_start, report.run.period_end, invoice["team"], invoice["funder"],
                         line["entry_id"], line["share_percent"],
                         rules.pounds(line["amount_pence"]).lstrip("£").replace(",", "")])
    writer.writerow(["", "", "", "", "total", "", rules.pounds(invoice["total_pence"]).lstrip("£").replace(",", "")])
    return out.getvalue()


# ---------------------------------------------------------------- a worker's own figure


def my_fair_pay(actor: Actor, month: date) -> list[dict]:
    """The worker's own effective hourly pay for a month from their confirmed entries, after
    the co-op's deduction for independent workers, against the legal minimum for their age."""
    first, end = rules.period_bounds(Frequency.monthly, month.replace(day=1))
    entries = db.session.scalars(sa.select(TimesheetEntry).where(
        TimesheetEntry.person_id == actor.person_id, TimesheetEntry.status == TimesheetStatus.confirmed,
        TimesheetEntry.started_at >= datetime.combine(first, time(), UTC) - timedelta(days=1),
        TimesheetEntry.started_at < datetime.combine(end, time(), UTC) + timedelta(days=1))).all()
    by_coop: dict[int, list[TimesheetEntry]] = defaultdict(list)
    for entry in entries:
        if first <= entry.started_at.astimezone(ZoneInfo(entry.team.zone)).date() < end \
                and not _superseded(entry):
            by_coop[entry.team.cooperative_id].append(entry)
    out = []
    for coop_id, rows in by_coop.items():
        profile = _profile(coop_id, actor.person_id)
        settings = settings_for(coop_id)
        pay, minutes = 0, 0
        for entry in rows:
            try:
                lines = rules.pay_lines(facts_of(entry), terms_for(entry, profile, settings))
            except Unpriced:
                continue
            pay += sum(line.pay_pence for line in lines if line.element in WAGE_ELEMENTS)
            minutes += working_minutes_of(entry)
        band = rules.age_band(profile.date_of_birth if profile else None, first)
        minimum = rules.minimum_hourly_pence(band, first)
        if minimum and minutes:
            out.append({"cooperative_id": coop_id, "month": first, "result": rules.fair_pay(
                pay, minutes, minimum[0], BAND_LABELS.get(band, band))})
    return out


def _superseded(entry: TimesheetEntry) -> bool:
    return bool(db.session.scalar(sa.select(TimesheetEntry.id).where(
        TimesheetEntry.corrects_id == entry.id, TimesheetEntry.status == TimesheetStatus.confirmed)))


# ---------------------------------------------------------------- figures


def figures(actor: Actor, cooperative_id: int, first: date, last: date) -> list[dict]:
    """Per month: hours delivered, active teams and workers, turnover (annualised) and the
    share of confirmed hours never disputed (facilitators)."""
    ensure(perm.can_run_pay(actor, cooperative_id),
           not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    coop = db.session.get(Cooperative, cooperative_id)
    out = []
    for month in rules.month_starts(first, last):
        _, end = rules.period_bounds(Frequency.monthly, month)
        lo, hi = rules.local_midnight_utc(month, coop.timezone), rules.local_midnight_utc(end, coop.timezone)
        entries = db.session.scalars(sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
            Team.cooperative_id == cooperative_id, TimesheetEntry.status == TimesheetStatus.confirmed,
            TimesheetEntry.started_at >= lo, TimesheetEntry.started_at < hi)).all()
        entries = [e for e in entries if not _superseded(e)]
        delivered = [e for e in entries if e.kind != EntryKind.cancellation]
        minutes = sum(rules.worked_minutes(e.started_at, e.ended_at, e.break_minutes) for e in delivered)
        undisputed = sum(rules.worked_minutes(e.started_at, e.ended_at, e.break_minutes)
                         for e in delivered if e.disputed_at is None)
        paid = sa.select(TeamMember).join(Team, Team.id == TeamMember.team_id).where(
            Team.cooperative_id == cooperative_id, TeamMember.role == TeamRole.paid_worker)

        rows = db.session.scalars(paid).all()
        still = {m.person_id for m in rows if m.status in (TeamMemberStatus.active, TeamMemberStatus.trial)}
        leavers = len({m.person_id for m in rows if m.status == TeamMemberStatus.left and m.ended_on
                       and month <= m.ended_on < end} - still)
        out.append({
            "month": month.isoformat()[:7],
            "hours_delivered": Decimal(minutes) / 60 if minutes else Decimal(0),
            "active_teams": len({e.team_id for e in delivered}),
            "active_workers": len({e.person_id for e in delivered}),
            "leavers": leavers,
            "turnover_annualised_percent": rules.annualised_turnover_percent(
                leavers, _headcount(rows, month), _headcount(rows, end - timedelta(days=1))),
            "confirmed_without_dispute_percent": rules.share_percent(undisputed, minutes),
        })
    return out


def _headcount(places: list[TeamMember], day: date) -> int:
    """Workers with a paid place in some team on `day`."""
    return len({m.person_id for m in places if m.status in (TeamMemberStatus.active, TeamMemberStatus.left)
                and (m.active_on or m.started_on or m.invited_at.date()) <= day
                and (m.ended_on is None or m.ended_on > day)})


def teams_to_log_in(actor: Actor) -> list[Team]:
    """Teams where the actor has a current (trial or active) place, for logging hours."""
    return list(db.session.scalars(sa.select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.person_id == actor.person_id,
        TeamMember.status.in_((TeamMemberStatus.active, TeamMemberStatus.trial))).order_by(Team.display_name)))


def zone_of_team(actor: Actor, team_id: int) -> str:
    """The team's time zone (for reading times typed on its clock); 404 if private."""
    return _team(actor, team_id)[0].zone
