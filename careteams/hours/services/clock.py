"""The clock's timesheet use cases: pending entries for ended shifts, auto-confirmation, reminders."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from careteams.extensions import db
from careteams.hours import rules
from careteams.hours.enums import EntryEventKind, EntryKind, TimesheetAction, TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.hours.services import history
from careteams.hours.services.common import KIND_OF_SHIFT, LOOKBACK, mark_confirmed, notify_person
from careteams.hours.services.rates import settings_for
from careteams.jobs_util import run_each
from careteams.members.models import Cooperative
from careteams.rota.models import Shift, ShiftStatus
from careteams.teams.models import Team

A = TimesheetAction


def create_pending_entries(now: datetime) -> int:
    """A pending entry for each booked shift that has ended, and for each booked shift
    cancelled at short notice when the co-op pays for those. Idempotent: one per shift."""
    have = sa.select(TimesheetEntry.id).where(TimesheetEntry.shift_id == Shift.id).exists()
    shifts = db.session.scalars(sa.select(Shift).where(
        Shift.booked_person_id.is_not(None), Shift.ends_at <= now, Shift.ends_at > now - LOOKBACK,
        Shift.status.in_((ShiftStatus.booked, ShiftStatus.completed, ShiftStatus.cancelled)), ~have)).all()

    def make(shift: Shift) -> int:
        kind = KIND_OF_SHIFT.get(shift.kind, EntryKind.visit)
        if shift.status == ShiftStatus.cancelled:
            settings = settings_for(shift.team.cooperative_id)
            if not rules.cancellation_pay_due(shift.notice_minutes, settings.cancellation_notice_hours,
                                              settings.cancellation_pay_percent):
                return 0
            kind = EntryKind.cancellation
        entry = TimesheetEntry(team_id=shift.team_id, person_id=shift.booked_person_id, shift_id=shift.id, kind=kind,
                               status=TimesheetStatus.pending, started_at=shift.starts_at, ended_at=shift.ends_at,
                               break_minutes=0 if kind == EntryKind.cancellation else shift.break_minutes,
                               note="Cancelled at short notice" if kind == EntryKind.cancellation else "")
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
                history.record(entry, EntryEventKind.created, now, None, "clock", after=history.figures(entry))
                db.session.flush()
        except IntegrityError:
            return 0  # another clock made it first
        return 1

    # Each shift in its own savepoint: one that fails is rolled back alone and said once.
    return sum(run_each("hours.pending", shifts, make, key=lambda s: f"shift {s.id}",
                        cooperative=lambda s: s.team.cooperative_id).done)


def auto_confirm_due(now: datetime) -> int:
    """Submitted entries nobody answered within the co-op's time are confirmed, and say so.

    Only the entries whose co-op's time has run out are read (one query per distinct
    setting), not every entry submitted over an hour ago: at federation scale those are
    days of entries, each of which asked for its co-op's settings again."""
    hours_of = {c: settings_for(c).auto_confirm_hours for c in db.session.scalars(sa.select(Cooperative.id))}
    coops_by_hours: dict[int, list[int]] = defaultdict(list)
    for coop_id, hours in hours_of.items():
        coops_by_hours[hours].append(coop_id)
    rows = []
    for hours, coop_ids in sorted(coops_by_hours.items()):
        rows += db.session.scalars(sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id).where(
            Team.cooperative_id.in_(coop_ids), TimesheetEntry.status == TimesheetStatus.submitted,
            TimesheetEntry.submitted_at <= now - timedelta(hours=hours)).order_by(TimesheetEntry.id)).all()

    def confirm(entry: TimesheetEntry) -> int:
        hours = hours_of[entry.team.cooperative_id]
        if not rules.due_for_auto_confirm(entry.status, entry.submitted_at, now, hours):
            return 0
        mark_confirmed(entry, None, now, A.auto_confirm)
        db.session.flush()
        history.record(entry, EntryEventKind.auto_confirmed, now, None, "clock")
        db.session.flush()
        return 1

    return sum(run_each("hours.auto_confirm", rows, confirm, key=lambda e: f"entry {e.id}",
                        cooperative=lambda e: e.team.cooperative_id).done)


def remind_pending(now: datetime) -> int:
    """Remind workers of entries they have not submitted, at most once a day (dedupe keyed).

    Entries already reminded on the latest local day of any team's zone are not read
    (each is reminded once a day: at federation scale, the day's other runs read
    thousands of entries only to skip them)."""
    zones = set(db.session.scalars(sa.select(Cooperative.timezone).distinct())) | set(db.session.scalars(
        sa.select(Team.timezone).where(Team.timezone.is_not(None)).distinct()))
    latest_today = max((now.astimezone(ZoneInfo(z)).date() for z in zones), default=now.date())
    rows = db.session.scalars(sa.select(TimesheetEntry).where(
        TimesheetEntry.status == TimesheetStatus.pending, TimesheetEntry.ended_at <= now - timedelta(hours=2),
        sa.or_(TimesheetEntry.last_reminded_on.is_(None), TimesheetEntry.last_reminded_on < latest_today))
        .order_by(TimesheetEntry.id)).all()

    def remind(entry: TimesheetEntry) -> int:
        today = now.astimezone(ZoneInfo(entry.team.zone)).date()
        if not rules.reminder_due(entry.status, entry.last_reminded_on, today):
            return 0
        claimed = db.session.execute(sa.update(TimesheetEntry).where(
            TimesheetEntry.id == entry.id, TimesheetEntry.status == TimesheetStatus.pending,
            sa.or_(TimesheetEntry.last_reminded_on.is_(None), TimesheetEntry.last_reminded_on < today))
            .values(last_reminded_on=today).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return 0
        db.session.refresh(entry)
        notify_person(entry.person, "Please submit your hours",
                f"Please check and submit your hours for {entry.team.display_name}'s team.",
                dedupe_key=f"hours-remind-{entry.id}-{today.isoformat()}")
        db.session.flush()
        return 1

    return sum(run_each("hours.remind", rows, remind, key=lambda e: f"entry {e.id}",
                        cooperative=lambda e: e.team.cooperative_id).done)
