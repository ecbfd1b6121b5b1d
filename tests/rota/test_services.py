"""Rota use-cases: offers, the one winner, codes, cover, swaps, leavers, jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from careteams.errors import Conflict, ValidationError
from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, RotaSettings, Shift, ShiftSeries, ShiftStatus
from careteams.rota.services import eligibility
from careteams.rota.services.attendance import (
    alert_missed_visits,
    complete_ended,
    mark_arrival_by_code,
)
from careteams.rota.services.checks import findings_for
from careteams.rota.services.common import ShiftView
from careteams.rota.services.cover import (
    agree_swap,
    decide_swap,
    propose_swap,
    request_cover_by_code,
)
from careteams.rota.services.offers import (
    accept_offer,
    accept_offer_by_code,
    book_directly,
    consent_outside_offer,
    decline_offer_by_code,
    expire_and_escalate,
    offer_outside,
    offer_shift,
)
from careteams.rota.services.reading import next_shifts
from careteams.rota.services.series import create_series, materialise_all
from careteams.rota.services.shifts import cancel_shift, create_shift, update_shift
from careteams.teams.models import TeamMember, TeamMemberStatus
from careteams.teams.signals import team_member_ended
from tests.factories import MembershipFactory, PersonFactory, make_worker_profile
from tests.rota.conftest import MONDAY, add_member, make_shift

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def actor(person):
    return actor_for(person)


def offers_of(shift):
    return db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id).order_by(Offer.person_id)).all()


def test_offer_goes_to_free_eligible_active_workers_only(world, monkeypatch):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    # worker2 is busy elsewhere (another team) at that time.
    make_shift(world.other_team, MONDAY + timedelta(hours=9, minutes=30), status=ShiftStatus.booked, person=world.worker2)
    add_member(world.other_team, world.worker2)
    offers = offer_shift(actor(world.leader), shift.id, now=NOW)
    assert [o.person_id for o in offers] == [world.worker.id]  # not trial, not busy, not other team
    assert shift.status == ShiftStatus.offered


def test_matching_reasons_exclude_a_worker(world, monkeypatch):
    calls = []

    def fake(person_ids, skills, at):
        calls.append((sorted(person_ids), list(skills), at))
        return {pid: (["DBS check expired"] if pid == world.worker.id else []) for pid in person_ids}

    monkeypatch.setattr(eligibility, "worker_eligibility", fake)
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    shift.required_skills = ["hoist"]
    offers = offer_shift(actor(world.leader), shift.id, now=NOW)
    assert [o.person_id for o in offers] == [world.worker2.id]
    assert calls[0][1] == ["hoist"] and calls[0][2] == shift.starts_at


def texts():
    """Texts written to the outbox in this test."""
    from careteams.sms.models import OutboundMessage

    db.session.flush()
    return db.session.scalars(sa.select(OutboundMessage).order_by(OutboundMessage.id)).all()


def test_waves_then_circle_then_facilitators(world, app):
    db.session.add(RotaSettings(cooperative_id=world.coop.id, blocking_checks=[], offer_wave_size=1, offer_ttl_minutes=60))
    db.session.flush()
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    first = offer_shift(actor(world.wrangler), shift.id, now=NOW)
    assert [o.person_id for o in first] == [world.worker.id]
    # Not yet expired: nothing happens.
    assert expire_and_escalate(NOW + timedelta(minutes=59))["waves"] == 0
    counts = expire_and_escalate(NOW + timedelta(minutes=61))
    assert counts == {"expired": 1, "waves": 1, "circle": 0, "facilitators": 0}
    assert [(o.person_id, o.status) for o in offers_of(shift)] == [(world.worker.id, OfferStatus.expired),
                                                                  (world.worker2.id, OfferStatus.open)]
    counts = expire_and_escalate(NOW + timedelta(minutes=125))
    assert counts["circle"] == 1 and shift.escalation_level == 1
    told = {m.to_number for m in texts() if "Nobody has taken" in m.body}
    assert told == {p.phone for p in (world.leader, world.wrangler, world.circle)}
    assert expire_and_escalate(NOW + timedelta(minutes=130))["facilitators"] == 0  # waits its turn
    assert expire_and_escalate(NOW + timedelta(minutes=190))["facilitators"] == 1
    assert shift.escalation_level == 2
    assert expire_and_escalate(NOW + timedelta(minutes=400)) == {"expired": 0, "waves": 0, "circle": 0, "facilitators": 0}


def test_exactly_one_acceptance_wins_and_codes_name_the_shift(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    o1, o2 = offer_shift(actor(world.leader), shift.id, now=NOW)
    first = accept_offer_by_code(world.worker, o1.code, now=NOW)
    assert first.outcome == "booked" and shift.booked_person_id == world.worker.id
    second = accept_offer_by_code(world.worker2, o2.code, now=NOW)
    assert second.outcome == "already_filled"  # told plainly, though the code is no longer live
    assert not o2.code_live
    again = accept_offer(world.worker2, o2.id, now=NOW)
    assert again.outcome == "already_filled"
    assert accept_offer(world.worker, o1.id, now=NOW).outcome == "already_yours"
    assert db.session.get(Shift, shift.id).status == ShiftStatus.booked
    # The winner's code keeps naming the booked shift (for arrival and cover).
    assert [s.id for s in next_shifts(world.worker, now=NOW)] == [shift.id]
    assert next_shifts(world.worker, now=NOW)[0].code == o1.code


def test_someone_elses_code_or_offer_is_unknown(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    o1, _ = offer_shift(actor(world.leader), shift.id, now=NOW)
    assert accept_offer(world.stranger, o1.id, now=NOW).outcome == "unknown_code"
    assert accept_offer_by_code(world.stranger, o1.code, now=NOW).outcome == "unknown_code"
    assert shift.booked_person_id is None


def test_codes_are_unique_per_worker_among_live_offers(world):
    shifts = [make_shift(world.team, MONDAY + timedelta(days=d, hours=9)) for d in range(30)]
    for s in shifts:
        offer_shift(actor(world.leader), s.id, now=NOW)
    codes = db.session.scalars(sa.select(Offer.code).where(Offer.person_id == world.worker.id, Offer.code_live)).all()
    assert len(codes) == 30 and len(set(codes)) == 30


def test_expired_offer_cannot_be_accepted(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    o1, _ = offer_shift(actor(world.leader), shift.id, now=NOW)
    result = accept_offer(world.worker, o1.id, now=NOW + timedelta(hours=3))
    assert result.outcome == "expired" and shift.booked_person_id is None


def test_decline_by_code(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    o1, _ = offer_shift(actor(world.leader), shift.id, now=NOW)
    assert decline_offer_by_code(world.worker, o1.code, now=NOW).outcome == "declined"
    assert o1.status == OfferStatus.declined
    assert accept_offer(world.worker, o1.id, now=NOW).outcome == "expired"


def test_double_booking_refused_by_the_application(world):
    add_member(world.other_team, world.worker)
    elsewhere = make_shift(world.other_team, MONDAY + timedelta(hours=9))
    here = make_shift(world.team, MONDAY + timedelta(hours=9, minutes=30))
    book_directly(actor(world.other_team.leader), elsewhere.id, world.worker.id, now=NOW)
    offers = offer_shift(actor(world.leader), here.id, now=NOW)
    assert world.worker.id not in [o.person_id for o in offers]  # busy: not even offered
    result = book_directly(actor(world.leader), here.id, world.worker.id, now=NOW)
    assert result.outcome == "double_booked" and here.booked_person_id is None


def test_trial_worker_booked_directly_only_on_a_trial_shift(world):
    plain = make_shift(world.team, MONDAY + timedelta(hours=9))
    with pytest.raises(ValidationError):
        book_directly(actor(world.leader), plain.id, world.trial.id, now=NOW)
    trial_shift = make_shift(world.team, MONDAY + timedelta(hours=13), is_trial=True)
    assert book_directly(actor(world.leader), trial_shift.id, world.trial.id, now=NOW).outcome == "booked"


def test_blocking_checks_refuse_a_booking_only_when_configured(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9), hours=0.5)  # under the 60-minute minimum
    assert book_directly(actor(world.leader), shift.id, world.worker.id, now=NOW).outcome == "booked"
    db.session.add(RotaSettings(cooperative_id=world.coop.id, blocking_checks=["short_visit"]))
    db.session.flush()
    other = make_shift(world.team, MONDAY + timedelta(days=1, hours=9), hours=0.5)
    result = book_directly(actor(world.leader), other.id, world.worker.id, now=NOW)
    assert result.outcome == "blocked" and other.booked_person_id is None
    with pytest.raises(ValidationError) as info:
        create_shift(actor(world.leader), world.team.id, {
            "starts_at": datetime(2027, 1, 6, 9), "ends_at": datetime(2027, 1, 6, 9, 30), "kind": "companionship"})
    assert info.value.code == "check_failed"


def test_personal_care_of_fifteen_minutes_refused_unless_allowed(world):
    data = {"starts_at": datetime(2027, 1, 6, 9), "ends_at": datetime(2027, 1, 6, 9, 15), "kind": "personal_care"}
    with pytest.raises(ValidationError):
        create_shift(actor(world.leader), world.team.id, data)
    db.session.add(RotaSettings(cooperative_id=world.coop.id, blocking_checks=[], allow_short_personal_care=True))
    db.session.flush()
    view = create_shift(actor(world.leader), world.team.id, data)
    assert {w["code"] for w in view.warnings} == {"personal_care_too_short", "short_visit"}


def test_weekly_hours_opt_out_is_asked_through_the_seam(world, monkeypatch):
    # 17 weeks of 50 hours for the worker.
    start = MONDAY - timedelta(weeks=16)
    for w in range(17):
        for d in range(5):
            make_shift(world.other_team, start + timedelta(weeks=w, days=d, hours=7), hours=10,
                       status=ShiftStatus.booked, person=world.worker)
    shift = make_shift(world.team, MONDAY + timedelta(days=5, hours=9))
    found = findings_for(shift, world.team, world.worker.id)
    assert "weekly_hours" in {f.code for f in found}
    monkeypatch.setattr(eligibility, "weekly_hours_opt_out", lambda pid: pid == world.worker.id)
    found = findings_for(shift, world.team, world.worker.id)
    assert "weekly_hours" not in {f.code for f in found}


def test_create_shift_reads_naive_times_on_the_team_clock(world):
    view = create_shift(actor(world.wrangler), world.team.id, {
        "starts_at": datetime(2026, 10, 24, 20), "ends_at": datetime(2026, 10, 25, 8), "kind": "overnight",
        "break_minutes": 30})
    assert view.duration_minutes == 13 * 60
    assert view.local_start.hour == 20 and view.local_end.hour == 8
    with pytest.raises(ValidationError):
        create_shift(actor(world.wrangler), world.team.id, {
            "starts_at": datetime(2026, 3, 29, 1, 30), "ends_at": datetime(2026, 3, 29, 4), "kind": "overnight"})


def test_cover_request_keeps_worker_booked_until_someone_accepts(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    book_directly(actor(world.leader), shift.id, world.worker.id, now=NOW)
    code = next_shifts(world.worker, now=NOW)[0].code
    result = request_cover_by_code(world.worker, code, now=NOW)
    assert result.outcome == "cover_requested"
    assert shift.booked_person_id == world.worker.id and shift.cover_requested_at == NOW
    [cover] = [o for o in offers_of(shift) if o.status == OfferStatus.open]
    assert cover.person_id == world.worker2.id and cover.is_cover
    won = accept_offer_by_code(world.worker2, cover.code, now=NOW)
    assert won.outcome == "booked"
    db.session.refresh(shift)
    assert shift.booked_person_id == world.worker2.id and shift.cover_requested_at is None
    assert next_shifts(world.worker, now=NOW) == []
    assert request_cover_by_code(world.worker, code, now=NOW).outcome == "unknown_code"


def test_arrival_by_code_and_missed_visit_alert(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    book_directly(actor(world.leader), shift.id, world.worker.id, now=NOW)
    other = make_shift(world.team, MONDAY + timedelta(hours=12))
    book_directly(actor(world.leader), other.id, world.worker2.id, now=NOW)
    code = next_shifts(world.worker, now=NOW)[0].code
    assert mark_arrival_by_code(world.worker, code, now=NOW).outcome == "not_booked"  # far too early
    assert mark_arrival_by_code(world.worker, code, now=shift.starts_at + timedelta(minutes=3)).outcome == "arrived"
    before = {m.id for m in texts()}
    assert alert_missed_visits(other.starts_at + timedelta(minutes=14)) == 0
    assert alert_missed_visits(other.starts_at + timedelta(minutes=15)) == 1
    assert alert_missed_visits(other.starts_at + timedelta(minutes=20)) == 0  # once only
    told = {m.to_number for m in texts() if m.id not in before}
    assert told == {p.phone for p in (world.leader, world.wrangler, world.circle, world.facilitator)}
    assert shift.missed_alert_at is None


def test_cancellation_records_notice(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    book_directly(actor(world.leader), shift.id, world.worker.id, now=NOW)
    view = cancel_shift(actor(world.leader), shift.id, "Hospital admission", now=shift.starts_at - timedelta(hours=2))
    assert view.status == ShiftStatus.cancelled and view.notice_minutes == 120
    assert view.cancelled_by_id == world.leader.id and view.cancel_reason == "Hospital admission"
    with pytest.raises(Conflict):
        cancel_shift(actor(world.leader), shift.id, "again", now=NOW)


def test_swap_needs_both_workers_and_approval(world):
    a = make_shift(world.team, MONDAY + timedelta(hours=9))
    b = make_shift(world.team, MONDAY + timedelta(days=1, hours=9))
    book_directly(actor(world.leader), a.id, world.worker.id, now=NOW)
    book_directly(actor(world.leader), b.id, world.worker2.id, now=NOW)
    swap = propose_swap(world.worker, a.id, b.id, now=NOW)
    with pytest.raises(Conflict):
        decide_swap(actor(world.leader), swap.id, True, now=NOW)  # not agreed yet
    with pytest.raises(ValidationError):
        agree_swap(world.worker, swap.id, True, now=NOW)  # the proposer cannot consent for both
    agree_swap(world.worker2, swap.id, True, now=NOW)
    from careteams.errors import Forbidden
    with pytest.raises(Forbidden):
        decide_swap(actor(world.circle), swap.id, True, now=NOW)
    decide_swap(actor(world.wrangler), swap.id, True, now=NOW)
    assert (a.booked_person_id, b.booked_person_id) == (world.worker2.id, world.worker.id)
    assert [s.id for s in next_shifts(world.worker, now=NOW)] == [b.id]
    assert next_shifts(world.worker, now=NOW)[0].code is not None


def test_leaver_shifts_return_to_open_and_are_reoffered(world):
    future = make_shift(world.team, MONDAY + timedelta(hours=9))
    book_directly(actor(world.leader), future.id, world.worker.id, now=NOW)
    member = db.session.scalar(sa.select(TeamMember).where(TeamMember.person_id == world.worker.id,
                                                           TeamMember.team_id == world.team.id))
    member.status = TeamMemberStatus.left
    db.session.flush()
    team_member_ended.send(member)
    db.session.refresh(future)
    assert future.booked_person_id is None and future.status == ShiftStatus.offered
    assert [o.person_id for o in offers_of(future) if o.status == OfferStatus.open] == [world.worker2.id]
    assert next_shifts(world.worker) == []


def test_recurring_visit_materialises_idempotently_and_keeps_local_time(world):
    now = datetime(2026, 10, 19, 12, tzinfo=UTC)
    series = create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=DAILY", "first_date": date(2026, 10, 20), "start_time": time(9), "duration_minutes": 60,
        "kind": "practical_help"}, now=now)
    shifts = db.session.scalars(sa.select(Shift).where(Shift.series_id == series.id).order_by(Shift.starts_at)).all()
    assert len(shifts) == 56  # 20 October to 14 December: eight weeks from today
    assert {ShiftView(s, "Europe/London").local_start.time() for s in shifts} == {time(9)}
    assert materialise_all(now) == 0
    assert materialise_all(now + timedelta(days=2)) == 2
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Shift).where(Shift.series_id == series.id))
    assert total == len(set(db.session.scalars(sa.select(Shift.occurrence_date).where(Shift.series_id == series.id))))


def test_overnight_series_across_october_change(world):
    now = datetime(2026, 10, 1, 12, tzinfo=UTC)
    series = create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=WEEKLY;BYDAY=SA", "first_date": date(2026, 10, 17), "start_time": time(20),
        "duration_minutes": 12 * 60, "kind": "sleep_in", "break_minutes": 60}, now=now)
    by_day = {s.occurrence_date: ShiftView(s, "Europe/London")
              for s in db.session.scalars(sa.select(Shift).where(Shift.series_id == series.id))}
    assert by_day[date(2026, 10, 17)].duration_minutes == 12 * 60
    assert by_day[date(2026, 10, 24)].duration_minutes == 13 * 60
    assert by_day[date(2026, 10, 31)].duration_minutes == 12 * 60


def test_edit_this_visit_only_and_this_and_following(world):
    now = datetime(2026, 12, 28, 12, tzinfo=UTC)
    series = create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=WEEKLY;BYDAY=MO", "first_date": date(2027, 1, 4), "start_time": time(9),
        "duration_minutes": 60, "kind": "companionship"}, now=now)
    shifts = db.session.scalars(sa.select(Shift).where(Shift.series_id == series.id).order_by(Shift.starts_at)).all()
    first, second, third = shifts[:3]
    book_directly(actor(world.leader), third.id, world.worker.id, now=now)
    update_shift(actor(world.leader), first.id, {"starts_at": datetime(2027, 1, 4, 10),
                                                          "ends_at": datetime(2027, 1, 4, 11)}, now=now)
    assert first.detached and first.starts_at == datetime(2027, 1, 4, 10, tzinfo=UTC)
    update_shift(actor(world.leader), second.id, {"start_time": time(14)}, scope="following", now=now)
    db.session.expire_all()
    old = db.session.get(ShiftSeries, series.id)
    assert old.ends_on == date(2027, 1, 10)
    rows = db.session.scalars(sa.select(Shift).where(Shift.team_id == world.team.id).order_by(Shift.starts_at)).all()
    local = {s.occurrence_date: ShiftView(s, "Europe/London").local_start.time() for s in rows}
    assert local[date(2027, 1, 4)] == time(10)  # edited alone, untouched by the split
    assert local[date(2027, 1, 11)] == time(14) and local[date(2027, 1, 18)] == time(14)
    booked = db.session.get(Shift, third.id)
    assert booked.booked_person_id == world.worker.id and booked.series_id != series.id
    assert len(local) == len(rows)  # no occurrence twice


def test_completion_job_frees_codes(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    book_directly(actor(world.leader), shift.id, world.worker.id, now=NOW)
    assert complete_ended(shift.ends_at - timedelta(minutes=1)) == 0
    assert complete_ended(shift.ends_at) == 1
    assert shift.status == ShiftStatus.completed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer).where(
        Offer.person_id == world.worker.id, Offer.code_live)) == 0
    assert complete_ended(shift.ends_at) == 0


def test_outside_offer_needs_per_shift_consent(world):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    outsider = PersonFactory()
    MembershipFactory(cooperative=world.coop, person=outsider)
    make_worker_profile(outsider, world.coop.id)
    with pytest.raises(Conflict) as info:
        offer_outside(actor(world.wrangler), shift.id, now=NOW)
    assert info.value.code == "outside_consent_needed"
    from careteams.errors import Forbidden
    with pytest.raises(Forbidden):
        consent_outside_offer(actor(world.worker), shift.id)
    consent_outside_offer(actor(world.leader), shift.id)
    assert offer_outside(actor(world.wrangler), shift.id, now=NOW) == 1
    offer = db.session.scalar(sa.select(Offer).where(Offer.shift_id == shift.id))
    assert offer.outside_team and offer.person_id == outsider.id
    assert accept_offer_by_code(outsider, offer.code, now=NOW).outcome == "booked"


def test_a_worker_without_a_profile_is_not_eligible(world):
    stranger = PersonFactory()
    assert eligibility.worker_eligibility([stranger.id, world.worker.id], [], NOW) == {
        stranger.id: ["no worker profile"], world.worker.id: []}
    assert eligibility.weekly_hours_opt_outs([world.worker.id]) == {world.worker.id: False}


def test_moving_a_booked_shift_onto_a_clash_returns_it_to_open(world):
    add_member(world.other_team, world.worker)
    elsewhere = make_shift(world.other_team, MONDAY + timedelta(hours=14))
    book_directly(actor(world.other_team.leader), elsewhere.id, world.worker.id, now=NOW)
    here = make_shift(world.team, MONDAY + timedelta(hours=9))
    book_directly(actor(world.leader), here.id, world.worker.id, now=NOW)
    view = update_shift(actor(world.leader), here.id, {"starts_at": datetime(2027, 1, 4, 14, 30),
                                                                "ends_at": datetime(2027, 1, 4, 15, 30)}, now=NOW)
    assert view.status == ShiftStatus.open and view.booked_person_id is None
    assert elsewhere.booked_person_id == world.worker.id
    # Moving to a free time keeps the booking.
    other = make_shift(world.team, MONDAY + timedelta(days=2, hours=9))
    book_directly(actor(world.leader), other.id, world.worker.id, now=NOW)
    view = update_shift(actor(world.leader), other.id, {"starts_at": datetime(2027, 1, 6, 10),
                                                                 "ends_at": datetime(2027, 1, 6, 11)}, now=NOW)
    assert view.booked_person_id == world.worker.id


def test_shift_nobody_can_take_goes_straight_to_the_circle(world):
    add_member(world.other_team, world.worker)
    add_member(world.other_team, world.worker2)
    for person in (world.worker, world.worker2):
        s = make_shift(world.other_team, MONDAY + timedelta(hours=9))
        book_directly(actor(world.other_team.leader), s.id, person.id, now=NOW)
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    assert offer_shift(actor(world.leader), shift.id, now=NOW) == []
    assert expire_and_escalate(NOW + timedelta(minutes=5))["circle"] == 1
    assert shift.escalation_level == 1


def test_database_refuses_a_second_shift_for_one_occurrence(world):
    from sqlalchemy.exc import IntegrityError

    series = create_series(actor(world.leader), world.team.id, {
        "rrule": "FREQ=WEEKLY;BYDAY=MO", "first_date": date(2027, 1, 4), "start_time": time(9),
        "duration_minutes": 60, "kind": "companionship"}, now=datetime(2026, 12, 28, tzinfo=UTC))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Shift(team_id=world.team.id, series_id=series.id, occurrence_date=date(2027, 1, 4),
                             starts_at=MONDAY, ends_at=MONDAY + timedelta(hours=1), kind="companionship",
                             required_skills=[], status=ShiftStatus.open))
        db.session.flush()
