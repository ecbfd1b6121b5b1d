"""Dates people can trust: a timesheet or a pay period before the co-op existed, or more
than five years ahead, is a 422 naming the field (members/rules.py business_window)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from careteams.errors import ValidationError
from careteams.extensions import db
from careteams.hours.models import HoursSettings, PayRun
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import runs, timesheets
from tests.hours.conftest import act, make_entry


def _log(client, world, headers, start: datetime):
    return client.post(f"/api/v1/teams/{world.team.id}/timesheets", headers=headers, json={
        "started_at": start.isoformat(), "ended_at": (start + timedelta(hours=2)).isoformat()})


def test_a_timesheet_before_the_co_op_existed_is_422(client, world, auth_headers):
    world.coop.founded_on = date(2024, 3, 1)
    response = _log(client, world, auth_headers(world.worker), datetime(2024, 2, 29, 10, tzinfo=UTC))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"]["started_at"] == [
        "That date is before the co-op started (01 March 2024)."]
    assert _log(client, world, auth_headers(world.worker), datetime(2024, 3, 1, 10, tzinfo=UTC)).status_code == 201


def test_a_timesheet_years_ahead_is_422_on_its_date(client, world, auth_headers):
    start = datetime.now(UTC).replace(year=datetime.now(UTC).year + 36, month=6, day=1)
    response = _log(client, world, auth_headers(world.worker), start)
    assert response.status_code == 422
    [message] = response.get_json()["error"]["details"]["fields"]["started_at"]
    assert message.startswith("That date is more than 5 years ahead")


def test_a_correction_moved_before_the_co_op_existed_is_refused(world):
    world.coop.founded_on = date(2026, 1, 1)
    entry = make_entry(world, status=S.confirmed, start=datetime(2026, 1, 2, 10, tzinfo=UTC))
    with pytest.raises(ValidationError) as caught:
        timesheets.correct_entry(act(world.worker), entry.id, {"started_at": datetime(2025, 12, 31, 10, tzinfo=UTC),
                                                               "ended_at": datetime(2025, 12, 31, 12, tzinfo=UTC)})
    assert caught.value.details["fields"]["started_at"] == ["That date is before the co-op started (01 January 2026)."]


@pytest.mark.parametrize("period_start, message", [
    ("2019-12-01", "That date is before the co-op started (01 January 2020)."),
    ("2100-01-01", "That date is more than 5 years ahead"),
])
def test_a_pay_period_outside_the_business_window_is_422(client, world, auth_headers, period_start, message):
    db.session.add(HoursSettings(cooperative_id=world.coop.id))
    response = client.post(f"/api/v1/cooperatives/{world.coop.id}/pay-runs", headers=auth_headers(world.facilitator),
                           json={"period_start": period_start})
    assert response.status_code == 422, response.get_json()
    [said] = response.get_json()["error"]["details"]["fields"]["period_start"]
    assert said.startswith(message)
    assert db.session.query(PayRun).count() == 0


def test_the_founding_day_defaults_to_the_day_the_co_op_was_created_here(world):
    world.coop.founded_on = None
    world.coop.created_at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 1 July in London
    with pytest.raises(ValidationError):
        runs.close_run(act(world.facilitator), world.coop.id, date(2026, 6, 1), datetime(2026, 7, 2, tzinfo=UTC))
    assert runs.close_run(act(world.facilitator), world.coop.id, date(2026, 7, 1),
                          datetime(2026, 8, 2, tzinfo=UTC)).created
