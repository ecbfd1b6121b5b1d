"""Pages fit their person (issue 18), in a real browser by keyboard alone: the
facilitator reads a match in the queue with its state in words, sees it as a
facilitator (no team's private note), declines it after review, and the worker
then reads it declined in words. axe at WCAG 2.2 AA, 320 px and 200% zoom."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import (
    fits_320,
    go_home,
    log_in,
    main_text,
    new_page,
    press_on,
    read,
)

pytestmark = pytest.mark.browser

QUEUE = "/coops/valley-care/matching/queue"


def test_facilitator_declines_a_match_in_words(live_server, page, browser, check_a11y):
    from careteams.matching.models import Match, MatchState, Side
    from careteams.members.models import Person

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]

    def first_in_review():
        return db.session.execute(sa.select(Match.id, Match.team_note, Person.email)
                                  .join(Person, Person.id == Match.worker_id)
                                  .where(Match.state == MatchState.review).order_by(Match.id)).first()
    match_id, team_note, worker_email = read(app, first_in_review)

    log_in(page, base, "fran", password, check_a11y)
    press_on(page, f"main a[href='{QUEUE}']")
    check_a11y(page)
    assert "waiting for review" in main_text(page)
    press_on(page, f"main a[href='/matches/{match_id}']")
    check_a11y(page)
    text = main_text(page)
    assert "Where it stands: waiting for review" in text
    assert "as one of the co-op's facilitators" in text
    assert "Your team's private note" not in text and (not team_note or team_note not in text)
    fits_320(page)

    tab_to(page, "#note-decline")
    page.keyboard.type("References did not come back")
    press_on(page, "main form:has(input[name=action][value=decline]) button")
    check_a11y(page)
    assert "Done." in main_text(page) and "Where it stands: declined" in main_text(page)
    declined = read(app, lambda: db.session.get(Match, match_id))
    assert declined.state == MatchState.declined and declined.declined_by == Side.facilitator
    go_home(page, check_a11y)
    press_on(page, f"main a[href='{QUEUE}']")
    check_a11y(page)
    assert page.locator(f"main a[href='/matches/{match_id}']").count() == 0

    # The worker reads it declined, in words, without the facilitators' note.
    worker = new_page(browser)
    log_in(worker, base, worker_email.split("@")[0], password, check_a11y)
    worker.goto(f"{base}/matches/{match_id}")
    check_a11y(worker)
    text = main_text(worker)
    assert "You are the worker in this match." in text and "Where it stands: declined" in text
    assert "References did not come back" not in text
    fits_320(worker)
