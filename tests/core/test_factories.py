"""Every mapped model has a factory in tests/factories.py, and every factory makes
rows the database accepts (on SQLite and on PostgreSQL, with all its constraints)."""

from __future__ import annotations

import inspect

import pytest
import sqlalchemy as sa

import careteams.models  # noqa: F401  (every domain's models, so the registry is complete)
from careteams.db import UTCDateTime
from careteams.extensions import db
from tests import factories


def _factories() -> list[type[factories.BaseFactory]]:
    found = [
        obj for _, obj in inspect.getmembers(factories, inspect.isclass)
        if issubclass(obj, factories.BaseFactory) and not obj._meta.abstract and obj._meta.model is not None
    ]
    return sorted(found, key=lambda f: f.__name__)


FACTORIES = _factories()


def _mapped_classes() -> list[type]:
    return sorted({mapper.class_ for mapper in db.Model.registry.mappers}, key=lambda c: c.__name__)


def _read_back(obj):
    """The flushed row as a fresh load from the database (nothing from the identity map)."""
    model = type(obj)
    identity = sa.inspect(obj).identity
    assert identity is not None, f"{model.__name__} has no primary key after flush"
    db.session.expunge_all()
    row = db.session.get(model, identity)
    assert row is not None, f"{model.__name__} {identity} was not found after flush"
    return row


def test_every_mapped_model_has_a_factory():
    covered = {f._meta.model for f in FACTORIES}
    missing = [cls.__name__ for cls in _mapped_classes() if cls not in covered]
    assert missing == [], f"models without a factory in tests/factories.py: {', '.join(missing)}"


def test_each_model_has_one_factory_only():
    models = [f._meta.model.__name__ for f in FACTORIES]
    assert sorted(models) == sorted(set(models))


@pytest.mark.parametrize("factory_class", FACTORIES, ids=lambda f: f.__name__)
def test_factory_creates_a_valid_row(app, factory_class):
    obj = factory_class()
    db.session.flush()
    row = _read_back(obj)
    # Times come back aware and in UTC on every backend.
    for column in sa.inspect(type(row)).columns:
        if isinstance(column.type, UTCDateTime):
            value = getattr(row, column.key)
            assert value is None or value.utcoffset() is not None, f"{column} came back naive"


@pytest.mark.parametrize("factory_class", FACTORIES, ids=lambda f: f.__name__)
def test_factory_creates_two_rows(app, factory_class):
    first, second = factory_class.create_batch(2)
    db.session.flush()
    ids = sa.inspect(first).identity, sa.inspect(second).identity
    assert ids[0] != ids[1]
    model = factory_class._meta.model
    pk = sa.inspect(model).primary_key[0]
    found = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(
        pk.in_([ids[0][0], ids[1][0]])))
    assert found == 2


# The factories' traits and options make valid rows too.
VARIANTS = [
    ("MembershipFactory", {"applicant": True}),
    ("TeamMemberFactory", {"invited": True}),
    ("HatFactory", {"offered": True}),
    ("WorkerProfileFactory", {"employed": True, "checks": []}),
    ("WorkerProfileFactory", {"worker_membership": False}),
    ("MatchFactory", {"asked": True}),
    ("MatchFactory", {"review": True}),
    ("ShiftFactory", {"booked": True}),
    ("TimesheetEntryFactory", {"submitted": True}),
    ("TimesheetEntryFactory", {"confirmed": True}),
    ("ResolutionFactory", {"opened": True}),
    ("ResolutionFactory", {"kind": "poll", "options": ["Yes", "No", "Later"]}),
    ("ResolutionFactory", {"options": False}),
    ("ProxyAppointmentFactory", {"electorate": False}),
]


@pytest.mark.parametrize(("name", "kwargs"), VARIANTS, ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_factory_variants_create_valid_rows(app, name, kwargs):
    obj = getattr(factories, name)(**kwargs)
    db.session.flush()
    _read_back(obj)


# --- parents and children stay in one co-op ---------------------------------------


def test_match_worker_and_team_share_the_vacancy_co_op(app):
    from careteams.matching.models import WorkerProfile
    from careteams.teams.models import Team

    match = factories.MatchFactory(trial=True)
    team = db.session.get(Team, match.team_id)
    assert match.cooperative_id == match.vacancy.cooperative_id == team.cooperative_id
    assert db.session.scalar(sa.select(WorkerProfile).where(
        WorkerProfile.cooperative_id == match.cooperative_id, WorkerProfile.person_id == match.worker_id))


def test_shift_swap_is_between_two_workers_of_one_team(app):
    swap = factories.ShiftSwapFactory()
    assert swap.shift.team_id == swap.other_shift.team_id
    assert swap.requested_by_id != swap.partner_id
    assert {swap.requested_by_id, swap.partner_id} == {swap.shift.booked_person_id, swap.other_shift.booked_person_id}


def test_booked_factory_shifts_of_one_worker_never_overlap(app):
    # PostgreSQL's exclusion constraint refuses overlapping booked shifts for one worker.
    first = factories.ShiftFactory(booked=True)
    second = factories.ShiftFactory(booked=True, team=first.team, booked_person=first.booked_person)
    db.session.flush()
    assert first.ends_at <= second.starts_at or second.ends_at <= first.starts_at


def test_run_entry_is_in_its_run_s_co_op(app):
    from careteams.hours.models import PayRun
    from careteams.teams.models import Team

    entry = factories.RunEntryFactory()
    run = db.session.get(PayRun, entry.run_id)
    assert db.session.get(Team, entry.team_id).cooperative_id == run.cooperative_id


def test_proxy_appointment_members_are_in_the_electorate(app):
    from careteams.governance.models import ElectorateEntry

    appointment = factories.ProxyAppointmentFactory()
    members = set(db.session.scalars(sa.select(ElectorateEntry.membership_id).where(
        ElectorateEntry.resolution_id == appointment.resolution_id)))
    assert members == {appointment.appointer_membership_id, appointment.proxy_membership_id}
    assert appointment.appointer.cooperative_id == appointment.proxy.cooperative_id
