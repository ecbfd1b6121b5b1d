"""Issue 17's browser journey: a dispute is a conversation.

Ann (the team's leader) disputes submitted hours, the worker reads why and answers,
Ann replies, and Fran (a facilitator) settles with figures, which confirms the entry.
Keyboard only, axe-core at WCAG 2.2 AA on every page, the entry page at 320 px and
200% zoom, and refused input shown beside its field.
"""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to, type_time
from tests.browser.test_journeys import EMAIL, fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")
REASON = "The rota says you left at half past three"
ANSWER = "I stayed on because the taxi was late"
REPLY = "Thank you. Please ring me next time"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def _submitted_entry(app):
    """The demo's submitted hours in Ann's team: (entry id, worker's login key, start on the team's clock)."""
    from careteams.hours.demo import DEMO_NOTE
    from careteams.hours.models import TimesheetEntry
    from careteams.hours.rules import TimesheetStatus
    from careteams.members.models import Person
    from careteams.teams.models import Team

    def find():
        ann = db.session.scalar(sa.select(Person.id).where(Person.email == EMAIL.format("ann")))
        team_id = db.session.scalar(sa.select(Team.id).where(Team.leader_id == ann))
        entry = db.session.scalar(sa.select(TimesheetEntry).where(
            TimesheetEntry.team_id == team_id, TimesheetEntry.note == DEMO_NOTE,
            TimesheetEntry.status == TimesheetStatus.submitted))
        worker = db.session.get(Person, entry.person_id)
        return entry.id, worker.email.split("@")[0], entry.started_at.astimezone(LONDON)

    return read(app, find)


def _error_beside(page, field_id: str, words: str) -> None:
    assert page.get_attribute(f"#{field_id}", "aria-invalid") == "true"
    described = (page.get_attribute(f"#{field_id}", "aria-describedby") or "").split()
    messages = [page.inner_text(f"#{d}").strip() for d in described if d.endswith("-error")]
    assert any(words in m for m in messages), messages
    assert page.query_selector(f"main [role=alert] a[href='#{field_id}']") is not None


def test_leader_disputes_worker_answers_leader_replies_facilitator_settles(live_server, page, browser, check_a11y,
                                                                            shoot):
    from careteams.hours.models import TimesheetEntry, TimesheetEntryEvent
    from careteams.hours.rules import TimesheetStatus

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    entry_id, worker_key, start = _submitted_entry(app)
    entry_url = f"/hours/entries/{entry_id}"

    # Ann disputes the hours from her list, then finds them under "Hours in dispute".
    log_in(page, base, "ann", password, check_a11y)
    press_on(page, "main a[href='/hours/to-confirm']")
    check_a11y(page)
    tab_to(page, f"#dispute-{entry_id}")
    page.keyboard.type(REASON)
    press_on(page, f"main form[action='/hours/to-confirm/{entry_id}/dispute'] button")
    check_a11y(page)
    press_on(page, f"main a[href='{entry_url}']")
    check_a11y(page)
    assert REASON in main_text(page) and "disputed the hours" in main_text(page)
    assert not page.query_selector("#reply-error")

    # The worker reads why, and answers; an empty answer is refused beside the field.
    worker = new_page(browser)
    log_in(worker, base, worker_key, password, check_a11y)
    press_on(worker, "main a[href='/my/hours']")
    check_a11y(worker)
    assert REASON in main_text(worker)
    press_on(worker, f"main a[href='{entry_url}']")
    check_a11y(worker)
    fits_320(worker)
    press_on(worker, f"main form[action='{entry_url}/answer'] button")
    check_a11y(worker)
    assert worker.title().startswith("Error:")
    _error_beside(worker, "answer", "Write your answer.")
    tab_to(worker, "#answer")
    worker.keyboard.type(ANSWER)
    press_on(worker, f"main form[action='{entry_url}/answer'] button")
    check_a11y(worker)
    assert "Your answer is sent." in main_text(worker) and ANSWER in main_text(worker)
    shoot(worker, "d1-worker-answered")
    worker.context.close()

    # Ann sees the answer and replies.
    press_on(page, "nav a[href='/hours/to-confirm']")
    check_a11y(page)
    press_on(page, f"main a[href='{entry_url}']")
    check_a11y(page)
    assert ANSWER in main_text(page)
    tab_to(page, "#reply")
    page.keyboard.type(REPLY)
    press_on(page, f"main form[action='{entry_url}/reply'] button")
    check_a11y(page)
    assert REPLY in main_text(page)

    # Fran sees both sides and settles with figures: an end before the start is refused first.
    fran = new_page(browser)
    log_in(fran, base, "fran", password, check_a11y)
    press_on(fran, "main a[href$='/hours/disputes']")
    check_a11y(fran)
    press_on(fran, f"main a[href='{entry_url}']")
    check_a11y(fran)
    text = main_text(fran)
    assert REASON in text and ANSWER in text and REPLY in text
    fits_320(fran)
    shoot(fran, "d1-facilitator-settles")
    before_start = (start - timedelta(hours=1)).time()
    tab_to(fran, "#end")
    type_time(fran, before_start)
    tab_to(fran, "#note")
    fran.keyboard.type("Spoke to both on the phone")
    press_on(fran, f"main form[action='{entry_url}/settle'] button")
    check_a11y(fran)
    _error_beside(fran, "end", "The end must be after the start.")
    assert fran.input_value("#note") == "Spoke to both on the phone"  # kept
    settled_end = (start + timedelta(minutes=150)).time()
    tab_to(fran, "#end")
    type_time(fran, time(settled_end.hour, settled_end.minute))
    press_on(fran, f"main form[action='{entry_url}/settle'] button")
    check_a11y(fran)
    assert "The dispute is settled." in main_text(fran)
    assert "settled the dispute: the hours are confirmed" in main_text(fran)
    fits_320(fran)
    fran.context.close()

    entry = read(app, lambda: db.session.get(TimesheetEntry, entry_id))
    assert entry.status == TimesheetStatus.confirmed
    assert entry.ended_at - entry.started_at == timedelta(minutes=150)
    kinds = read(app, lambda: [e.kind.value for e in db.session.scalars(
        sa.select(TimesheetEntryEvent).where(TimesheetEntryEvent.entry_id == entry_id).order_by(TimesheetEntryEvent.id))])
    assert kinds == ["logged", "submitted", "disputed", "answered", "replied", "settled"]
