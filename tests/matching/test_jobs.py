"""The clock job that warns workers before a check runs out: once per expiry date."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.jobs import warn_expiring_checks
from careteams.matching.models import CheckKind, Notification, WorkerCheck, WorkerProfile
from careteams.scheduler import load_jobs
from tests.matching.conftest import NOW, make_worker


def notes_for(person):
    return db.session.scalars(sa.select(Notification.body).where(Notification.person_id == person.id)).all()


def test_warns_once_per_expiry_and_again_after_renewal(world):
    assert "matching.warn_expiring_checks" in load_jobs()
    soon = make_worker(world.coop, "Sam Soon", dbs_expires=NOW.date() + timedelta(days=20))
    later = make_worker(world.coop, "Lou Later", dbs_expires=NOW.date() + timedelta(days=200))
    gone = make_worker(world.coop, "Gus Gone", dbs_expires=NOW.date() - timedelta(days=1))
    assert warn_expiring_checks(NOW) == 1
    assert warn_expiring_checks(NOW) == 0  # idempotent
    (body,) = notes_for(soon)
    assert "Enhanced DBS check runs out on" in body
    assert notes_for(later) == [] and notes_for(gone) == []
    # Renewed, and later close to running out again: a new warning.
    check = db.session.scalar(sa.select(WorkerCheck).join(WorkerProfile).where(
        WorkerProfile.person_id == soon.id, WorkerCheck.kind == CheckKind.enhanced_dbs))
    check.expires_on = NOW.date() + timedelta(days=400)
    db.session.flush()
    assert warn_expiring_checks(NOW) == 0
    assert warn_expiring_checks(NOW + timedelta(days=380)) == 1
    assert len(notes_for(soon)) == 2
