"""Issue 20: a worker's open offers (/my/offers and GET /api/v1/me/offers) load the rota
settings, her visits and her 48-hour opt-out once per page, not once per offer: the
statement count is the same with 1 and with 5 open offers, and the checks say the same."""

from __future__ import annotations

from datetime import timedelta

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.services.checks import findings_for
from careteams.rota.services.offers import book_directly, offer_shift
from careteams.rota.services.reading import my_offers
from tests.helpers import QueryCounter
from tests.rota.conftest import MONDAY, make_shift
from tests.rota.test_worker_pages import get, log_in


def reads(counter: QueryCounter) -> list[str]:
    """Reads only: the test's own savepoints come and go around each request."""
    return [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]


def offer(world, day: int, hour: int = 9, hours: float = 1.0):
    shift = make_shift(world.team, MONDAY + timedelta(days=day, hours=hour), hours=hours)
    offer_shift(actor_for(world.leader), shift.id)
    return shift


def booked_for_worker2(world, day: int, hour: int, hours: float):
    shift = make_shift(world.team, MONDAY + timedelta(days=day, hours=hour), hours=hours)
    assert book_directly(actor_for(world.leader), shift.id, world.worker2.id).ok
    return shift


def test_my_offers_page_and_api_count_the_same_statements_with_1_and_5_offers(world, app, auth_headers):
    booked_for_worker2(world, 0, 6, 2.5)  # visits of hers the checks must load
    offer(world, 0)
    client, _ = log_in(app, world.worker2)
    headers = auth_headers(world.worker2)
    db.session.commit()
    get(client, "/my/offers")  # warm up: the login session, the viewer, the token's first use
    client.get("/api/v1/me/offers", headers=headers)
    with QueryCounter(db.engine) as page_one:
        html = get(client, "/my/offers").get_data(as_text=True)
    assert html.count('/accept"') == 1
    with QueryCounter(db.engine) as api_one:
        listed = client.get("/api/v1/me/offers", headers=headers)
    assert listed.status_code == 200 and len(listed.json) == 1

    for day in (1, 2, 3, 4):
        offer(world, day)
    db.session.commit()
    with QueryCounter(db.engine) as page_five:
        html = get(client, "/my/offers").get_data(as_text=True)
    assert html.count('/accept"') == 5
    with QueryCounter(db.engine) as api_five:
        listed = client.get("/api/v1/me/offers", headers=headers)
    assert listed.status_code == 200 and len(listed.json) == 5

    assert len(reads(page_five)) == len(reads(page_one)), (len(reads(page_one)), len(reads(page_five)))
    assert len(reads(api_five)) == len(reads(api_one)), (len(reads(api_one)), len(reads(api_five)))


def test_the_offers_loaded_at_once_have_the_same_checks_as_one_by_one(world):
    # Her visits: one too close to an offer (too little rest), one long before (outside
    # some offers' windows), one far after: each offer's checks see only its own window.
    booked_for_worker2(world, 0, 0, 8)
    booked_for_worker2(world, -40, 9, 10)
    booked_for_worker2(world, 30, 9, 12)
    shifts = [offer(world, 0, 9, 4), offer(world, 0, 14, 12), offer(world, 5), offer(world, 29, 22, 2)]
    listed = my_offers(world.worker2)
    assert sorted(o.shift_id for o, _ in listed) == sorted(s.id for s in shifts)
    some_finding = False
    for o, view in listed:
        alone = findings_for(o.shift, o.shift.team, world.worker2.id)
        assert [(f.code, f.message) for f in view.findings] == [(f.code, f.message) for f in alone]
        some_finding = some_finding or bool(alone)
    assert some_finding, "the visits chosen should give at least one offer a finding"
