"""The equality questions and the fairness report in a real browser, by keyboard alone
(issue 18): a worker finds the questions from the navigation, is refused without
her consent (the error beside the box, her answers kept), saves, then withdraws;
a facilitator reads the fairness report and reaches each table by keyboard. axe
at WCAG 2.2 AA on every page, including at 320 px and at 200% zoom."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import fits_320, log_in, main_text, press_on, read

pytestmark = pytest.mark.browser

COOP = "valley-care"
EQUALITY = f"/coops/{COOP}/equality"
REPORT = f"/coops/{COOP}/matching/report"


def answers(app, email: str):
    from careteams.matching.models import EqualityData
    from careteams.members.models import Person

    def row():
        found = db.session.execute(
            sa.select(EqualityData.ethnicity, EqualityData.gender, EqualityData.age_band, EqualityData.disability)
            .join(Person, Person.id == EqualityData.person_id).where(Person.email == email)).one_or_none()
        return tuple(found) if found else None

    return read(app, row)


def small_and_zoomed_a11y(page, check_a11y) -> None:
    """axe again at 320 px and at 200% zoom, where tables must scroll inside their region."""
    original = page.viewport_size
    try:
        page.set_viewport_size({"width": 320, "height": 640})
        check_a11y(page)
        page.set_viewport_size({"width": 640, "height": 800})
        page.evaluate("document.body.style.zoom = '200%'")
        check_a11y(page)
    finally:
        page.evaluate("document.body.style.zoom = ''")
        page.set_viewport_size(original)


def choose(page, first_id: str, downs: int) -> None:
    """Tab to a group of radio buttons, tick the first with Space, then move down with the arrows."""
    tab_to(page, f"#{first_id}")
    page.keyboard.press("Space")
    for _ in range(downs):
        page.keyboard.press("ArrowDown")


def test_a_worker_gives_and_withdraws_equality_answers_by_keyboard(live_server, page, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    email = "wendy@demo.careteams.example"
    log_in(page, base, "wendy", password, check_a11y)

    # From the navigation, to the questions (apart from her worker profile).
    press_on(page, f"a[href='{EQUALITY}']")
    check_a11y(page)
    text = main_text(page)
    assert "Answering is up to you." in text and "Nobody sees your own answers" in text
    assert page.locator("main input[type=radio][value='prefer not to say']").count() == 4
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)
    shoot(page, "equality-questions")

    # Answers, but no consent: refused, the error beside the box, the answers kept.
    choose(page, "ethnicity", 3)        # White
    choose(page, "gender", 0)           # Woman
    choose(page, "age_band", 2)         # 35 to 49
    choose(page, "disability", 2)       # Prefer not to say
    press_on(page, "main form[action$='/equality'] button[type=submit]")
    check_a11y(page)
    assert "Tick the box to agree before you save your answers." in main_text(page)
    assert page.get_attribute("#consent", "aria-describedby") == "consent-error"
    assert page.is_checked("#ethnicity-3") and page.is_checked("#age_band-2") and page.is_checked("#disability-2")
    assert answers(app, email) is None
    fits_320(page)
    shoot(page, "equality-refused")

    # Consent given: saved.
    tab_to(page, "#consent")
    page.keyboard.press("Space")
    press_on(page, "main form[action$='/equality'] button[type=submit]")
    check_a11y(page)
    assert page.url == base + EQUALITY
    assert "Your answers are saved. Thank you." in main_text(page)
    assert answers(app, email) == ("White", "woman", "35-49", "prefer not to say")

    # Withdrawn: deleted.
    press_on(page, "main form[action$='/equality/withdraw'] button")
    check_a11y(page)
    assert "Your answers are deleted." in main_text(page)
    assert answers(app, email) is None

    # The worker profile links here too.
    page.goto(f"{base}/coops/{COOP}/worker-profile")
    check_a11y(page)
    assert page.locator(f"main a[href='{EQUALITY}']").count() == 1


def test_the_fairness_report_is_reachable_by_keyboard_at_any_size(live_server, page, check_a11y, shoot):
    base, password = live_server["url"], live_server["logins"]["password"]
    log_in(page, base, "fran", password, check_a11y)
    press_on(page, f"a[href='{REPORT}']")
    check_a11y(page)
    assert "fewer than 5" in main_text(page)
    # No equality link for a facilitator: she is not a worker member.
    assert page.locator(f"a[href='{EQUALITY}']").count() == 0
    small_and_zoomed_a11y(page, check_a11y)
    regions = page.locator("main .table-wrap[role=region][tabindex='0']")
    assert regions.count() == 4
    for label in ("Fairness by ethnicity", "Fairness by gender", "Fairness by age band", "Fairness by disability"):
        tab_to(page, f"main .table-wrap[aria-label='{label}']")
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        # At 320 px a table scrolls inside its region, which the keyboard reaches and scrolls.
        region = "main .table-wrap[aria-label='Fairness by ethnicity']"
        tab_to(page, region)
        handle = page.locator(region).element_handle()
        assert page.evaluate("el => el.scrollWidth > el.clientWidth", handle)
        page.keyboard.press("ArrowRight")
        page.wait_for_function("el => el.scrollLeft > 0", arg=handle, timeout=3000)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    fits_320(page)
    shoot(page, "fairness-report-regions")
