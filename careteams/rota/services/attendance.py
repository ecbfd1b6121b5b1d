"""Around the visit itself: reminders before it, the worker's arrival, missed-visit
alerts and completing shifts that have ended (the clock's jobs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from careteams.db import utcnow
from careteams.extensions import db
from careteams.jobs_util import run_each
from careteams.members.models import Person
from careteams.rota import rules
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services.common import OfferResult, circle_of, facilitators_of, own_booked, tell
from careteams.rota.services.settings import settings_for


def mark_arrival(person: Person, shift_id: int, now: datetime | None = None) -> OfferResult:
    """The booked worker says they have arrived."""
    return _arrive(person, own_booked(person, shift_id=shift_id), now or utcnow())


def mark_arrival_by_code(person: Person, code: str, now: datetime | None = None) -> OfferResult:
    """Mark arrival by the shift's code."""
    return _arrive(person, own_booked(person, code=code), now or utcnow())


def _arrive(person: Person, shift: Shift | None, now: datetime) -> OfferResult:
    if shift is None:
        return OfferResult("unknown_code", "That does not match a shift you are booked on.")
    if not rules.around_visit(shift.starts_at, shift.ends_at, now):
        return OfferResult("not_booked", "You can mark arrival only around the time of the shift.", shift)
    if shift.arrived_at is None:
        shift.arrived_at = now
        db.session.flush()
    return OfferResult("arrived", "Thanks, your arrival is recorded.", shift)


def complete_ended(now: datetime) -> int:
    """Booked shifts that have ended become completed; their codes are freed."""
    ended = db.session.scalars(sa.select(Shift).where(Shift.status == ShiftStatus.booked, Shift.ends_at <= now)).all()

    def complete(shift: Shift) -> None:
        shift.status = ShiftStatus.completed
        db.session.flush()

    done = run_each("rota.complete", ended, complete, key=lambda s: f"shift {s.id}",
                    cooperative=lambda s: s.team.cooperative_id).done
    db.session.execute(
        sa.update(Offer).where(Offer.code_live, Offer.shift_id.in_(
            sa.select(Shift.id).where(sa.or_(Shift.status.in_((ShiftStatus.completed, ShiftStatus.cancelled)),
                                             Shift.ends_at <= now))))
        .values(code_live=False).execution_options(synchronize_session=False))
    db.session.flush()
    return len(done)


def alert_missed_visits(now: datetime) -> int:
    """Nobody has arrived some minutes after a visit's start: tell the circle and facilitators."""
    candidates = db.session.scalars(sa.select(Shift).where(
        Shift.status == ShiftStatus.booked, Shift.arrived_at.is_(None), Shift.missed_alert_at.is_(None),
        Shift.starts_at <= now, Shift.starts_at > now - timedelta(hours=12))).all()

    def alert(shift: Shift) -> int:
        team = shift.team
        minutes = settings_for(team.cooperative_id).missed_visit_minutes
        if shift.starts_at + timedelta(minutes=minutes) > now:
            return 0
        shift.missed_alert_at = now
        people = {p.id: p for p in circle_of(team, now) + facilitators_of(team.cooperative_id)}
        for person in people.values():
            tell(person, team, "Visit may be missed", "missed_visit", shift,
                 dedupe_key=f"rota.missed:{shift.id}:{person.id}")
        db.session.flush()
        return 1

    return sum(run_each("rota.missed_visits", candidates, alert, key=lambda s: f"shift {s.id}",
                        cooperative=lambda s: s.team.cooperative_id).done)


def reminder_label(offset: timedelta) -> str:
    """'24h', '2h' or '90m': names an offset in a reminder's dedupe key."""
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def send_reminders(now: datetime, offsets: Sequence[timedelta]) -> int:
    """Remind each booked worker before their shift, once per offset (e.g. 24 h and 2 h).

    Only the latest reminder point already passed is sent (a clock that was down does
    not send a stale 24-hour reminder two hours before), and not to a worker booked
    after that point (they were just told). Cancelled, completed and re-booked shifts
    get nothing. The dedupe key `reminder:<shift>:<offset>:<person>` makes a re-run or
    a second clock harmless.
    """
    offsets = sorted({o for o in offsets if o > timedelta(0)})
    if not offsets:
        return 0
    shifts = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.team), selectinload(Shift.booked_person))
        .where(Shift.status == ShiftStatus.booked, Shift.booked_person_id.is_not(None),
               Shift.starts_at > now, Shift.starts_at <= now + offsets[-1])
        .order_by(Shift.starts_at, Shift.id)).all()
    if not shifts:
        return 0
    codes = dict(((o.shift_id, o.person_id), o.code) for o in db.session.scalars(sa.select(Offer).where(
        Offer.shift_id.in_([s.id for s in shifts]), Offer.status == OfferStatus.accepted, Offer.code_live)))

    def remind(shift: Shift) -> int:
        offset = next(o for o in offsets if shift.starts_at - o <= now)
        if shift.booked_at is not None and shift.booked_at > shift.starts_at - offset:
            return 0
        person = shift.booked_person
        if person is None or not person.active:
            return 0
        code = codes.get((shift.id, person.id))
        extra = {"code": code} if code else {}
        channel = tell(person, shift.team, "Shift reminder", "reminder" if code else "reminder_plain", shift,
                       dedupe_key=f"reminder:{shift.id}:{reminder_label(offset)}:{person.id}", **extra)
        db.session.flush()
        return int(channel != "none")

    return sum(run_each("rota.reminders", shifts, remind, key=lambda s: f"shift {s.id}",
                        cooperative=lambda s: s.team.cooperative_id).done)
