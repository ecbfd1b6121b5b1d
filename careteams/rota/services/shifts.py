"""One-off shifts: adding, editing (this visit or the following) and cancelling."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, ValidationError, ensure
from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.permissions import Actor
from careteams.rota import permissions as perm
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services.checks import (
    findings_for,
    refuse_blocking,
    refuse_outside_business_window,
)
from careteams.rota.services.common import (
    ShiftView,
    booked_elsewhere,
    shift_for_update,
    team_with_access,
    tell,
    unbook,
    visible_shift,
)
from careteams.rota.services.series import split_series


def create_shift(actor: Actor, team_id: int, data: dict) -> ShiftView:
    """Add a one-off shift to a team's rota (leader or Rota wrangler)."""
    team, access = team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    refuse_outside_business_window(team, {"starts_at": data["starts_at"].date(), "ends_at": data["ends_at"].date()},
                                   utcnow())
    starts_at, ends_at = _times(data["starts_at"], data["ends_at"], team.zone)
    shift = Shift(team_id=team.id, starts_at=starts_at, ends_at=ends_at, kind=data["kind"],
                  required_skills=sorted(set(data.get("required_skills") or [])), notes=data.get("notes") or "",
                  break_minutes=data.get("break_minutes") or 0, is_trial=bool(data.get("is_trial")),
                  status=ShiftStatus.open)
    findings = findings_for(shift, team, None)
    refuse_blocking(findings)
    db.session.add(shift)
    db.session.flush()
    return ShiftView(shift, team.zone, findings, team_name=team.display_name)


def _times(start: datetime, end: datetime, zone: str) -> tuple[datetime, datetime]:
    try:
        starts_at, ends_at = rules.to_utc(start, zone), rules.to_utc(end, zone)
    except rules.NonexistentLocalTime as exc:
        raise ValidationError(details={"fields": {"starts_at": [str(exc)]}}) from None
    except OverflowError:  # the edge of the calendar; the business window refuses these first
        raise ValidationError(details={"fields": {"starts_at": ["That date is out of range."]}}) from None
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
