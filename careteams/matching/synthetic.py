"""Synthetic worker profiles in bulk, for the load test and scripts/bench_matching.py.

Core inserts (a few statements, executemany), never one ORM object per row: ten
thousand profiles take about a second.

Layer: a script-like data generator, beside demo.py above services. It is not a
use case (no actor, no permission check) and nothing in careteams imports it:
only tests/matching/test_scale.py and scripts/bench_matching.py do.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.geo import DEMO_PLACES
from careteams.matching.models import (
    AvailabilityWindow,
    CheckKind,
    EmploymentType,
    WorkerCheck,
    WorkerProfile,
    worker_skill,
)
from careteams.members.models import Person

LANGUAGES = ("English", "Urdu", "Polish", "Punjabi", "Welsh", "Bengali", "Arabic")
SYNTHETIC_POSTCODES = tuple(pc for pc in DEMO_PLACES if pc.startswith("HX7 "))
INTERESTS = ("gardening", "football", "music", "cooking", "walking", "crafts", "films", "chess", "birds")


def generate_profiles(cooperative_id: int, skill_ids: list[int], n: int, center: tuple[float, float], *,
                      today: date, seed: int = 1, spread_km: float = 40.0, expired_share: float = 0.1,
                      tag: str = "synthetic") -> list[int]:
    """Insert `n` people with worker profiles around `center`; return their person ids."""
    rng = random.Random(seed)  # noqa: S311  (test data, not security)
    lat0, lon0 = center
    people = [{"name": f"Synthetic{i} Worker", "email": f"{tag}-{seed}-{i}@example.invalid", "active": True}
              for i in range(n)]
    conn = db.session.connection()
    # Plain Core executemany on the tables: the ORM's bulk path with RETURNING is far slower here.
    now = datetime.now(UTC)
    conn.execute(sa.insert(Person.__table__), [{**p, "created_at": now, "preferred_channel": "email",
                                                "session_version": 1} for p in people])
    by_email = dict(conn.execute(sa.select(Person.email, Person.id).where(Person.email.like(f"{tag}-{seed}-%"))).all())
    person_ids = [by_email[p["email"]] for p in people]
    profiles = []
    for person_id in person_ids:
        # Roughly uniform in a square `spread_km` across (1 degree of latitude ~ 111 km).
        dlat = rng.uniform(-spread_km, spread_km) / 111.0 / 2
        dlon = rng.uniform(-spread_km, spread_km) / 66.0 / 2
        employed = rng.random() < 0.33
        profiles.append({
            "cooperative_id": cooperative_id, "person_id": person_id,
            "employment_type": (EmploymentType.employed if employed else EmploymentType.independent).value,
            "hourly_rate_pence": None if employed else rng.randrange(1250, 1800, 5),
            "languages": ["English"] + rng.sample(LANGUAGES[1:], rng.randrange(0, 2)),
            "interests": rng.sample(INTERESTS, rng.randrange(0, 4)),
            # A postcode from the fixed geocoder's table (never looked up: the point is given,
            # spread at random around `center`, which is what scale tests need).
            "postcode": SYNTHETIC_POSTCODES[person_id % len(SYNTHETIC_POSTCODES)], "geocode_pending": False,
            "latitude": lat0 + dlat, "longitude": lon0 + dlon, "district": "HX7",
            "travel_km": rng.choice((3, 5, 8, 10, 15, 20)), "available": rng.random() > 0.05,
        })
    conn.execute(sa.insert(WorkerProfile.__table__), [{**p, "created_at": now, "updated_at": now} for p in profiles])
    by_person = dict(conn.execute(sa.select(WorkerProfile.person_id, WorkerProfile.id).where(
        WorkerProfile.cooperative_id == cooperative_id, WorkerProfile.person_id.in_(
            sa.select(Person.id).where(Person.email.like(f"{tag}-{seed}-%"))))).all())
    profile_ids = [by_person[pid] for pid in person_ids]
    windows, checks, skills = [], [], []
    for profile_id in profile_ids:
        for day in rng.sample(range(7), rng.randrange(1, 5)):
            start = rng.randrange(6, 16) * 60
            windows.append({"worker_profile_id": profile_id, "weekday": day, "start_minute": start,
                            "end_minute": start + rng.randrange(2, 8) * 60})
        expired = rng.random() < expired_share
        checks.append({"worker_profile_id": profile_id, "kind": CheckKind.enhanced_dbs.value, "name": "",
                       "checked_on": today - timedelta(days=1000),
                       "expires_on": today - timedelta(days=rng.randrange(1, 200)) if expired
                       else today + timedelta(days=rng.randrange(30, 900))})
        checks.append({"worker_profile_id": profile_id, "kind": CheckKind.right_to_work.value, "name": "",
                       "checked_on": today - timedelta(days=1000), "expires_on": None})
        for skill_id in skill_ids:
            if rng.random() < 0.6:
                skills.append({"worker_profile_id": profile_id, "skill_id": skill_id})
    conn.execute(sa.insert(AvailabilityWindow.__table__), windows)
    conn.execute(sa.insert(WorkerCheck.__table__), [{**c, "recorded_by_id": None} for c in checks])
    if skills:
        conn.execute(sa.insert(worker_skill), skills)
    return person_ids
