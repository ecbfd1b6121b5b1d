"""Issue 16's browser journeys: a team runs its rota on the web.

Keyboard only (Tab to a control, Enter or Space to use it, typing into fields; no
mouse), axe-core at WCAG 2.2 AA on every page visited, and the main pages checked
at 320 px and at 200% zoom (fits_320: a 640 px window with the body's CSS zoom at
200%, which lays out like a 320 px one). Key screens are shot at 375 and 1280 px.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from tests.browser.conftest import tab_to, type_date, type_time
from tests.browser.test_journeys import EMAIL, fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def person_id(app, key: str) -> int:
    from careteams.members.models import Person

    return read(app, lambda: db.session.scalar(sa.select(Person.id).where(Person.email == EMAIL.format(key))))


def team_of(app, leader: str) -> int:
    from careteams.teams.models import Team

    leader_id = person_id(app, leader)
    return read(app, lambda: db.session.scalar(sa.select(Team.id).where(Team.leader_id == leader_id)))


def empty_monday(weeks_ahead: int = 3) -> date:
    """A Monday weeks ahead: the demo only fills next week and its recurring tea visits
    (Monday, Wednesday and Friday at 18:00), so no morning there is taken yet."""
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=7 - today.weekday()) + timedelta(weeks=weeks_ahead - 1)


def choose_radio(page, group_first_id: str, index: int) -> None:
    """Select the index-th radio of a group with the keyboard: Tab into the group, arrows."""
    tab_to(page, f"#{group_first_id}")
    page.keyboard.press("Space")
    for _ in range(index):
        page.keyboard.press("ArrowDown")


def add_visit(page, day: date, start: time, end: time, notes: str) -> None:
    """On the add-a-visit page: fill the form with the keyboard and save it."""
    tab_to(page, "#day")
    type_date(page, day)
    assert page.input_value("#day") == day.isoformat()
    tab_to(page, "#start")
    type_time(page, start)
    tab_to(page, "#end")
    type_time(page, end)
    choose_radio(page, "kind", 0)  # personal care
    tab_to(page, "#notes")
    page.keyboard.type(notes)
    press_on(page, "main form[action$='/rota/visits/new'] button[type=submit]")


# ---------------------------------------------------------------------------
# Journey 4 of the rota: a refused form keeps its input and names the field
# ---------------------------------------------------------------------------

def test_refused_visit_keeps_what_was_typed_and_names_the_end(live_server, page, check_a11y, shoot):
    from careteams.rota.models import Shift

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    team_id = team_of(app, "ann")
    monday = empty_monday()
    log_in(page, base, "ann", password, check_a11y)
    press_on(page, f"main a[href='/teams/{team_id}']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota']")
    check_a11y(page)
    press_on(page, f"main a[href='/teams/{team_id}/rota/visits/new']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "r4-add-visit")
    before = read(app, lambda: db.session.scalar(sa.select(sa.func.count(Shift.id)).where(Shift.team_id == team_id)))

    # The end (09:00) before the start (10:00).
    add_visit(page, monday + timedelta(days=1), time(10, 0), time(9, 0), "Help with the shopping list")
    check_a11y(page)
    assert page.title().startswith("Error:")
    # The error is beside the end field and tied to it.
    assert page.get_attribute("#end", "aria-invalid") == "true"
    described = (page.get_attribute("#end", "aria-describedby") or "").split()
    messages = [page.inner_text(f"#{d}").strip() for d in described if "error" in d]
    assert messages and any("end" in m.lower() for m in messages), messages
    assert page.query_selector("main .field-error #end")
    # The summary at the top links to the end field.
    summary = page.query_selector("main [role=alert] a[href='#end']")
    assert summary is not None, main_text(page)
    # What was typed is still there.
    assert page.input_value("#day") == (monday + timedelta(days=1)).isoformat()
    assert page.input_value("#start") == "10:00"
    assert page.input_value("#end") == "09:00"
    assert page.input_value("#notes") == "Help with the shopping list"
    assert page.is_checked("#kind")
    fits_320(page)
    shoot(page, "r4-add-visit-refused")
    # The summary's link takes the keyboard to the field.
    tab_to(page, "main [role=alert] a[href='#end']", limit=60)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "end"
    after = read(app, lambda: db.session.scalar(sa.select(sa.func.count(Shift.id)).where(Shift.team_id == team_id)))
    assert after == before
