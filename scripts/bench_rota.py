#!/usr/bin/env python3
"""Time the two busiest rota requests as a team grows: the week's rota, and a
worker's signed "Y <code>" text accepting a shift offered to the whole team.

Not a test: it prints, per team size, the median and best time of each request
and the number of SQL statements it ran (the rota's count should not grow with
the team; see tests/rota/test_views.py::test_week_rota_takes_constant_queries).

    .venv/bin/python scripts/bench_rota.py                      # a throwaway SQLite file
    .venv/bin/python scripts/bench_rota.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python scripts/bench_rota.py --sizes 5 50 200 --runs 9

Requests go through the whole app (Flask test client: routing, auth, schemas,
services, TwiML), not over a socket, and commit as in production. So give it a
throwaway database: it empties the one you name (DROP SCHEMA public CASCADE on
PostgreSQL), then migrates it to head. Phone numbers are in Ofcom's drama range.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from careteams import create_app  # noqa: E402
from careteams.extensions import db  # noqa: E402

# Ofcom's drama range, 07700 900000-900999: never a real phone.
PHONES = iter(f"+447700900{n:03d}" for n in range(1000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 50, 200], help="workers in the team")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per size and request (median reported)")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='careteams-bench-')) / 'bench.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    # Testing settings: the in-memory SMS gateway (nothing leaves the machine) and a
    # known Twilio auth token to sign the inbound texts with. No rate limit: this is
    # one client firing many requests on purpose.
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        import flask_migrate

        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
        print(f"database: {db.engine.dialect.name}")
        print(f"{'workers':>7} {'request':<28} {'statements':>10} {'median ms':>9} {'best ms':>8}")
        for size in args.sizes:
            bench_size(app, size, args.runs)


class Counter:
    """Counts SQL statements sent to the engine while active."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.n += 1

    def __enter__(self):
        self.n = 0
        sa.event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self)


def fresh_context(app, call, *args, **kwargs):
    """Each request in its own app context, as in production: a request inside the
    script's app context would share its `g` (and the actor cached there). The
    script's own transaction ends first: on SQLite (BEGIN IMMEDIATE) it holds the
    write lock, which the request would wait for."""
    db.session.rollback()
    with app.app_context():
        return call(*args, **kwargs)


def report(size: int, label: str, timings: list[float], statements: int) -> None:
    print(f"{size:>7} {label:<28} {statements:>10} {statistics.median(timings) * 1000:>9.1f}"
          f" {min(timings) * 1000:>8.1f}")


def bench_size(app, size: int, runs: int) -> None:
    from careteams.auth.services import create_api_token
    from careteams.matching.models import CheckKind, EmploymentType, WorkerCheck, WorkerProfile
    from careteams.members.models import Cooperative, Person
    from careteams.rota.models import Offer, OfferStatus, Shift, ShiftKind, ShiftStatus
    from careteams.teams.models import Team, TeamMember, TeamMemberStatus, TeamRole

    tag = f"{size}"
    coop = Cooperative(name=f"Bench {tag}", slug=f"bench-{tag}", timezone="Europe/London", sms_number=next(PHONES))
    db.session.add(coop)
    db.session.flush()
    leader = Person(name="Bench Leader", email=f"leader-{tag}@example.invalid")
    db.session.add(leader)
    db.session.flush()
    team = Team(cooperative_id=coop.id, leader_id=leader.id, display_name="Bench", latitude=53.74, longitude=-2.01)
    db.session.add(team)
    db.session.flush()
    workers = []
    for i in range(size):
        person = Person(name=f"Worker {i}", email=f"w{i}-{tag}@example.invalid", phone=next(PHONES))
        db.session.add(person)
        workers.append(person)
    db.session.flush()
    for person in workers:
        db.session.add(TeamMember(team_id=team.id, person_id=person.id, role=TeamRole.paid_worker,
                                  status=TeamMemberStatus.active))
        profile = WorkerProfile(cooperative_id=coop.id, person_id=person.id,
                                employment_type=EmploymentType.independent, hourly_rate_pence=1500,
                                latitude=53.74, longitude=-2.01, travel_km=15, languages=["English"], interests=[])
        profile.checks = [WorkerCheck(kind=CheckKind.enhanced_dbs, checked_on=date(2024, 6, 1),
                                      expires_on=date(2099, 1, 1)),
                          WorkerCheck(kind=CheckKind.right_to_work, checked_on=date(2024, 6, 1), expires_on=None)]
        db.session.add(profile)
    # A busy week: every worker has two booked visits, and there are as many open ones.
    today = datetime.now(UTC).date()
    monday = datetime.combine(today - timedelta(days=today.weekday()) + timedelta(weeks=2), datetime.min.time(),
                              tzinfo=UTC)
    for i, person in enumerate(workers):
        for k in range(2):
            start = monday + timedelta(days=(i + 3 * k) % 7, hours=7 + k * 8)
            db.session.add(Shift(team_id=team.id, starts_at=start, ends_at=start + timedelta(hours=2),
                                 kind=ShiftKind.personal_care, status=ShiftStatus.booked,
                                 booked_person_id=person.id, required_skills=[]))
            db.session.add(Shift(team_id=team.id, starts_at=start + timedelta(hours=3),
                                 ends_at=start + timedelta(hours=4), kind=ShiftKind.companionship,
                                 status=ShiftStatus.open, required_skills=[]))
    _, secret = create_api_token(leader, "bench")
    db.session.commit()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    rota_url = f"/api/v1/teams/{team.id}/rota?week={monday.date().isoformat()}"
    timings, statements = [], 0
    for _ in range(runs):
        with Counter() as counter:
            t0 = time.perf_counter()
            response = fresh_context(app, client.get, rota_url, headers=headers)
            timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert len(response.get_json()["shifts"]) == 4 * size
        statements = counter.n
    report(size, "GET week rota (API)", timings, statements)

    # A worker accepts, by text, a shift just offered to the whole team. Each run
    # offers a new shift (untimed), then times the signed webhook end to end.
    from careteams.members.services import actor_for
    from careteams.rota.services import offers as rota

    validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])
    inbound = "http://localhost/sms/inbound"
    timings, statements = [], 0
    for run in range(runs):
        start = monday + timedelta(weeks=1, days=run % 7, hours=22)
        shift = Shift(team_id=team.id, starts_at=start, ends_at=start + timedelta(hours=1),
                      kind=ShiftKind.practical_help, status=ShiftStatus.open, required_skills=[])
        db.session.add(shift)
        db.session.flush()
        offers = rota.offer_shift(actor_for(leader), shift.id, wave_size=0)
        db.session.commit()
        assert len(offers) == size, (len(offers), size)
        winner = workers[run % size]
        code = db.session.scalar(sa.select(Offer.code).where(Offer.shift_id == shift.id,
                                                             Offer.person_id == winner.id))
        form = {"MessageSid": f"SM{size:016d}{run:016d}", "From": winner.phone,
                "To": coop.sms_number, "Body": f"Y {code}"}
        signature = validator.compute_signature(inbound, form)
        with Counter() as counter:
            t0 = time.perf_counter()
            response = fresh_context(app, client.post, "/sms/inbound", data=form,
                                     headers={"X-Twilio-Signature": signature})
            timings.append(time.perf_counter() - t0)
        assert response.status_code == 200 and "Booked" in response.get_data(as_text=True), \
            response.get_data(as_text=True)[:300]
        statements = counter.n
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer).where(
            Offer.shift_id == shift.id, Offer.status == OfferStatus.open)) == 0
        db.session.rollback()
    report(size, "SMS 'Y code' (offered to all)", timings, statements)


if __name__ == "__main__":
    main()
