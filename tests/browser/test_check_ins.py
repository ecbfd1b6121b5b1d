"""A check-in after the third shift, in a real browser and by keyboard alone: the
worker says it is not working, the team's leader cannot see what she said, and a
facilitator finds the match in the queue with the worker's answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser

COOP = "valley-care"


def trial_with_three_shifts(app) -> int:
    """Set up through the services (not the pages under test): the demo's match of
    Omar with Ann's team, approved, introduced, on trial, three shifts recorded."""
    from careteams.matching.models import Match, MatchState
    from careteams.matching.rules import Action
    from careteams.matching.services import matches as svc
    from careteams.members.models import Person
    from careteams.members.services import actor_for

    with app.app_context():
        try:
            people = {p.email.split("@")[0]: p for p in db.session.scalars(sa.select(Person))}
            match = db.session.scalar(sa.select(Match).where(Match.worker_id == people["omar"].id,
                                                             Match.state == MatchState.review))
            today = utcnow().date()

            def act(who, action, **kw):
                svc.act_on_match(actor_for(people[who]), match.id, action, **kw)

            act("fran", Action.approve)
            act("fran", Action.record_introduction, on=today - timedelta(days=10))
            act("omar", Action.start_trial)
            for days_ago in (9, 8, 7):
                act("ann", Action.record_shift, on=today - timedelta(days=days_ago))
            db.session.commit()
            return match.id
        finally:
            db.session.remove()


def test_worker_answers_a_check_in_by_keyboard(live_server, page, browser, check_a11y, shoot):
    from careteams.matching.models import ReviewPrompt

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    match_id = trial_with_three_shifts(app)
    match_link = f"main a[href='/matches/{match_id}']"

    # The worker finds the match from her home page and answers.
    log_in(page, base, "omar", password, check_a11y)
    press_on(page, f"main a[href='/coops/{COOP}/vacancies']")
    check_a11y(page)
    press_on(page, match_link)
    check_a11y(page)
    assert "Check-in after 3 shifts together" in main_text(page)
    fits_320(page)
    shoot(page, "check-in-question")
    tab_to(page, "#check-in-3-working")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # radio buttons: the arrows move the choice
    assert page.is_checked("#check-in-3-not_working")
    press_on(page, "main form[action$='/check-ins/3'] button")
    check_a11y(page)
    text = main_text(page)
    assert "Thank you: your answer is saved." in text and "You said: It is not working." in text
    assert page.locator("input[name=answer]").count() == 0
    shoot(page, "check-in-answered")
    answers = read(app, lambda: db.session.execute(sa.select(ReviewPrompt.worker_answer, ReviewPrompt.team_answer)
                                                   .where(ReviewPrompt.match_id == match_id,
                                                          ReviewPrompt.after_shift == 3)).one())
    assert tuple(answers) == ("not_working", None)

    # The leader is asked the same question but is not told the worker's answer.
    ann = new_page(browser)
    log_in(ann, base, "ann", password, check_a11y)
    ann.goto(f"{base}/matches/{match_id}")
    check_a11y(ann)
    assert "Is it working for you?" in main_text(ann) and "The worker said" not in main_text(ann)

    # A facilitator finds the match in the queue and reads both sides.
    fran = new_page(browser)
    log_in(fran, base, "fran", password, check_a11y)
    press_on(fran, f"main a[href='/coops/{COOP}/matching/queue']")
    check_a11y(fran)
    in_section = f"main #check-ins-not-working + ul a[href='/matches/{match_id}']"
    assert fran.locator(in_section).count() == 1
    press_on(fran, in_section)
    check_a11y(fran)
    assert "The team said: no answer yet. The worker said: It is not working." in main_text(fran)
