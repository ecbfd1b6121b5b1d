"""One-off shifts: adding, editing (this visit or the following) and cancelling."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, ValidationError, ensure
from careteams.extensions import db
from careteams.hours import rules as hours_rules
from careteams.hours.services import rates as hours_rates
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftKind, ShiftSeries, ShiftStatus
from careteams.rota.services.checks import (
    findings_for,
    refuse_blocking,
    refuse_outside_business_window,
)
from careteams.rota.services.common import (
    ShiftView,
    booked_elsewhere,
    shift_for_update,
    team_shift,
    team_with_access,
    tell,
    unbook,
    visible_shift,
)
from careteams.rota.services.series import split_series
from careteams.rota.services.tasks import chosen_tasks, plan_tasks
from careteams.teams.models import Team


def create_shift(actor: Actor, team_id: int, data: dict) -> ShiftView:
    """Add a one-off shift to a team's rota (leader or Rota wrangler)."""
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    shift, findings = _new_shift(actor, team, access, data)
    refuse_blocking(findings)
    db.session.add(shift)
    db.session.flush()
    return ShiftView(shift, team.zone, findings, team_name=team.display_name)


def preview_shift(actor: Actor, team_id: int, data: dict) -> list[rules.Finding]:
    """What the rota's checks say about a new visit before it is saved (the same checks
    create_shift runs); a 422 for input it would refuse. Nothing is written."""
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    with db.session.no_autoflush:
        return _new_shift(actor, team, access, data)[1]


def _new_shift(actor: Actor, team: Team, access, data: dict) -> tuple[Shift, list[rules.Finding]]:
    """The unsaved shift `data` describes and its findings. `ends_at` or `duration_minutes`
    (true elapsed minutes from the start) gives the end."""
    end = data.get("ends_at")
    refuse_outside_business_window(team, {"starts_at": data["starts_at"].date(),
                                          "ends_at": end.date() if end is not None else None}, utcnow())
    if end is None:
        start = _one_time(data["starts_at"], team.zone, "starts_at")
        end = start + timedelta(minutes=int(data["duration_minutes"]))
    starts_at, ends_at = _times(data["starts_at"], end, team.zone)
    tasks = chosen_tasks(actor, team, access, data.get("tasks") or [])
    shift = Shift(team_id=team.id, starts_at=starts_at, ends_at=ends_at, kind=data["kind"],
                  required_skills=sorted(set(data.get("required_skills") or [])), notes=data.get("notes") or "",
                  break_minutes=data.get("break_minutes") or 0, is_trial=bool(data.get("is_trial")),
                  status=ShiftStatus.open, tasks=tasks)
    return shift, findings_for(shift, team, None)


def new_visit(actor: Actor, team_id: int) -> tuple[Team, list[str]]:
    """For the add-a-visit page (those who edit the rota): the team and the tasks of its
    current support plan a visit may be given."""
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    return team, plan_tasks(actor, team, access)


def end_after(start: datetime, minutes: int, zone: str) -> datetime:
    """The end of a visit that starts at the wall-clock time `start` and lasts `minutes` of real time."""
    return _one_time(start, zone, "starts_at") + timedelta(minutes=minutes)


def _one_time(value: datetime, zone: str, field: str) -> datetime:
    try:
        return rules.to_utc(value, zone)
    except rules.NonexistentLocalTime as exc:
        raise ValidationError(details={"fields": {field: [str(exc)]}}) from None
    except OverflowError:  # the edge of the calendar; the business window refuses these first
        raise ValidationError(details={"fields": {field: ["That date is out of range."]}}) from None


def _times(start: datetime, end: datetime, zone: str) -> tuple[datetime, datetime]:
    starts_at, ends_at = _one_time(start, zone, "starts_at"), _one_time(end, zone, "ends_at")
    if ends_at <= starts_at:
        raise ValidationError(details={"fields": {"ends_at": ["The end must be after the start."]}})
    if rules.duration(starts_at, ends_at) > timedelta(hours=24):
        raise ValidationError(details={"fields": {"ends_at": ["A shift lasts at most 24 hours."]}})
    return starts_at, ends_at


def update_shift(actor: Actor, shift_id: int, changes: dict, scope: str = "this", now: datetime | None = None) -> ShiftView:
    """Edit one visit ("this") or, for a recurring visit, this and the following ones."""
    now = now or utcnow()
    shift, team, access = visible_shift(actor, shift_id)
    ensure(perm.can_edit_rota(access))
    if shift.status in (ShiftStatus.completed, ShiftStatus.cancelled):
        raise Conflict("That shift is over or cancelled.", code="shift_closed")
    if scope == "following":
        if shift.series_id is None:
            raise ValidationError(details={"fields": {"scope": ["Only a recurring visit has following visits."]}})
        if "tasks" in changes:
            changes = {**changes, "tasks": chosen_tasks(actor, team, access, changes["tasks"] or [])}
        split_series(actor, shift, team, changes, now)
        db.session.refresh(shift)
        return ShiftView(shift, team.zone, findings_for(shift, team, shift.booked_person_id), team_name=team.display_name)
    # No autoflush until we know whether the booked worker is free at the new time: on
    # PostgreSQL flushing a clashing booking first would trip the exclusion constraint.
    with db.session.no_autoflush:
        if "starts_at" in changes or "ends_at" in changes:
            local = ZoneInfo(team.zone)
            start = changes.get("starts_at", shift.starts_at.astimezone(local))
            end = changes.get("ends_at", shift.ends_at.astimezone(local))
            refuse_outside_business_window(team, {"starts_at": start.date(), "ends_at": end.date()}, now)
            shift.starts_at, shift.ends_at = _times(start, end, team.zone)
        for key in ("kind", "notes", "break_minutes"):
            if key in changes:
                setattr(shift, key, changes[key])
        if "required_skills" in changes:
            shift.required_skills = sorted(set(changes["required_skills"]))
        if "tasks" in changes:
            shift.tasks = chosen_tasks(actor, team, access, changes["tasks"] or [])
        shift.detached = True
        clash = shift.booked_person_id is not None and booked_elsewhere(shift.booked_person_id, shift.starts_at, shift.ends_at, shift.id)
        findings = findings_for(shift, team, None if clash else shift.booked_person_id)
        refuse_blocking(findings)
    if clash:
        unbook(shift, "The shift moved to a time you are booked elsewhere.")
    db.session.flush()
    return ShiftView(shift, team.zone, findings, team_name=team.display_name)


def cancel_shift(actor: Actor, shift_id: int, reason: str, now: datetime | None = None) -> ShiftView:
    """Cancel a shift (e.g. a hospital admission); the notice given is recorded for pay."""
    now = now or utcnow()
    shift, team, access = visible_shift(actor, shift_id)
    ensure(perm.can_cancel_shift(access))
    shift = shift_for_update(shift.id)
    if shift.status in (ShiftStatus.completed, ShiftStatus.cancelled):
        raise Conflict("That shift is already over or cancelled.", code="shift_closed")
    worker = db.session.get(Person, shift.booked_person_id) if shift.booked_person_id else None
    shift.status = ShiftStatus.cancelled
    shift.cancelled_by_id = actor.person_id
    shift.cancelled_at = now
    shift.cancel_reason = reason
    shift.notice_minutes = rules.notice_minutes(now, shift.starts_at)
    for offer in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.code_live)):
        offer.code_live = False
        if offer.status == OfferStatus.open:
            offer.status = OfferStatus.withdrawn
    db.session.flush()
    if worker is not None:
        tell(worker, team, "A shift was cancelled", "cancelled", shift,
             dedupe_key=f"rota.cancelled:{shift.id}:{worker.id}")
    return ShiftView(shift, team.zone, [], team_name=team.display_name)


# ---------------------------------------------------------------- for the web's visit forms

CLOSED = (ShiftStatus.completed, ShiftStatus.cancelled)


@dataclass(frozen=True)
class VisitActions:
    """What this person may do to one visit from its page."""

    can_change: bool = False
    can_cancel: bool = False


def may_add_visits(actor: Actor, team_id: int) -> bool:
    """Whether the rota pages offer this person "Add a visit"."""
    _, access = team_with_access(actor, team_id)
    return perm.can_edit_rota(access)


def visit_actions(actor: Actor, shift_id: int) -> VisitActions:
    """The visit page's links: change and cancel, by the rota's permissions, while the visit is live."""
    shift, _, access = visible_shift(actor, shift_id)
    live = shift.status not in CLOSED
    return VisitActions(can_change=live and perm.can_edit_rota(access), can_cancel=live and perm.can_cancel_shift(access))


@dataclass
class VisitToEdit:
    view: ShiftView
    team: Team
    series_ends_on: date | None  # for a visit of a series
    in_series: bool
    clock_changes: list[date]  # the clock-change days the visit (or its series) crosses
    clock_words: str  # what happens on those days, in plain words
    plan_tasks: list[str] = field(default_factory=list)  # the tasks the visit may be given


def _live_visit(actor: Actor, team_id: int, shift_id: int, allowed) -> tuple[Shift, Team]:
    shift, team, _ = team_shift(actor, team_id, shift_id, allowed)
    if shift.status in CLOSED:
        raise Conflict("That visit is over or cancelled.", code="shift_closed")
    return shift, team


def visit_to_edit(actor: Actor, team_id: int, shift_id: int) -> VisitToEdit:
    """A live visit of the team, for the edit page (those who edit the rota), with the
    clock-change rule where the visit or its following visits cross a change."""
    shift, team = _live_visit(actor, team_id, shift_id, perm.can_edit_rota)
    _, access = team_with_access(actor, team_id)
    view = ShiftView(shift, team.zone, team_name=team.display_name)
    series = db.session.get(ShiftSeries, shift.series_id) if shift.series_id else None
    first = view.local_start.date()
    last = view.local_end.date()
    if series is not None:
        last = series.ends_on or first + timedelta(days=365)
    changes = rules.clock_changes_between(team.zone, first, last)
    if series is None and view.local_start.utcoffset() == view.local_end.utcoffset():
        changes = []  # a one-off visit that does not span a change
    words = rules.clock_change_words(ShiftKind(shift.kind).value) if series is not None else rules.ONE_OFF_CLOCK_WORDS
    return VisitToEdit(view, team, series.ends_on if series else None, series is not None, changes, words,
                       plan_tasks(actor, team, access))


@dataclass
class CancelNotice:
    """What cancelling a visit now would mean: the notice given and whether the booked
    worker is paid for it under the co-op's rules (hours.rules.cancellation_pay_due)."""

    view: ShiftView
    team: Team
    notice_minutes: int
    notice_words: str
    booked_name: str | None
    pay_due: bool
    pay_percent: Decimal
    short_notice_hours: int


def cancel_notice(actor: Actor, team_id: int, shift_id: int, now: datetime | None = None) -> CancelNotice:
    """For the cancel page: the notice a cancellation now gives, and whether a payment is due."""
    now = now or utcnow()
    shift, team = _live_visit(actor, team_id, shift_id, perm.can_cancel_shift)
    notice = rules.notice_minutes(now, shift.starts_at)
    settings = hours_rates.settings_for(team.cooperative_id)
    booked = shift.status == ShiftStatus.booked and shift.booked_person_id is not None
    due = booked and hours_rules.cancellation_pay_due(notice, settings.cancellation_notice_hours,
                                                      settings.cancellation_pay_percent)
    view = ShiftView(shift, team.zone, team_name=team.display_name)
    return CancelNotice(view, team, notice, rules.notice_words(notice), view.booked_person_name if booked else None,
                        due, settings.cancellation_pay_percent, settings.cancellation_notice_hours)
