"""PostgreSQL: exactly one acceptance wins under real concurrency, and a worker can
never hold two overlapping booked shifts (the exclusion constraint), even when the
application's own check is raced."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from careteams.auth.services import create_api_token
from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Offer, Shift, ShiftStatus
from careteams.rota.services import offers as offers_service
from careteams.rota.services.offers import offer_shift
from careteams.teams.models import Team
from tests.conftest import requires_postgres
from tests.factories import PersonFactory
from tests.rota.conftest import MONDAY, add_member, build_world, make_shift, make_team

pytestmark = [pytest.mark.postgres]


def fire(app, requests: list[tuple[str, dict]]) -> list[tuple[int, dict]]:
    """POST every (url, headers) at once from its own thread, app context and client."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(i, url, headers):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            try:
                response = client.post(url, headers=headers)
                results[i] = (response.status_code, response.get_json())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, url, headers)) for i, (url, headers) in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in results), "a request never finished"
    return results


@pytest.mark.concurrency
def test_fifty_concurrent_acceptances_one_winner(committed_app, database_url):
    requires_postgres(database_url)
    app = committed_app
    with app.app_context():
        world = build_world()
        workers = [add_member(world.team, PersonFactory()) for _ in range(48)] + [world.worker, world.worker2]
        shift = make_shift(world.team, MONDAY + timedelta(hours=9))
        offers = offer_shift(actor_for(world.leader), shift.id)
        assert len(offers) == 50
        by_person = {o.person_id: o.id for o in offers}
        requests = []
        for person in workers:
            _, secret = create_api_token(person, "test")
            requests.append((f"/api/v1/offers/{by_person[person.id]}/accept", {"Authorization": f"Bearer {secret}"}))
        shift_id = shift.id
        db.session.commit()

    results = fire(app, requests)

    statuses = [status for status, _ in results]
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(200) == 1
    assert statuses.count(409) == 49
    assert {body["error"]["code"] for status, body in results if status == 409} == {"already_filled"}
    with app.app_context():
        shift = db.session.get(Shift, shift_id)
        winner = next(body for status, body in results if status == 200)
        assert winner["outcome"] == "booked" and shift.status == ShiftStatus.booked
        accepted = db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift_id, Offer.status == "accepted")).all()
        assert [o.person_id for o in accepted] == [shift.booked_person_id]


def test_exclusion_constraint_refuses_overlap_across_teams(app, database_url):
    requires_postgres(database_url)
    world = build_world()
    add_member(world.other_team, world.worker)
    make_shift(world.team, MONDAY + timedelta(hours=9), hours=2, status=ShiftStatus.booked, person=world.worker)
    # Touching is fine: 11:00 to 12:00 after 09:00 to 11:00.
    make_shift(world.other_team, MONDAY + timedelta(hours=11), status=ShiftStatus.booked, person=world.worker)
    # Bypassing the application's check, the database still refuses an overlap in another team.
    with pytest.raises(IntegrityError) as info, db.session.begin_nested():
        make_shift(world.other_team, MONDAY + timedelta(hours=10), status=ShiftStatus.booked, person=world.worker)
    assert "ex_shift_no_double_booking" in str(info.value)
    # Cancelled or open shifts at the same time are not bookings.
    make_shift(world.other_team, MONDAY + timedelta(hours=10), status=ShiftStatus.cancelled, person=world.worker)
    make_shift(world.other_team, MONDAY + timedelta(hours=10))


@pytest.mark.concurrency
@pytest.mark.parametrize("app_check", [True, False], ids=["with-app-check", "database-alone"])
def test_concurrent_bookings_of_one_worker_in_many_teams(committed_app, database_url, monkeypatch, app_check):
    """Ten teams offer the same worker overlapping shifts; all ten acceptances race at once;
    exactly one booking survives, even with the application's own check switched off."""
    requires_postgres(database_url)
    if not app_check:
        monkeypatch.setattr(offers_service, "booked_elsewhere", lambda *args, **kwargs: False)
    app = committed_app
    with app.app_context():
        world = build_world()
        teams = [world.team] + [make_team(world.coop, name=f"Team {i}") for i in range(9)]
        for team in teams[1:]:
            add_member(team, world.worker)
        _, secret = create_api_token(world.worker, "test")
        headers = {"Authorization": f"Bearer {secret}"}
        requests = []
        for i, team in enumerate(teams):
            shift = make_shift(team, MONDAY + timedelta(hours=9, minutes=5 * i))
            offer = next(o for o in offer_shift(actor_for(team.leader), shift.id) if o.person_id == world.worker.id)
            requests.append((f"/api/v1/offers/{offer.id}/accept", headers))
        worker_id = world.worker.id
        db.session.commit()

    results = fire(app, requests)

    statuses = [status for status, _ in results]
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(200) == 1 and statuses.count(409) == 9
    assert {body["error"]["code"] for status, body in results if status == 409} == {"double_booked"}
    with app.app_context():
        booked = db.session.scalars(sa.select(Shift).where(Shift.booked_person_id == worker_id,
                                                           Shift.status == ShiftStatus.booked)).all()
        assert len(booked) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 11
