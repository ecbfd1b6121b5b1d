"""Both sides confirm: confirm, adjust (accept and reject), dispute, auto-confirm,
self-confirmation refused, immutability, corrections, the clock jobs and DONE by text."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from careteams.errors import Conflict, Forbidden, ValidationError
from careteams.extensions import db
from careteams.hours.models import HoursSettings, ImmutableEntry, TimesheetEntry
from careteams.hours.rules import EntryKind
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import clock, texts, timesheets
from careteams.rota.models import Offer, OfferStatus, ShiftKind, ShiftStatus
from tests.hours.conftest import START, act, make_entry
from tests.rota.conftest import make_shift

NOW = START + timedelta(hours=3)


def test_worker_submits_and_the_leader_confirms(world):
    entry = make_entry(world)
    timesheets.submit_entry(act(world.worker), entry.id, NOW)
    assert entry.status == S.submitted and entry.submitted_at == NOW
    timesheets.confirm_entry(act(world.leader), entry.id, NOW + timedelta(hours=1))
    assert entry.status == S.confirmed and entry.confirmed_by_id == world.leader.id and not entry.auto_confirmed


def test_hours_checker_hat_confirms(world):
    entry = make_entry(world, status=S.submitted)
    timesheets.confirm_entry(act(world.checker), entry.id, NOW)
    assert entry.status == S.confirmed and entry.confirmed_by_id == world.checker.id


def test_adjustment_accepted_confirms_with_the_proposed_times(world):
    entry = make_entry(world, status=S.submitted)
    new_end = START + timedelta(minutes=90)
    timesheets.propose_adjustment(act(world.leader), entry.id, {"ended_at": new_end, "note": "left early"}, NOW)
    assert entry.status == S.adjustment_proposed and entry.ended_at == START + timedelta(minutes=120)
    timesheets.accept_adjustment(act(world.worker), entry.id, NOW)
    assert entry.status == S.confirmed and entry.ended_at == new_end
    assert entry.confirmed_by_id == world.leader.id  # the checker's figures, the worker's consent


def test_adjustment_rejected_becomes_a_dispute_a_facilitator_resolves(world, mail_outbox):
    entry = make_entry(world, status=S.submitted)
    timesheets.propose_adjustment(act(world.checker), entry.id, {"ended_at": START + timedelta(minutes=60)}, NOW)
    timesheets.reject_adjustment(act(world.worker), entry.id, "I stayed until noon", NOW)
    assert entry.status == S.disputed and entry.dispute_comment == "I stayed until noon"
    assert entry.ended_at == START + timedelta(minutes=120)  # the proposal was not applied
    assert [e.id for e in timesheets.disputes(act(world.facilitator), world.coop.id)] == [entry.id]
    timesheets.resolve_dispute(act(world.facilitator), entry.id, {"outcome": "confirm", "note": "checked"}, NOW)
    assert entry.status == S.confirmed and entry.resolved_by_id == world.facilitator.id
    assert entry.disputed_at is not None  # the record keeps that it was disputed


def test_checker_disputes_and_facilitator_voids(world):
    entry = make_entry(world, status=S.submitted)
    timesheets.dispute_entry(act(world.leader), entry.id, "Nobody came", NOW)
    assert entry.status == S.disputed
    timesheets.resolve_dispute(act(world.facilitator), entry.id, {"outcome": "void"}, NOW)
    assert entry.status == S.void


def test_nobody_confirms_their_own_hours(world):
    # The Hours checker is also a worker in the team: they log and submit their own hours.
    entry = timesheets.log_entry(act(world.checker), world.team.id,
                          {"started_at": START, "ended_at": START + timedelta(hours=2)}, NOW)
    timesheets.submit_entry(act(world.checker), entry.id, NOW)
    for action in (lambda: timesheets.confirm_entry(act(world.checker), entry.id, NOW),
                   lambda: timesheets.propose_adjustment(act(world.checker), entry.id, {}, NOW),
                   lambda: timesheets.dispute_entry(act(world.checker), entry.id, "x", NOW)):
        with pytest.raises(Forbidden):
            action()
    assert entry.status == S.submitted
    timesheets.confirm_entry(act(world.leader), entry.id, NOW)
    assert entry.status == S.confirmed


def test_database_refuses_self_confirmation(world):
    entry = make_entry(world, status=S.submitted)
    with pytest.raises(sa.exc.IntegrityError):
        with db.session.begin_nested():
            db.session.execute(sa.update(TimesheetEntry).where(TimesheetEntry.id == entry.id).values(
                status=S.confirmed, confirmed_at=NOW, confirmed_by_id=world.worker.id))


def test_auto_confirm_after_the_configured_time_and_recorded_as_such(world):
    submitted = make_entry(world, status=S.submitted)
    submitted.submitted_at = NOW
    pending = make_entry(world, start=START - timedelta(days=10))
    db.session.flush()
    assert clock.auto_confirm_due(NOW + timedelta(hours=71)) == 0
    assert clock.auto_confirm_due(NOW + timedelta(hours=72)) == 1
    assert submitted.status == S.confirmed and submitted.auto_confirmed and submitted.confirmed_by_id is None
    assert clock.auto_confirm_due(NOW + timedelta(days=60)) == 0  # idempotent; pending is never confirmed
    assert pending.status == S.pending


def test_auto_confirm_time_is_configurable_per_coop(world):
    db.session.add(HoursSettings(cooperative_id=world.coop.id, auto_confirm_hours=24))
    entry = make_entry(world, status=S.submitted)
    entry.submitted_at = NOW
    db.session.flush()
    assert clock.auto_confirm_due(NOW + timedelta(hours=24)) == 1


def test_pending_worker_reminded_once_a_day(world, sms_outbox):
    entry = make_entry(world)
    assert clock.remind_pending(NOW) == 0  # ended only an hour ago: give the worker a moment
    later = NOW + timedelta(hours=2)
    assert clock.remind_pending(later) == 1
    assert clock.remind_pending(later + timedelta(hours=3)) == 0
    assert clock.remind_pending(later + timedelta(days=1)) == 1
    db.session.commit()
    texts = [t for t in sms_outbox if t.to == world.worker.phone]
    assert len(texts) == 2 and "submit your hours" in texts[0].body
    assert entry.status == S.pending


def test_confirmed_entry_is_immutable_and_corrected_by_a_linked_entry(world):
    entry = make_entry(world, status=S.confirmed)
    db.session.commit()  # as if confirmed earlier (only a savepoint: the test still rolls back)
    with pytest.raises(Conflict):
        timesheets.update_entry(act(world.worker), entry.id, {"note": "changed"}, NOW)
    with pytest.raises(Conflict):
        timesheets.confirm_entry(act(world.leader), entry.id, NOW)
    entry.note = "sneaky"
    with pytest.raises(ImmutableEntry):
        db.session.flush()
    db.session.rollback()
    entry = db.session.get(TimesheetEntry, entry.id)
    assert entry.note == ""
    correction = timesheets.correct_entry(act(world.worker), entry.id, {"ended_at": entry.ended_at + timedelta(minutes=30)},
                                   NOW)
    assert correction.corrects_id == entry.id and correction.status == S.pending
    with pytest.raises(Conflict):
        timesheets.correct_entry(act(world.worker), entry.id, {}, NOW)
    timesheets.submit_entry(act(world.worker), correction.id, NOW)
    timesheets.confirm_entry(act(world.leader), correction.id, NOW)
    assert correction.status == S.confirmed and entry.status == S.confirmed


def test_worker_edits_pending_with_checks(world):
    entry = make_entry(world)
    with pytest.raises(ValidationError):
        timesheets.update_entry(act(world.worker), entry.id, {"break_minutes": 500}, NOW)
    with pytest.raises(ValidationError):
        timesheets.update_entry(act(world.worker), entry.id, {"ended_at": NOW + timedelta(days=1)}, NOW)
    timesheets.update_entry(act(world.worker), entry.id, {"travel_minutes": 15, "note": "bus"}, NOW)
    assert entry.travel_minutes == 15


def test_clock_makes_one_pending_entry_per_ended_booked_shift(world):
    shift = make_shift(world.team, START - timedelta(hours=4), 2, status=ShiftStatus.booked, person=world.worker,
                       break_minutes=10)
    sleep = make_shift(world.team, START - timedelta(hours=20), 9, status=ShiftStatus.completed, person=world.worker2,
                       kind=ShiftKind.sleep_in)
    future = make_shift(world.team, NOW + timedelta(hours=1), 1, status=ShiftStatus.booked, person=world.worker)
    assert clock.create_pending_entries(NOW) == 2
    assert clock.create_pending_entries(NOW) == 0
    entries = {e.shift_id: e for e in db.session.scalars(sa.select(TimesheetEntry))}
    assert set(entries) == {shift.id, sleep.id} and future.id not in entries
    assert entries[shift.id].status == S.pending and entries[shift.id].break_minutes == 10
    assert entries[sleep.id].kind == EntryKind.sleep_in


def test_short_notice_cancellation_is_paid_per_setting(world):
    short = make_shift(world.team, START - timedelta(hours=4), 2, status=ShiftStatus.cancelled, person=world.worker,
                       notice_minutes=120)
    long = make_shift(world.team, START - timedelta(hours=8), 2, status=ShiftStatus.cancelled, person=world.worker,
                      notice_minutes=3 * 24 * 60)
    assert clock.create_pending_entries(NOW) == 1
    entry = db.session.scalar(sa.select(TimesheetEntry))
    assert entry.shift_id == short.id and entry.kind == EntryKind.cancellation and long.id != entry.shift_id


def _booked_with_code(world, start, hours=2, code="482"):
    shift = make_shift(world.team, start, hours, status=ShiftStatus.booked, person=world.worker)
    db.session.add(Offer(shift_id=shift.id, person_id=world.worker.id, code=code, status=OfferStatus.accepted,
                         code_live=False))
    db.session.flush()
    return shift


def test_done_by_code_as_planned_and_with_times_in_the_team_zone(world):
    # 26 Oct 2026 is after the clocks went back: London is UTC+0; 1 Jun is UTC+1.
    shift = _booked_with_code(world, datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    result = texts.done_by_code(world.worker, "482", (time(10, 5), time(13, 10)), datetime(2026, 6, 1, 13, 0, tzinfo=UTC))
    assert result.outcome == "submitted"
    assert result.entry.started_at == datetime(2026, 6, 1, 9, 5, tzinfo=UTC)
    assert result.entry.ended_at == datetime(2026, 6, 1, 12, 10, tzinfo=UTC)
    assert result.entry.shift_id == shift.id and result.entry.status == S.submitted
    again = texts.done_by_code(world.worker, "482", None, datetime(2026, 6, 1, 13, 0, tzinfo=UTC))
    assert again.outcome == "already_done"
    assert texts.done_by_code(world.worker, "999", None, NOW).outcome == "unknown_code"
    assert texts.done_by_code(world.worker2, "482", None, datetime(2026, 6, 1, 13, tzinfo=UTC)).outcome == "unknown_code"
