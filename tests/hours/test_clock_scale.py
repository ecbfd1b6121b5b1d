"""The hours clock jobs at federation scale (issue 20): auto-confirmation reads only the
entries whose co-op's time has run out, and the reminder job skips entries already
reminded today, so a run's statements follow the work due, not the entries waiting."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours.models import HoursSettings, TimesheetEntry
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import clock
from tests.helpers import QueryCounter
from tests.hours.conftest import START, make_entry

NOW = START + timedelta(hours=3)


def _counting(fn, *args):
    with QueryCounter(db.session.get_bind()) as counter:
        result = fn(*args)
    return result, counter.count


def _submitted(world, at, start=START):
    entry = make_entry(world, status=S.submitted, start=start)
    entry.submitted_at = at
    return entry


def test_auto_confirm_reads_only_the_entries_due(world):
    db.session.add(HoursSettings(cooperative_id=world.coop.id, auto_confirm_hours=24))
    due = _submitted(world, NOW)
    db.session.flush()
    later = NOW + timedelta(hours=24)
    with db.session.begin_nested() as alone:
        assert _counting(clock.auto_confirm_due, later)[0] == 1
        _, few = _counting(clock.auto_confirm_due, later)  # nothing left: the cost of the reading itself
        alone.rollback()
    # 20 more submitted an hour before `later`: waiting, not due (the old job read and checked each).
    waiting = [_submitted(world, later - timedelta(hours=1), START + timedelta(days=i + 1)) for i in range(20)]
    db.session.flush()
    assert _counting(clock.auto_confirm_due, later)[0] == 1
    assert due.status == S.confirmed and due.auto_confirmed
    assert all(e.status == S.submitted for e in waiting)
    _, many = _counting(clock.auto_confirm_due, later)
    assert many == few, (few, many)


def _entries_read(fn, *args):
    """How many timesheet entries `fn` loads from the database (the session emptied first)."""
    db.session.flush()
    db.session.expunge_all()
    loaded: list[int] = []

    def load(target, context):
        loaded.append(target.id)

    sa.event.listen(TimesheetEntry, "load", load)
    try:
        result = fn(*args)
    finally:
        sa.event.remove(TimesheetEntry, "load", load)
    return result, len(loaded)


def test_remind_skips_entries_already_reminded_today(world, sms_outbox):
    later = NOW + timedelta(hours=2)
    reminded = [make_entry(world, start=START - timedelta(days=i + 1)).id for i in range(20)]
    assert clock.remind_pending(later) == 20
    # All 20 reminded today: the old job read and checked each one, every hour.
    assert _entries_read(clock.remind_pending, later + timedelta(hours=1)) == (0, 0)
    fresh = make_entry(world, start=START + timedelta(hours=1)).id
    assert _entries_read(clock.remind_pending, later + timedelta(hours=1)) == (1, 1)
    days = set(db.session.scalars(sa.select(TimesheetEntry.last_reminded_on).where(
        TimesheetEntry.id.in_([*reminded, fresh]))))
    assert len(days) == 1 and None not in days
    assert clock.remind_pending(later + timedelta(days=1)) == 21  # the next day, every one again
