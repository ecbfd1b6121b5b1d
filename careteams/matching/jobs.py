"""Clock jobs for matching: warn workers before a check or training item runs out; find the
points of postcodes the geocoder could not answer for at the time (profiles, vacancies, teams)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from careteams import geo
from careteams.extensions import db
from careteams.jobs_util import run_each
from careteams.matching import rules
from careteams.matching.models import MatchingSettings, Vacancy, WorkerCheck, WorkerProfile
from careteams.matching.services.common import DEFAULT_CHECK_WARNING_DAYS
from careteams.matching.services.notifications import notify_person
from careteams.scheduler import job
from careteams.teams.models import Team


@job("matching.warn_expiring_checks", "cron", hour=8, minute=0)
def warn_expiring_checks(now: datetime) -> int:
    """Tell each worker once per expiry date that a check runs out soon; returns how many were told."""
    today = now.date()
    settings = {s.cooperative_id: s.check_warning_days for s in db.session.scalars(sa.select(MatchingSettings))}
    default_days = DEFAULT_CHECK_WARNING_DAYS
    rows = db.session.execute(
        sa.select(WorkerCheck, WorkerProfile.person_id, WorkerProfile.cooperative_id)
        .join(WorkerProfile, WorkerProfile.id == WorkerCheck.worker_profile_id)
        .where(WorkerCheck.expires_on.is_not(None), WorkerCheck.expires_on >= today,
               WorkerCheck.expires_on <= today + timedelta(days=max([default_days, *settings.values()])),
               sa.or_(WorkerCheck.warned_for_expiry_on.is_(None),
                      WorkerCheck.warned_for_expiry_on != WorkerCheck.expires_on))).all()

    def warn(row) -> int:
        check, person_id, coop_id = row
        if check.expires_on > today + timedelta(days=settings.get(coop_id, default_days)):
            return 0
        # Conditional update: a second clock (or a re-run) finds nothing left to do.
        claimed = db.session.execute(
            sa.update(WorkerCheck).where(WorkerCheck.id == check.id, sa.or_(
                WorkerCheck.warned_for_expiry_on.is_(None), WorkerCheck.warned_for_expiry_on != check.expires_on))
            .values(warned_for_expiry_on=check.expires_on)).rowcount
        if not claimed:
            return 0
        label = check.name or rules.CHECK_LABELS[check.kind]
        notify_person(person_id, f"Your {label} runs out on {check.expires_on:%d %B %Y}. "
                                 "Please show the renewal to a facilitator.", cooperative_id=coop_id)
        db.session.flush()
        return 1

    # Each check in its own savepoint: one that fails is rolled back alone and said once.
    return sum(run_each("matching.warn_expiring_checks", rows, warn, key=lambda row: f"check {row[0].id}",
                        cooperative=lambda row: row[2]).done)


# Rows looked up per run and kind: postcodes.io answers in well under a second, and a
# backlog is worked through over a few runs rather than one long one.
GEOCODE_BATCH = 200


@job("matching.geocode_places", "interval", minutes=15)
def geocode_places(now: datetime) -> int:
    """Find the points of postcodes saved while the geocoder could not answer (worker profiles,
    vacancies, teams); returns how many were found. Until then those are left out of distance
    filtering, and their pages say so. If the geocoder is still down, the rest wait for the next run."""
    rows = [row for model in (WorkerProfile, Vacancy, Team) for row in db.session.scalars(
        sa.select(model).where(model.geocode_pending.is_(True), model.postcode.is_not(None))
        .order_by(model.id).limit(GEOCODE_BATCH))]
    down = False

    def retry(row) -> int:
        nonlocal down
        if down:
            return 0
        try:
            found = geo.geocode_again(row)
        except geo.GeocoderError:
            down = True  # one failure is enough to know: no point timing out on every row
            return 0
        db.session.flush()
        return int(found)

    # Each row in its own savepoint: one that fails is rolled back alone and said once.
    return sum(run_each("matching.geocode_places", rows, retry, key=lambda row: f"{row.__tablename__} {row.id}",
                        cooperative=lambda row: row.cooperative_id).done)
