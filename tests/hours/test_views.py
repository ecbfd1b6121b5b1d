"""The JSON API, the pages and DONE by text through the real webhook."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours.models import (
    AreaBand,
    CoopPayRate,
    Funder,
    FunderKind,
    HoursSettings,
    TimesheetEntry,
)
from careteams.hours.rules import TimesheetStatus as S
from careteams.rota.models import Offer, OfferStatus, ShiftStatus
from careteams.sms.rules import segments
from tests.hours.conftest import make_entry, profile
from tests.rota.conftest import make_shift
from tests.sms.conftest import post_signed


def test_api_log_submit_confirm(client, world, auth_headers):
    worker, leader = auth_headers(world.worker), auth_headers(world.leader)
    response = client.post(f"/api/v1/teams/{world.team.id}/timesheets", headers=worker, json={
        "started_at": "2026-11-02T10:00:00+00:00", "ended_at": "2026-11-02T12:00:00+00:00",
        "travel_minutes": 15, "mileage": "2.5", "note": "Shopping"})
    assert response.status_code == 201, response.get_json()
    entry_id = response.get_json()["id"]
    assert response.get_json()["mileage"] == "2.5"
    assert client.post(f"/api/v1/timesheets/{entry_id}/confirm", headers=leader).status_code == 409
    assert client.post(f"/api/v1/timesheets/{entry_id}/submit", headers=worker).get_json()["status"] == "submitted"
    assert client.post(f"/api/v1/timesheets/{entry_id}/confirm", headers=worker).status_code == 403
    assert [e["id"] for e in client.get("/api/v1/timesheets/to-confirm", headers=leader).get_json()] == [entry_id]
    confirmed = client.post(f"/api/v1/timesheets/{entry_id}/confirm", headers=leader).get_json()
    assert confirmed["status"] == "confirmed" and confirmed["confirmed_by_id"] == world.leader.id
    assert client.patch(f"/api/v1/timesheets/{entry_id}", headers=worker, json={"note": "x"}).status_code == 409
    assert client.get(f"/api/v1/timesheets/{entry_id}", headers=auth_headers(world.stranger)).status_code == 404


def test_api_bad_input_is_422_with_fields(client, world, auth_headers):
    headers = auth_headers(world.worker)
    for body, field in [({"started_at": "2026-11-02T10:00:00", "ended_at": "2026-11-02T12:00:00+00:00"}, "started_at"),
                        ({"started_at": "2026-11-02T12:00:00+00:00", "ended_at": "2026-11-02T10:00:00+00:00"}, "ended_at"),
                        ({"started_at": "2026-11-02T10:00:00+00:00", "ended_at": "2026-11-02T11:00:00+00:00",
                          "mileage": "-1"}, "mileage")]:
        response = client.post(f"/api/v1/teams/{world.team.id}/timesheets", headers=headers, json=body)
        assert response.status_code == 422 and field in response.get_json()["error"]["details"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimesheetEntry)) == 0
    response = client.put(f"/api/v1/teams/{world.team.id}/funders", headers=auth_headers(world.facilitator),
                          json={"funders": [{"kind": "council", "name": "C", "share_percent": 60}]})
    assert response.status_code == 422


def test_api_run_and_figures(client, world, auth_headers):
    fac = auth_headers(world.facilitator)
    db.session.add_all([HoursSettings(cooperative_id=world.coop.id),
                        CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                    effective_from=date(2026, 4, 1), hourly_rate_pence=1300),
                        Funder(team_id=world.team.id, kind=FunderKind.direct_payment, name="DP", share_percent=100)])
    profile(world, world.worker, employed=True)
    make_entry(world, status=S.confirmed, start=datetime(2026, 10, 5, 9, tzinfo=UTC), minutes=90,
               confirmed_at=datetime(2026, 10, 6, tzinfo=UTC))
    response = client.post(f"/api/v1/cooperatives/{world.coop.id}/pay-runs", headers=fac, json={"period_start": "2026-10-01"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["totals"] == {"payroll_pence": 1950, "statements_pence": 0, "invoiced_pence": 2291}
    again = client.post(f"/api/v1/cooperatives/{world.coop.id}/pay-runs", headers=fac, json={"period_start": "2026-10-01"})
    assert again.status_code == 200 and again.get_json()["totals"] == body["totals"]
    run_id = body["run"]["id"]
    for outsider in (world.worker, world.leader, world.other_facilitator):
        assert client.get(f"/api/v1/pay-runs/{run_id}", headers=auth_headers(outsider)).status_code == 404
    _login(client, world.facilitator)
    page = client.get(f"/hours/runs/{run_id}")
    assert page.status_code == 200 and "£19.50" in page.get_data(as_text=True)
    payroll = client.get(f"/hours/runs/{run_id}/payroll.csv")
    assert payroll.status_code == 200, payroll.get_data(as_text=True)[:300]
    assert payroll.mimetype == "text/csv" and "hours,90,1.50,,,19.50" in payroll.get_data(as_text=True)
    [invoice] = body["invoices"]
    html = client.get(f"/hours/runs/{run_id}/invoices/{world.team.id}/{invoice['funder_id']}")
    assert html.status_code == 200 and "£22.91" in html.get_data(as_text=True)
    # Every invoice line says the date, start-end (team's clock), hours (2 dp), rate and amount.
    assert all(s in html.get_data(as_text=True) for s in ("2026-10-05", "10:00-11:30", "1.50", "£13.00 an hour"))
    assert html.get_data(as_text=True).count("<table") == 1 and "<td>10:00-11:30</td>" in html.get_data(as_text=True)
    csv_ = client.get(f"/hours/runs/{run_id}/invoices/{world.team.id}/{invoice['funder_id']}.csv")
    rows = csv_.get_data(as_text=True).strip().splitlines()
    assert rows[0].split(",")[5:12] == ["date", "start", "end", "hours", "hourly_rate_gbp", "share_percent", "amount_gbp"]
    assert rows[1].split(",")[5:12] == ["2026-10-05", "10:00", "11:30", "1.50", "13.00", "100", "22.91"]
    assert rows[-1].split(",")[4] == "total" and rows[-1].split(",")[11] == "22.91"
    figures = client.get(f"/api/v1/cooperatives/{world.coop.id}/hours-figures?first=2026-10-01&last=2026-11-30",
                         headers=auth_headers(world.facilitator)).get_json()["months"]
    assert figures[0]["month"] == "2026-10" and figures[0]["hours_delivered"] == "1.5"
    assert figures[0]["active_workers"] == 1 and figures[0]["confirmed_without_dispute_percent"] == "100.0"
    assert figures[1]["hours_delivered"] == "0"


def _login(client, person):
    from tests.helpers import login

    assert login(client, person.email, "correct horse battery").status_code == 302


def test_pages_worker_leader_facilitator(client, world):
    entry = make_entry(world, status=S.submitted)
    _login(client, world.leader)
    page = client.get("/hours/to-confirm").get_data(as_text=True)
    assert f'id="entry-{entry.id}"' in page and 'for="dispute-' in page
    from tests.helpers import csrf_from

    token = csrf_from(page)
    response = client.post(f"/hours/to-confirm/{entry.id}/adjust", data={"start": "10:00", "end": "11:30",
                                                                        "csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, entry.id).status == S.adjustment_proposed
    client.get("/logout")
    _login(client, world.worker)
    page = client.get("/my/hours").get_data(as_text=True)
    assert "Accept the change" in page and "10:00" in page
    response = client.post(f"/my/hours/{entry.id}/reject", data={"comment": "I stayed", "csrf_token": csrf_from(page)})
    assert response.status_code == 303
    _login(client, world.facilitator)
    page = client.get(f"/cooperatives/{world.coop.id}/hours/disputes").get_data(as_text=True)
    assert "I stayed" in page
    assert client.get(f"/cooperatives/{world.coop.id}/hours/runs").status_code == 200
    figures = client.get(f"/cooperatives/{world.coop.id}/hours/figures").get_data(as_text=True)
    assert "<caption>" in figures and "<script" not in figures


def test_done_by_text_through_the_webhook(client, world, sms_outbox, time_machine):
    world.coop.sms_number = "+447700900000"
    # A visit yesterday 10:00-13:00; the webhook reads the app's clock. London is on
    # UTC in November, so 10:05-13:10 in the text is 10:05-13:10 UTC.
    time_machine.move_to(datetime(2026, 11, 3, 9, tzinfo=UTC), tick=True)
    start = datetime(2026, 11, 2, 10, tzinfo=UTC)
    shift = make_shift(world.team, start, 3, status=ShiftStatus.booked, person=world.worker)
    db.session.add(Offer(shift_id=shift.id, person_id=world.worker.id, code="482", status=OfferStatus.accepted))
    db.session.flush()
    params = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": world.worker.phone,
              "To": "+447700900000", "Body": "done 482 10:05-13:10", "NumMedia": "0"}
    response = post_signed(client, "/sms/inbound", params)
    reply = response.get_data(as_text=True)
    assert "Hours for 482 sent to the team to confirm: 10:05-13:10" in reply
    entry = db.session.scalar(sa.select(TimesheetEntry).where(TimesheetEntry.shift_id == shift.id))
    assert entry.status == S.submitted and entry.started_at == start + timedelta(minutes=5)
    params["MessageSid"], params["Body"] = "SM" + "2" * 32, "DONE 482"
    assert "already sent. Nothing changed" in post_signed(client, "/sms/inbound", params).get_data(as_text=True)


def test_every_done_reply_fits_one_segment():
    from careteams.hours.sms import REPLIES

    for template in REPLIES.values():
        assert segments(template.format(code="12345678", times="23:59-23:59")) == 1


def test_demo_step_is_idempotent(world):
    from careteams.hours.demo import seed_hours

    seed_hours(world.coop, {})  # no demo teams: settings and rates only
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimesheetEntry)) == 0
    seed_hours(world.coop, {"ann": world.leader})
    first = db.session.scalar(sa.select(sa.func.count()).select_from(TimesheetEntry))
    statuses = set(db.session.scalars(sa.select(TimesheetEntry.status)))
    assert first == 3 and statuses == {S.pending, S.submitted, S.confirmed}
    seed_hours(world.coop, {"ann": world.leader})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimesheetEntry)) == first
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Funder)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CoopPayRate)) == 3


def test_worker_logs_unplanned_support_on_the_page(client, world):
    from tests.helpers import csrf_from

    _login(client, world.worker)
    page = client.get("/my/hours").get_data(as_text=True)
    assert 'for="team_id"' in page
    # 25 Oct 2026 in London: 00:30 BST to 02:30 GMT across the change is 3 real hours.
    response = client.post("/my/hours/log", data={"team_id": world.team.id, "day": "2026-10-25", "start": "00:30",
                                                  "end": "02:30", "break_minutes": "0", "travel_minutes": "10",
                                                  "csrf_token": csrf_from(page)})
    assert response.status_code == 303
    entry = db.session.scalar(sa.select(TimesheetEntry))
    assert entry.person_id == world.worker.id and entry.travel_minutes == 10
    assert entry.ended_at - entry.started_at == timedelta(hours=3)
    bad = client.post("/my/hours/log", data={"team_id": world.team.id, "day": "2026-10-25", "start": "25:00",
                                             "end": "02:30", "csrf_token": csrf_from(page)})
    assert bad.status_code == 422
