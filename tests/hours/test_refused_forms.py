"""Hours pages refuse through the shared form helper (careteams/web/forms.py): 422,
what was typed is still in the inputs, the message sits beside its field, nothing
was written (issue 16)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours.models import TimesheetEntry
from careteams.hours.rules import TimesheetStatus as S
from tests.helpers import csrf_from, login
from tests.hours.conftest import make_entry


def _as(client, person) -> None:
    assert login(client, person.email, "correct horse battery").status_code == 302


def _beside(html: str, field_id: str, message: str) -> None:
    """The message is in the field's error paragraph, and the input points at it."""
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html
    tag = re.search(rf'<input[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)
    assert 'aria-invalid="true"' in tag
    assert f'<a href="#{field_id}">{message}' in html  # the summary links to it


def _entries() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TimesheetEntry))


def test_logging_hours_with_a_word_for_minutes_keeps_the_typing(client, world):
    _as(client, world.worker)
    page = client.get("/my/hours").text
    r = client.post("/my/hours/log", data={"team_id": world.team.id, "day": "2026-10-25", "start": "09:00", "end": "10:00",
                                           "break_minutes": "ten", "note": "Shopping and a walk",
                                           "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, "break_minutes", "Enter a whole number.")
    assert 'value="ten"' in r.text and 'value="Shopping and a walk"' in r.text and 'value="09:00"' in r.text
    assert _entries() == 0


def test_logging_hours_the_service_refuses_says_so_beside_the_day(client, world):
    _as(client, world.worker)
    page = client.get("/my/hours").text
    # A typing slip (2062 for 2026): the service's own check, on the field the person typed.
    r = client.post("/my/hours/log", data={"team_id": world.team.id, "day": "2062-10-25", "start": "10:00", "end": "11:00",
                                           "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    error = re.search(r'<p class="error-message" id="day-error">(.*?)</p>', r.text, re.S)
    assert error and error.group(1).replace("Error:", "").strip()
    assert 'aria-describedby="day-hint day-error"' in r.text
    assert 'value="2062-10-25"' in r.text and 'value="10:00"' in r.text
    assert _entries() == 0


def test_a_dispute_without_a_reason_is_refused_beside_the_box(client, world):
    entry = make_entry(world, status=S.submitted)
    _as(client, world.leader)
    page = client.get("/hours/to-confirm").text
    r = client.post(f"/hours/to-confirm/{entry.id}/dispute", data={"comment": "  ", "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, f"dispute-{entry.id}", "Say what is wrong with these hours.")
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, entry.id).status == S.submitted


def test_proposed_times_that_are_not_times_keep_the_typing(client, world):
    entry = make_entry(world, status=S.submitted)
    _as(client, world.leader)
    page = client.get("/hours/to-confirm").text
    r = client.post(f"/hours/to-confirm/{entry.id}/adjust", data={"start": "11:00", "end": "half ten", "note": "Left early",
                                                                 "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, f"end-{entry.id}", "Enter a time like 10:05.")
    assert 'value="11:00"' in r.text and 'value="Left early"' in r.text
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, entry.id).status == S.submitted


def test_rejecting_a_change_without_a_reason_is_refused_beside_the_box(client, world):
    entry = make_entry(world, status=S.submitted)
    _as(client, world.leader)
    page = client.get("/hours/to-confirm").text
    assert client.post(f"/hours/to-confirm/{entry.id}/adjust", data={"start": "10:00", "end": "11:30",
                                                                    "csrf_token": csrf_from(page)}).status_code == 303
    client.get("/logout")
    _as(client, world.worker)
    page = client.get("/my/hours").text
    r = client.post(f"/my/hours/{entry.id}/reject", data={"comment": "", "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, f"reject-{entry.id}", "Say why you do not accept the change.")
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, entry.id).status == S.adjustment_proposed


def test_an_outsider_posting_to_an_entry_gets_404_not_a_form(client, world):
    entry = make_entry(world, status=S.submitted)
    _as(client, world.stranger)
    page = client.get("/my/hours").text
    r = client.post(f"/my/hours/{entry.id}/reject", data={"comment": "", "csrf_token": csrf_from(page)})
    assert r.status_code in (403, 404)


def test_a_pay_run_for_a_period_not_ended_keeps_the_date_beside_its_message(client, world):
    from careteams.db import utcnow
    from careteams.hours.models import PayRun

    _as(client, world.facilitator)
    url = f"/cooperatives/{world.coop.id}/hours/runs"
    page = client.get(url).text
    this_month = utcnow().date().replace(day=1).isoformat()  # today's period: not ended (any day the suite runs)
    r = client.post(url, data={"period_start": this_month, "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, "period_start", "The period has not ended yet.")
    assert f'value="{this_month}"' in r.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PayRun)) == 0
    r = client.post(url, data={"period_start": "", "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, "period_start", "Enter the first day of the period, like 2026-10-01.")


def test_settling_a_dispute_without_a_choice_keeps_the_note(client, world):
    entry = make_entry(world, status=S.disputed, dispute_comment="Not there")
    _as(client, world.facilitator)
    url = f"/cooperatives/{world.coop.id}/hours/disputes"
    page = client.get(url).text
    r = client.post(f"{url}/{entry.id}", data={"note": "Rang them both", "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    assert f'<fieldset class="field field-error" aria-describedby="outcome-{entry.id}-error">' in r.text
    assert f'<a href="#outcome-{entry.id}">Choose confirm or void.</a>' in r.text
    assert 'value="Rang them both"' in r.text
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, entry.id).status == S.disputed
