"""Rota API and pages: permission matrix, answers, feeds, pages and query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Offer, Shift, ShiftKind, ShiftStatus
from careteams.rota.services.cover import agree_swap, propose_swap
from careteams.rota.services.offers import book_directly, offer_shift
from careteams.rota.services.reading import week_rota
from tests.factories import PersonFactory
from tests.rota.conftest import MONDAY, add_member, csrf_from, make_shift

ACTORS = ["leader", "wrangler", "circle", "worker", "trial", "other_worker", "facilitator", "other_facilitator", "stranger"]
VIEW = {"leader": 200, "wrangler": 200, "circle": 200, "worker": 200, "trial": 403, "other_worker": 404,
        "facilitator": 200, "other_facilitator": 404, "stranger": 404}
EDIT = {"leader": 2, "wrangler": 2, "circle": 403, "worker": 403, "trial": 403, "other_worker": 404,
        "facilitator": 403, "other_facilitator": 404, "stranger": 404}


def ok_or(expected, success):
    return success if expected == 2 else expected


def ask(client, method, url, headers, **kw):
    # Commit the setup first: a refused request rolls its session back, and in tests that
    # session is the test's own (the request joins the pushed app context).
    db.session.commit()
    response = getattr(client, method)(url, headers=headers, **kw)
    db.session.expire_all()
    return response


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_view_rota(world, client, auth_headers, who):
    make_shift(world.team, MONDAY + timedelta(hours=9))
    response = ask(client, "get", f"/api/v1/teams/{world.team.id}/rota?week=2027-01-04", auth_headers(getattr(world, who)))
    assert response.status_code == VIEW[who]
    if VIEW[who] == 200:
        assert len(response.json["shifts"]) == 1
    else:
        assert "shifts" not in response.json and response.json["error"]["code"] in ("forbidden", "not_found")


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_create_shift(world, client, auth_headers, who):
    body = {"starts_at": "2027-01-05T09:00:00", "ends_at": "2027-01-05T10:00:00", "kind": "companionship"}
    response = ask(client, "post", f"/api/v1/teams/{world.team.id}/shifts", auth_headers(getattr(world, who)), json=body)
    assert response.status_code == ok_or(EDIT[who], 201)
    assert count(Shift, Shift.team_id == world.team.id) == (1 if EDIT[who] == 2 else 0)


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_offer_shift(world, client, auth_headers, who):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    response = ask(client, "post", f"/api/v1/shifts/{shift.id}/offers", auth_headers(getattr(world, who)), json={})
    assert response.status_code == ok_or(EDIT[who], 201)
    assert count(Offer, Offer.shift_id == shift.id) == (2 if EDIT[who] == 2 else 0)


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_cancel_shift(world, client, auth_headers, who):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    response = ask(client, "post", f"/api/v1/shifts/{shift.id}/cancel", auth_headers(getattr(world, who)),
                   json={"reason": "Hospital"})
    assert response.status_code == ok_or(EDIT[who], 200)
    assert (db.session.get(Shift, shift.id).status == ShiftStatus.cancelled) == (EDIT[who] == 2)


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_book_directly_and_outside_consent(world, client, auth_headers, who):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    headers = auth_headers(getattr(world, who))
    response = ask(client, "post", f"/api/v1/shifts/{shift.id}/outside-consent", headers)
    assert response.status_code == ok_or(EDIT[who], 200)
    assert (db.session.get(Shift, shift.id).outside_consent_by_id is not None) == (EDIT[who] == 2)
    response = ask(client, "post", f"/api/v1/shifts/{shift.id}/booking", headers, json={"person_id": world.worker2.id})
    assert response.status_code == ok_or(EDIT[who], 200)
    assert (db.session.get(Shift, shift.id).booked_person_id == world.worker2.id) == (EDIT[who] == 2)


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_edit_shift_and_add_recurring_visit(world, client, auth_headers, who):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    headers = auth_headers(getattr(world, who))
    response = ask(client, "patch", f"/api/v1/shifts/{shift.id}", headers, json={"notes": "Bring the shopping list"})
    assert response.status_code == ok_or(EDIT[who], 200)
    assert (db.session.get(Shift, shift.id).notes == "Bring the shopping list") == (EDIT[who] == 2)
    response = ask(client, "post", f"/api/v1/teams/{world.team.id}/series", headers, json={
        "rrule": "FREQ=WEEKLY;BYDAY=TU", "first_date": "2027-01-05", "start_time": "10:00",
        "duration_minutes": 60, "kind": "companionship"})
    assert response.status_code == ok_or(EDIT[who], 201)
    assert (count(Shift, Shift.series_id.is_not(None)) > 0) == (EDIT[who] == 2)


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_approve_swap(world, client, auth_headers, who):
    a = make_shift(world.team, MONDAY + timedelta(hours=9))
    b = make_shift(world.team, MONDAY + timedelta(days=1, hours=9))
    book_directly(actor_for(world.leader), a.id, world.worker.id)
    book_directly(actor_for(world.leader), b.id, world.worker2.id)
    swap = propose_swap(world.worker, a.id, b.id)
    agree_swap(world.worker2, swap.id, True)
    response = ask(client, "post", f"/api/v1/swaps/{swap.id}/decision", auth_headers(getattr(world, who)),
                   json={"approve": True})
    assert response.status_code == ok_or(EDIT[who], 200)
    assert (db.session.get(Shift, a.id).booked_person_id == world.worker2.id) == (EDIT[who] == 2)


@pytest.mark.parametrize("who", ACTORS)
def test_matrix_accept_someone_elses_offer(world, client, auth_headers, who):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    offers = offer_shift(actor_for(world.leader), shift.id)
    mine = next(o for o in offers if o.person_id == world.worker2.id)
    response = ask(client, "post", f"/api/v1/offers/{mine.id}/accept", auth_headers(getattr(world, who)))
    assert response.status_code == 404 and response.json["error"]["code"] == "unknown_offer"
    assert db.session.get(Shift, shift.id).booked_person_id is None


def test_api_accept_then_already_filled(world, client, auth_headers):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    response = client.post(f"/api/v1/shifts/{shift.id}/offers", json={}, headers=auth_headers(world.wrangler))
    assert sorted(o["person_id"] for o in response.json) == sorted([world.worker.id, world.worker2.id])
    offers = {o.person_id: o.id for o in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id))}
    won = client.post(f"/api/v1/offers/{offers[world.worker.id]}/accept", headers=auth_headers(world.worker))
    assert won.status_code == 200 and won.json["outcome"] == "booked", won.json
    db.session.commit()
    lost = client.post(f"/api/v1/offers/{offers[world.worker2.id]}/accept", headers=auth_headers(world.worker2))
    assert lost.status_code == 409 and lost.json["error"]["code"] == "already_filled"
    mine = client.get("/api/v1/me/shifts", headers=auth_headers(world.worker)).json
    assert [s["id"] for s in mine] == [shift.id] and mine[0]["code"]


def test_bad_input_is_422_with_fields(world, client, auth_headers):
    headers = auth_headers(world.leader)
    db.session.commit()  # refused requests roll back; keep the setup
    url = f"/api/v1/teams/{world.team.id}/shifts"
    r = client.post(url, json={"starts_at": "2027-01-05T09:00", "ends_at": "2027-01-05T08:00", "kind": "companionship"}, headers=headers)
    assert r.status_code == 422 and "ends_at" in r.json["error"]["details"]["fields"]
    r = client.post(url, json={"starts_at": "2027-01-05T09:00", "ends_at": "2027-01-05T10:00", "kind": "medical"}, headers=headers)
    assert r.status_code == 422 and "kind" in r.json["error"]["details"]["fields"]
    r = client.post(url, json={"starts_at": "2026-03-29T01:30", "ends_at": "2026-03-29T03:00", "kind": "overnight"}, headers=headers)
    assert r.status_code == 422 and "starts_at" in r.json["error"]["details"]["fields"]
    r = client.post(f"/api/v1/teams/{world.team.id}/series", json={
        "rrule": "every day", "first_date": "2027-01-04", "start_time": "09:00", "duration_minutes": 60,
        "kind": "companionship"}, headers=headers)
    assert r.status_code == 422 and "rrule" in r.json["error"]["details"]["fields"]
    assert count(Shift) == 0


def test_rota_api_shows_local_times_and_true_length(world, client, auth_headers):
    headers = auth_headers(world.leader)
    r = client.post(f"/api/v1/teams/{world.team.id}/shifts", json={
        "starts_at": "2027-10-30T20:00:00", "ends_at": "2027-10-31T08:00:00", "kind": "sleep_in", "break_minutes": 60},
        headers=headers)
    assert r.status_code == 201, r.json
    assert r.json["duration_minutes"] == 13 * 60
    assert r.json["local_start"].startswith("2027-10-30T20:00:00+01:00")
    assert r.json["local_end"].startswith("2027-10-31T08:00:00+00:00")
    week = client.get(f"/api/v1/teams/{world.team.id}/rota?week=2027-10-27", headers=headers).json
    assert [s["duration_minutes"] for s in week["shifts"]] == [780]


def test_calendar_feeds_parse_carry_times_and_no_health_details(world, client, auth_headers):
    # The night the clocks go back in 2027: 20:00 BST to 08:00 GMT is 13 hours.
    shift = make_shift(world.team, datetime(2027, 10, 30, 19, tzinfo=UTC), hours=13, kind=ShiftKind.personal_care,
                       notes="Insulin at 8pm")
    book_directly(actor_for(world.leader), shift.id, world.worker.id)
    r = client.post("/api/v1/calendar-feeds", json={}, headers=auth_headers(world.worker))
    assert r.status_code == 201
    url = r.json["url"]
    path = url[url.index("/calendar/"):]
    body = client.get(path)
    assert body.status_code == 200 and body.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(body.data)
    [event] = [c for c in cal.walk("VEVENT")]
    assert event.decoded("DTSTART") == datetime(2027, 10, 30, 19, tzinfo=UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=13)
    text = body.get_data(as_text=True).lower()
    assert "insulin" not in text and "personal" not in text
    # Revoked: gone.
    client.delete(f"/api/v1/calendar-feeds/{r.json['id']}", headers=auth_headers(world.worker))
    assert client.get(path).status_code == 404
    # Someone else's feed cannot be revoked by you.
    other = client.post("/api/v1/calendar-feeds", json={}, headers=auth_headers(world.worker2)).json
    assert ask(client, "delete", f"/api/v1/calendar-feeds/{other['id']}", auth_headers(world.worker)).status_code == 404


def test_team_feed_is_for_the_circle(world, client, auth_headers):
    make_shift(world.team, MONDAY + timedelta(hours=9))
    assert ask(client, "post", "/api/v1/calendar-feeds", auth_headers(world.worker),
               json={"team_id": world.team.id}).status_code == 403
    assert ask(client, "post", "/api/v1/calendar-feeds", auth_headers(world.stranger),
               json={"team_id": world.team.id}).status_code == 404
    r = client.post("/api/v1/calendar-feeds", json={"team_id": world.team.id}, headers=auth_headers(world.circle))
    assert r.status_code == 201
    body = client.get(r.json["url"][r.json["url"].index("/calendar/"):])
    cal = icalendar.Calendar.from_ical(body.data)
    assert len(cal.walk("VEVENT")) == 1
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_pages_offer_accept_and_shifts_without_javascript(world, client, login):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    offer_shift(actor_for(world.leader), shift.id)
    db.session.flush()
    login(world.worker)
    page = client.get("/my/offers")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Accept" in html and "Decline" in html
    offer = db.session.scalar(sa.select(Offer).where(Offer.person_id == world.worker.id))
    # Without the CSRF token the form is refused and nothing changes.
    assert client.post(f"/my/offers/{offer.id}/accept").status_code == 400
    assert db.session.get(Shift, shift.id).booked_person_id is None
    r = client.post(f"/my/offers/{offer.id}/accept", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).booked_person_id == world.worker.id
    mine = client.get("/my/shifts").get_data(as_text=True)
    # A month ahead: cover can be asked, arrival not yet (test_worker_pages: only around the visit).
    assert f'action="/my/shifts/{shift.id}/arrival"' not in mine and "Ask for cover" in mine and "Ann" in mine


def test_rota_page_is_an_accessible_table(world, client, login):
    s = make_shift(world.team, MONDAY + timedelta(hours=9), hours=0.5)
    book_directly(actor_for(world.leader), s.id, world.worker.id)
    login(world.leader)
    page = client.get(f"/teams/{world.team.id}/rota?week=2027-01-04")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<caption" in html and 'scope="col"' in html and 'scope="row"' in html
    assert "Wendy Worker" in html and "Warning:" in html


def test_rota_page_private_to_strangers(world, client, login):
    login(world.stranger)
    assert client.get(f"/teams/{world.team.id}/rota").status_code == 404


def test_week_rota_takes_constant_queries(world, app):
    """The same number of SQL statements for a small and a large team."""
    def statements_for(team, workers):
        for i, person in enumerate(workers):
            s = make_shift(team, MONDAY + timedelta(days=i % 7, hours=8 + (i // 7) * 2))
            s.status, s.booked_person_id = ShiftStatus.booked, person.id
            make_shift(team, MONDAY + timedelta(days=i % 7, hours=20 + (i // 7) % 3), hours=0.5)
        db.session.flush()
        db.session.expire_all()
        seen = []

        def listener(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        engine = db.session.get_bind()
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            week = week_rota(actor_for(team.leader), team.id, MONDAY.date())
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        assert len(week.shifts) == 2 * len(workers)
        return len(seen)

    from tests.rota.conftest import make_team

    small_team = make_team(world.coop, name="Small")
    large_team = make_team(world.coop, name="Large")
    small = [add_member(small_team, PersonFactory()) for _ in range(2)]
    large = [add_member(large_team, PersonFactory()) for _ in range(30)]
    db.session.flush()
    n_small = statements_for(small_team, small)
    n_large = statements_for(large_team, large)
    assert n_small == n_large, (n_small, n_large)


@pytest.mark.parametrize("who, status", [("admin", 200), ("member", 403), ("facilitator", 403), ("leader", 404),
                                         ("other_facilitator", 404), ("stranger", 404)])
def test_rota_settings_only_for_the_coops_admins(world, client, auth_headers, who, status):
    from careteams.rota.models import RotaSettings
    from tests.factories import MembershipFactory

    world.member = MembershipFactory(cooperative=world.coop).person

    response = ask(client, "put", f"/api/v1/cooperatives/{world.coop.id}/rota-settings", auth_headers(getattr(world, who)),
                   json={"blocking_checks": ["rest", "travel"], "travel_speed_kmh": 30})
    assert response.status_code == status
    row = db.session.scalar(sa.select(RotaSettings).where(RotaSettings.cooperative_id == world.coop.id))
    assert (row is not None and row.travel_speed_kmh == 30) == (status == 200)


def test_rota_settings_refuse_unknown_checks(world, client, auth_headers):
    response = ask(client, "put", f"/api/v1/cooperatives/{world.coop.id}/rota-settings", auth_headers(world.admin),
                   json={"blocking_checks": ["naps"]})
    assert response.status_code == 422 and "blocking_checks" in response.json["error"]["details"]["fields"]


def test_swap_over_the_api(world, client, auth_headers):
    a = make_shift(world.team, MONDAY + timedelta(hours=9))
    b = make_shift(world.team, MONDAY + timedelta(days=1, hours=9))
    book_directly(actor_for(world.leader), a.id, world.worker.id)
    book_directly(actor_for(world.leader), b.id, world.worker2.id)
    r = ask(client, "post", "/api/v1/swaps", auth_headers(world.worker), json={"shift_id": a.id, "other_shift_id": b.id})
    assert r.status_code == 201 and r.json["status"] == "proposed"
    swap_id = r.json["id"]
    # A stranger cannot consent for the partner; the partner can.
    assert ask(client, "post", f"/api/v1/swaps/{swap_id}/answer", auth_headers(world.stranger), json={"agree": True}).status_code == 404
    assert ask(client, "post", f"/api/v1/swaps/{swap_id}/answer", auth_headers(world.worker2), json={"agree": True}).json["status"] == "agreed"
    assert ask(client, "post", f"/api/v1/swaps/{swap_id}/decision", auth_headers(world.worker), json={"approve": True}).status_code == 403
    r = ask(client, "post", f"/api/v1/swaps/{swap_id}/decision", auth_headers(world.leader), json={"approve": True})
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert (db.session.get(Shift, a.id).booked_person_id, db.session.get(Shift, b.id).booked_person_id) == \
        (world.worker2.id, world.worker.id)


def test_cover_and_arrival_pages(world, client, login):
    from careteams.db import utcnow

    # Arrival can be marked from shortly before the start: a shift starting soon.
    shift = make_shift(world.team, utcnow().replace(microsecond=0) + timedelta(minutes=30))
    book_directly(actor_for(world.leader), shift.id, world.worker.id)
    db.session.commit()
    token = login(world.worker)
    r = client.post(f"/my/shifts/{shift.id}/arrival", data={"csrf_token": token})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).arrived_at is not None
    r = client.post(f"/my/shifts/{shift.id}/cover", data={"csrf_token": token})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).cover_requested_at is not None
    assert "You asked for cover" in client.get("/my/shifts").get_data(as_text=True)


def test_someone_elses_shift_cannot_be_marked_or_covered(world, client, auth_headers):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    book_directly(actor_for(world.leader), shift.id, world.worker.id)
    for who in ("worker2", "leader", "stranger"):
        r = ask(client, "post", f"/api/v1/shifts/{shift.id}/cover", auth_headers(getattr(world, who)))
        assert r.status_code == 404
    assert db.session.get(Shift, shift.id).cover_requested_at is None


def test_rota_jobs_are_registered():
    from careteams.scheduler import load_jobs

    jobs = load_jobs()
    assert {"rota.materialise", "rota.offers", "rota.complete", "rota.missed_visits"} <= set(jobs)


def test_rota_page_weeks_and_bad_week(world, client, login):
    login(world.leader)
    page = client.get(f"/teams/{world.team.id}/rota?week=2027-01-06")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "week=2026-12-28" in html and "week=2027-01-11" in html and "No shifts this week" in html
    assert client.get(f"/teams/{world.team.id}/rota").status_code == 200
    assert client.get(f"/teams/{world.team.id}/rota?week=soon").status_code == 422


def test_checks_endpoint_for_the_rota_keepers(world, client, auth_headers):
    make_shift(world.other_team, MONDAY + timedelta(hours=8), hours=12, status=ShiftStatus.booked, person=world.worker)
    shift = make_shift(world.team, MONDAY + timedelta(hours=22), hours=1)  # 2 hours after a 12-hour day
    r = ask(client, "get", f"/api/v1/shifts/{shift.id}/checks?person_id={world.worker.id}", auth_headers(world.wrangler))
    assert r.status_code == 200 and "rest" in {f["code"] for f in r.json}
    r = ask(client, "get", f"/api/v1/shifts/{shift.id}/checks?person_id={world.worker2.id}", auth_headers(world.wrangler))
    assert r.status_code == 200 and "rest" not in {f["code"] for f in r.json}
    assert ask(client, "get", f"/api/v1/shifts/{shift.id}/checks", auth_headers(world.worker)).status_code == 403
