"""Every clock job carries on past a poison item (issue 13).

For each registered job (but the senders, tested with MAIL's outbox), two items are due;
one is poisoned (its flush raises, as a row breaking a constraint would, or its per-item
step raises). The other is still done, the poisoned one is rolled back alone, and the
co-op's facilitators are told once.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from careteams.auth import services as auth_services
from careteams.auth.models import OneTimeLink
from careteams.extensions import db
from careteams.governance.enums import ResolutionStatus
from careteams.governance.models import Resolution
from careteams.governance.services import resolutions
from careteams.hours.enums import TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.hours.services import clock
from careteams.jobs_util import failure_notice
from careteams.matching import jobs as matching_jobs
from careteams.matching.models import Notification, WorkerCheck, WorkerProfile
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services import attendance
from careteams.rota.services.offers import offer_shift
from careteams.rota.services.series import create_series
from careteams.scheduler import load_jobs
from careteams.teams.models import Hat
from tests.factories import HatFactory, OneTimeLinkFactory, ResolutionFactory, TimesheetEntryFactory
from tests.rota.conftest import build_world, make_shift

NOW = datetime(2027, 2, 1, 12, tzinfo=UTC)

@pytest.fixture
def world(app):
    return build_world()


def run(job_id: str, now: datetime):
    return load_jobs()[job_id].func(now)


@contextmanager
def poisoned(model, event: str, is_poison):
    """Make the flush of one row raise, as a row breaking a constraint would."""

    def boom(mapper, connection, target):
        if is_poison(target):
            raise RuntimeError("poison item")

    sa.event.listen(model, event, boom)
    try:
        yield
    finally:
        sa.event.remove(model, event, boom)


def told(person, job_id: str) -> list[str]:
    return [b for b in db.session.scalars(sa.select(Notification.body).where(Notification.person_id == person.id))
            if f"clock job {job_id} " in b]


def assert_told_once(world, job_id: str, item: str):
    assert told(world.facilitator, job_id) == [failure_notice(job_id, item)]
    assert told(world.other_facilitator, job_id) == []  # another co-op's facilitators hear nothing


def test_every_registered_job_has_a_poison_test():
    tested = {"auth.purge_expired_links", "teams.expire_hats", "matching.warn_expiring_checks", "rota.materialise",
              "rota.offers", "rota.complete", "rota.missed_visits", "rota.reminders", "hours.pending",
              "hours.auto_confirm", "hours.remind", "governance.open_and_close", "matching.geocode_places"}
    senders = {"sms.send_outbox", "mail.send_outbox"}  # the outbox senders: tests/mail, tests/sms
    assert set(load_jobs()) - senders == tested


# ---------------------------------------------------------------- rota


def test_materialise_carries_on_past_a_poison_series(world):
    early = NOW - timedelta(weeks=10)
    good, bad = (create_series(actor_for(world.leader), world.team.id, {
        "rrule": "FREQ=DAILY", "first_date": date(2027, 1, 1), "start_time": time(hour), "duration_minutes": 60,
        "kind": "companionship"}, now=early) for hour in (9, 15))
    before = {s.id: db.session.scalar(sa.select(sa.func.count()).select_from(Shift).where(Shift.series_id == s.id))
              for s in (good, bad)}
    with poisoned(Shift, "before_insert", lambda s: s.series_id == bad.id):
        added = run("rota.materialise", NOW)
    after = {s.id: db.session.scalar(sa.select(sa.func.count()).select_from(Shift).where(Shift.series_id == s.id))
             for s in (good, bad)}
    assert added > 0 and after[good.id] == before[good.id] + added
    assert after[bad.id] == before[bad.id]
    assert_told_once(world, "rota.materialise", f"series {bad.id}")


def test_offers_carry_on_past_a_poison_offer(world):
    shift = make_shift(world.team, NOW + timedelta(days=3))
    offers = offer_shift(actor_for(world.leader), shift.id, now=NOW)
    assert len(offers) >= 2
    bad, good = offers[0], offers[1]
    with poisoned(Offer, "before_update", lambda o: o.id == bad.id):
        counts = run("rota.offers", NOW + timedelta(days=1))
    db.session.expire_all()
    assert counts["expired"] == len(offers) - 1
    assert db.session.get(Offer, good.id).status == OfferStatus.expired
    assert db.session.get(Offer, bad.id).status == OfferStatus.open
    assert_told_once(world, "rota.offers", f"offer {bad.id}")


def test_complete_carries_on_past_a_poison_shift(world):
    bad, good = (make_shift(world.team, NOW - timedelta(hours=h), status=ShiftStatus.booked, person=world.worker)
                 for h in (30, 5))
    with poisoned(Shift, "before_update", lambda s: s.id == bad.id):
        assert run("rota.complete", NOW) == 1
    db.session.expire_all()
    assert db.session.get(Shift, good.id).status == ShiftStatus.completed
    assert db.session.get(Shift, bad.id).status == ShiftStatus.booked
    assert_told_once(world, "rota.complete", f"shift {bad.id}")


def test_missed_visits_carry_on_past_a_poison_shift(world):
    bad = make_shift(world.team, NOW - timedelta(hours=1), status=ShiftStatus.booked, person=world.worker)
    good = make_shift(world.team, NOW - timedelta(hours=1), status=ShiftStatus.booked, person=world.worker2)
    with poisoned(Shift, "before_update", lambda s: s.id == bad.id):
        assert run("rota.missed_visits", NOW) == 1
    db.session.expire_all()
    assert db.session.get(Shift, good.id).missed_alert_at is not None
    assert db.session.get(Shift, bad.id).missed_alert_at is None
    assert_told_once(world, "rota.missed_visits", f"shift {bad.id}")


def test_reminders_carry_on_past_a_poison_shift(world, monkeypatch, app):
    bad = make_shift(world.team, NOW + timedelta(hours=1), status=ShiftStatus.booked, person=world.worker)
    good = make_shift(world.team, NOW + timedelta(hours=1), status=ShiftStatus.booked, person=world.worker2)
    real_tell = attendance.tell

    def tell(person, team, subject, template, shift, **kw):
        if shift.id == bad.id:
            raise RuntimeError("poison item")
        return real_tell(person, team, subject, template, shift, **kw)

    monkeypatch.setattr(attendance, "tell", tell)
    monkeypatch.setitem(app.config, "ROTA_REMINDER_HOURS", [2])
    assert run("rota.reminders", NOW) == 1
    assert good.id != bad.id
    assert_told_once(world, "rota.reminders", f"shift {bad.id}")


# ---------------------------------------------------------------- hours


def test_pending_entries_carry_on_past_a_poison_shift(world):
    bad, good = (make_shift(world.team, NOW - timedelta(hours=h), status=ShiftStatus.booked, person=world.worker)
                 for h in (30, 5))
    with poisoned(TimesheetEntry, "before_insert", lambda e: e.shift_id == bad.id):
        assert run("hours.pending", NOW) == 1
    made = set(db.session.scalars(sa.select(TimesheetEntry.shift_id)))
    assert good.id in made and bad.id not in made
    assert_told_once(world, "hours.pending", f"shift {bad.id}")


def test_auto_confirm_carries_on_past_a_poison_entry(world):
    bad, good = (TimesheetEntryFactory(team=world.team, person=p, submitted=True) for p in (world.worker, world.worker2))
    with poisoned(TimesheetEntry, "before_update", lambda e: e.id == bad.id):
        assert run("hours.auto_confirm", datetime.now(UTC) + timedelta(days=10)) == 1
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, good.id).status == TimesheetStatus.confirmed
    assert db.session.get(TimesheetEntry, bad.id).status == TimesheetStatus.submitted
    assert_told_once(world, "hours.auto_confirm", f"entry {bad.id}")


def test_hours_reminders_carry_on_past_a_poison_entry(world, monkeypatch):
    bad, good = (TimesheetEntryFactory(team=world.team, person=p) for p in (world.worker, world.worker2))
    real = clock.notify_person

    def notify_person(person, *args, **kw):
        if person.id == world.worker.id:
            raise RuntimeError("poison item")
        return real(person, *args, **kw)

    monkeypatch.setattr(clock, "notify_person", notify_person)
    assert run("hours.remind", datetime.now(UTC) + timedelta(days=1)) == 1
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, good.id).last_reminded_on is not None
    assert db.session.get(TimesheetEntry, bad.id).last_reminded_on is None  # rolled back: tried again next run
    assert_told_once(world, "hours.remind", f"entry {bad.id}")


# ---------------------------------------------------------------- teams, matching, governance, auth


def test_expire_hats_carries_on_past_a_poison_hat(world):
    now = datetime.now(UTC)
    bad, good = (HatFactory(team=world.team, hat_type=world.wrangler_type, expires_at=now - timedelta(hours=1))
                 for _ in range(2))
    with poisoned(Hat, "before_update", lambda h: h.id == bad.id):
        assert run("teams.expire_hats", now) == 1
    db.session.expire_all()
    assert db.session.get(Hat, good.id).ended_at is not None
    assert db.session.get(Hat, bad.id).ended_at is None
    assert_told_once(world, "teams.expire_hats", f"hat {bad.id}")


def test_check_warnings_carry_on_past_a_poison_check(world, monkeypatch):
    now = datetime.now(UTC)
    for person in (world.worker, world.worker2):
        db.session.execute(sa.update(WorkerCheck).where(WorkerCheck.worker_profile_id.in_(
            sa.select(WorkerProfile.id).where(WorkerProfile.person_id == person.id)))
            .values(expires_on=now.date() + timedelta(days=400)))
    bad_check = db.session.scalars(sa.select(WorkerCheck).join(WorkerProfile).where(
        WorkerProfile.person_id == world.worker.id)).first()
    good_check = db.session.scalars(sa.select(WorkerCheck).join(WorkerProfile).where(
        WorkerProfile.person_id == world.worker2.id)).first()
    for check in (bad_check, good_check):
        check.expires_on = now.date() + timedelta(days=10)
    db.session.flush()
    real = matching_jobs.notify_person

    def notify_person(person_id, *args, **kw):
        if person_id == world.worker.id:
            raise RuntimeError("poison item")
        return real(person_id, *args, **kw)

    monkeypatch.setattr(matching_jobs, "notify_person", notify_person)
    assert run("matching.warn_expiring_checks", now) == 1
    db.session.expire_all()
    assert db.session.get(WorkerCheck, good_check.id).warned_for_expiry_on is not None
    assert db.session.get(WorkerCheck, bad_check.id).warned_for_expiry_on is None
    assert_told_once(world, "matching.warn_expiring_checks", f"check {bad_check.id}")


def test_geocoding_carries_on_past_a_poison_profile(world):
    """Two profiles whose postcodes waited for the geocoder; one breaks on flush."""
    bad, good = (db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == p.id))
                 for p in (world.worker, world.worker2))
    for profile in (bad, good):
        profile.postcode, profile.latitude, profile.longitude, profile.geocode_pending = "HX7 8AD", None, None, True
    db.session.flush()
    with poisoned(WorkerProfile, "before_update", lambda p: p.id == bad.id):
        assert run("matching.geocode_places", NOW) == 1
    db.session.expire_all()
    assert db.session.get(WorkerProfile, good.id).latitude == 53.744
    assert db.session.get(WorkerProfile, bad.id).latitude is None and db.session.get(WorkerProfile, bad.id).geocode_pending
    assert_told_once(world, "matching.geocode_places", f"worker_profile {bad.id}")


def test_governance_carries_on_past_a_poison_resolution(world, monkeypatch):
    now = datetime.now(UTC)
    bad, good = (ResolutionFactory(cooperative=world.coop, status=ResolutionStatus.scheduled,
                                   opens_at=now - timedelta(minutes=5)) for _ in range(2))
    real = resolutions.start_voting

    def start_voting(resolution_id, when):
        if resolution_id == bad.id:
            raise RuntimeError("poison item")
        return real(resolution_id, when)

    monkeypatch.setattr(resolutions, "start_voting", start_voting)
    assert run("governance.open_and_close", now) == {"opened": 1, "closed": 0}
    db.session.expire_all()
    assert db.session.get(Resolution, good.id).status == ResolutionStatus.open
    assert db.session.get(Resolution, bad.id).status == ResolutionStatus.scheduled
    assert_told_once(world, "governance.open_and_close", f"resolution {bad.id}")


def test_link_purge_carries_on_past_a_poison_link(app, monkeypatch, caplog):
    now = datetime.now(UTC)
    bad, good = (OneTimeLinkFactory(expires_at=now - timedelta(days=3)) for _ in range(2))
    real = auth_services.purge_link

    def purge_link(link_id):
        if link_id == bad.id:
            raise RuntimeError("poison item")
        return real(link_id)

    monkeypatch.setattr(auth_services, "purge_link", purge_link)
    assert run("auth.purge_expired_links", now) == 1
    db.session.expire_all()
    assert db.session.get(OneTimeLink, good.id) is None
    assert db.session.get(OneTimeLink, bad.id) is not None
    assert f"item link {bad.id} failed" in caplog.text  # a link has no co-op: logged for the administrator
