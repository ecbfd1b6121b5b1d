"""A worker's DONE text: submit a visit's hours by its offer code, as planned or with times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.enums import EntryEventKind, EntryKind, TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.hours.services import history
from careteams.hours.services.common import KIND_OF_SHIFT, LOOKBACK
from careteams.hours.services.timesheets import submit_entry, update_entry
from careteams.members.models import Person
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus


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
        history.record(entry, EntryEventKind.created, now, person.id, "worker", after=history.figures(entry))
    if entry.status != TimesheetStatus.pending:
        return DoneResult("already_done", entry)
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
