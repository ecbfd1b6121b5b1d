"""The four journeys of issue 9, end to end in a real browser, through the pages only.

Each journey is driven by the keyboard alone (Tab to a control, Enter or Space to
use it, typing into fields): no mouse actions anywhere. Every page is reached by
a link from the one before (the home page links to each person's pages).
axe-core checks every page visited; key screens are shot at 375 px and 1280 px;
the main pages are checked for horizontal scrolling at 320 px.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.demo import DEMO_TOTP_SECRETS
from careteams.extensions import db
from tests.browser.conftest import no_horizontal_scroll, tab_to, type_date, type_datetime, type_time

pytestmark = pytest.mark.browser

LONG = 250  # some pages (a team page, a vote) have many stops before the one we want
EMAIL = "{}@demo.careteams.example"


@pytest.fixture
def browser_context_args(browser_context_args):
    # A UK co-op: dates typed as dd/mm/yyyy and times on the 24-hour clock.
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def new_page(browser):
    """Another person's browser, for a second actor in the same journey."""
    return browser.new_context(locale="en-GB", timezone_id="Europe/London").new_page()


def press_on(page, selector: str, key: str = "Enter") -> None:
    """Tab to a link or button and use it with the keyboard; wait for the next page."""
    tab_to(page, selector, limit=LONG)
    with page.expect_navigation():
        page.keyboard.press(key)


def log_in(page, base: str, who: str, password: str, check_a11y) -> None:
    page.goto(base + "/login")
    check_a11y(page)
    tab_to(page, "#email")
    page.keyboard.type(EMAIL.format(who))
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if page.url.startswith(base + "/login/second-factor"):  # staff: the demo's published TOTP secret
        pass_second_factor_in(page, DEMO_TOTP_SECRETS[who], check_a11y)
    assert page.url == base + "/"
    check_a11y(page)


def pass_second_factor_in(page, secret: str, check_a11y=None) -> None:
    """On /login/second-factor: type the code an authenticator app would show (keyboard only).

    A code is good once: a journey that signs one person in twice within 30 seconds
    is refused the second time ("just been used"), so it waits for the next code."""
    import time as clock

    import pyotp

    for _ in range(2):
        if check_a11y:
            check_a11y(page)
        tab_to(page, "#code")
        page.keyboard.press("Control+A")
        page.keyboard.type(pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if "/login/second-factor" not in page.url:
            return
        assert "just been used" in page.text_content("main"), page.text_content("main")
        page.wait_for_timeout((30 - clock.time() % 30 + 1) * 1000)
    raise AssertionError("the second factor was refused twice")


def go_home(page, check_a11y) -> None:
    """Back to the home page by the header's link."""
    press_on(page, "header a.brand")
    check_a11y(page)


def fits_320(page) -> None:
    """A main page: no sideways scrolling at 320 px or at 200% zoom, and plain language."""
    original = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        assert no_horizontal_scroll(page), f"{page.url} scrolls sideways at 320 px"
        # 200% zoom of a 640 px window lays out like a 320 px one.
        page.set_viewport_size({"width": 640, "height": 800})
        page.evaluate("document.body.style.zoom = '200%'")
        assert no_horizontal_scroll(page), f"{page.url} scrolls sideways at 200% zoom"
    finally:
        page.evaluate("document.body.style.zoom = ''")
        page.set_viewport_size(original)
    plain_language(page)


# Words that members should not have to know (UK plain-English guidance).
JARGON = ("utilise", "facilitate", "pursuant", "aforementioned", "heretofore", "stakeholder", "leverage",
          "onboarding", "deliverable", "synergy", "in accordance with", "commence", "endpoint", "null")
MAX_WORDS = 30  # a sentence longer than this is hard to follow, more so on a small screen


def plain_language(page) -> None:
    """Short sentences and no jargon in what the person reads on the page."""
    text = " ".join(page.inner_text("main").split())
    lowered = f" {text.lower()} "
    found = [w for w in JARGON if re.search(rf"\b{re.escape(w)}\b", lowered)]
    assert not found, f"{page.url} uses jargon: {found}"
    sentences = [s for s in re.split(r"(?<=[.!?:])\s+|\n", page.inner_text("main")) if s.strip()]
    long = [s for s in sentences if len(s.split()) > MAX_WORDS]
    assert not long, f"{page.url} has sentences over {MAX_WORDS} words: {long}"


def main_text(page) -> str:
    return " ".join(page.inner_text("main").split())


def read(app, fn):
    """Read the database (never write) to check what the pages did."""
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


# ---------------------------------------------------------------------------
# Journey 1: a supported member runs her team
# ---------------------------------------------------------------------------

def test_journey_1_supported_member_runs_her_team(live_server, page, browser, check_a11y, shoot):
    from careteams.hours.models import TimesheetEntry
    from careteams.hours.rules import TimesheetStatus
    from careteams.teams.models import Hat, HatStatus, HatType, Team

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    log_in(page, base, "ann", password, check_a11y)
    team_id = read(app, lambda: db.session.scalar(sa.select(Team.id).where(Team.display_name == "Ann")))

    # Her team, from her home page.
    press_on(page, f"main a[href='/teams/{team_id}']")
    check_a11y(page)
    assert "Dana Baker" in main_text(page) and "Support plan" in main_text(page)
    fits_320(page)
    shoot(page, "j1-team")

    # Offer the Rota wrangler hat to Dana.
    press_on(page, f"main a[href='/teams/{team_id}/hats/new']")
    check_a11y(page)
    tab_to(page, "#hat_type_id")
    page.keyboard.type("Rota")
    assert page.eval_on_selector("#hat_type_id", "s => s.options[s.selectedIndex].text") == "Rota wrangler"
    tab_to(page, "#email")
    page.keyboard.type(EMAIL.format("dana"))
    fits_320(page)
    shoot(page, "j1-offer-hat")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)

    # Dana, in her own browser, says yes.
    dana = new_page(browser)
    log_in(dana, base, "dana", password, check_a11y)
    press_on(dana, "main a[href='/teams']")
    check_a11y(dana)
    assert "Rota wrangler" in main_text(dana)
    shoot(dana, "j1-dana-hat-offer")
    press_on(dana, "form[action*='/teams/hats/'][action$='/accept'] button")
    check_a11y(dana)

    def rota_hat_holder():
        return db.session.scalar(sa.select(Hat.person_id).join(HatType).where(
            Hat.team_id == team_id, HatType.name == "Rota wrangler", Hat.status == HatStatus.accepted))
    from careteams.members.models import Person
    dana_id = read(app, lambda: db.session.scalar(sa.select(Person.id).where(Person.email == EMAIL.format("dana"))))
    assert read(app, rota_hat_holder) == dana_id
    dana.context.close()

    # Back on her team page Ann sees Dana wearing it, then edits the support plan.
    go_home(page, check_a11y)
    press_on(page, f"main a[href='/teams/{team_id}']")
    check_a11y(page)
    assert "Dana Baker wears the Rota wrangler hat" in main_text(page)
    press_on(page, f"main a[href='/teams/{team_id}/plan/edit']")
    check_a11y(page)
    tab_to(page, "#routines-text")
    page.keyboard.press("Control+A")
    page.keyboard.type("Up at 8, breakfast in the kitchen, a walk after lunch if it is dry. Radio 4 at tea time.")
    fits_320(page)
    shoot(page, "j1-edit-plan")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Radio 4 at tea time." in main_text(page)

    # The rota for next week, where the demo's shifts are.
    press_on(page, f"main a[href='/teams/{team_id}/rota']")
    check_a11y(page)
    next_week = page.get_attribute("main a:has-text('Next week')", "href")
    press_on(page, f"main a[href='{next_week}']")
    check_a11y(page)
    assert "No shifts this week" not in main_text(page) and "Wendy Ali" in main_text(page)
    fits_320(page)
    shoot(page, "j1-rota-week")
    # One visit of that week, back, then the next four weeks as a list (the rota on a phone).
    press_on(page, f"main table a[href^='/teams/{team_id}/rota/visits/']")
    check_a11y(page)
    assert "Who is booked" in main_text(page) and "The rota's checks" in main_text(page)
    fits_320(page)
    press_on(page, f"main a[href^='/teams/{team_id}/rota?week=']")
    press_on(page, f"main a[href='/teams/{team_id}/rota?view=list']")
    check_a11y(page)
    assert "Needs attention" in main_text(page) and "Day by day" in main_text(page)
    fits_320(page)

    # Confirm a worker's hours.
    go_home(page, check_a11y)
    press_on(page, "main a[href='/hours/to-confirm']")
    check_a11y(page)
    submitted = read(app, lambda: db.session.scalar(sa.select(TimesheetEntry.id).where(
        TimesheetEntry.team_id == team_id, TimesheetEntry.status == TimesheetStatus.submitted)))
    assert submitted, "the hours demo should leave a submitted timesheet for Ann's team"
    fits_320(page)
    shoot(page, "j1-hours-to-confirm")
    press_on(page, f"form[action='/hours/to-confirm/{submitted}/confirm'] button")
    check_a11y(page)
    status = read(app, lambda: db.session.get(TimesheetEntry, submitted).status)
    assert status == TimesheetStatus.confirmed


# ---------------------------------------------------------------------------
# Journey 2: a worker takes a shift, a second worker is told it is filled
# ---------------------------------------------------------------------------

def test_journey_2_worker_takes_a_shift_and_logs_hours(live_server, page, browser, check_a11y, shoot):
    from careteams.hours.models import TimesheetEntry
    from careteams.hours.rules import TimesheetStatus
    from careteams.members.models import Person
    from careteams.rota.models import Offer, Shift, ShiftStatus

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    ids = read(app, lambda: {k: db.session.scalar(sa.select(Person.id).where(Person.email == EMAIL.format(k)))
                             for k in ("wendy", "will")})

    # Will has his offers open in his own browser before Wendy answers.
    will = new_page(browser)
    log_in(will, base, "will", password, check_a11y)
    press_on(will, "main a[href='/my/offers']")
    check_a11y(will)

    log_in(page, base, "wendy", password, check_a11y)
    press_on(page, "main a[href='/my/offers']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "j2-offers")
    action = page.get_attribute("main form[action$='/accept']", "action")
    offer_id = int(action.split("/")[-2])
    shift_id = read(app, lambda: db.session.get(Offer, offer_id).shift_id)
    wills_offer = read(app, lambda: db.session.scalar(sa.select(Offer.id).where(
        Offer.shift_id == shift_id, Offer.person_id == ids["will"])))
    assert wills_offer, "the demo offers the same shifts to Wendy and Will"
    assert will.query_selector(f"main form[action='/my/offers/{wills_offer}/accept']")

    press_on(page, f"main form[action='{action}'] button")
    check_a11y(page)
    assert "booked" in main_text(page).lower() or "yours" in main_text(page).lower(), main_text(page)

    # A moment later Will accepts the same shift from the page he already had open.
    press_on(will, f"main form[action='/my/offers/{wills_offer}/accept'] button")
    check_a11y(will)
    assert "Sorry, that shift has already been filled." in main_text(will)
    assert will.get_attribute("main [role=status]", "role") == "status"  # announced
    fits_320(will)
    shoot(will, "j2-will-already-filled")
    will.context.close()
    shift = read(app, lambda: db.session.get(Shift, shift_id))
    assert shift.status == ShiftStatus.booked and shift.booked_person_id == ids["wendy"]

    # Wendy sees it in "my shifts".
    press_on(page, "nav a[href='/my/shifts']")
    check_a11y(page)
    assert page.query_selector(f"main form[action='/my/shifts/{shift_id}/cover']")
    fits_320(page)
    shoot(page, "j2-my-shifts")

    # After a visit she logs her hours. The shift she just took is next week, and the
    # demo books her no past shift, so she logs yesterday's visit as unplanned support.
    go_home(page, check_a11y)
    press_on(page, "main a[href='/my/hours']")
    check_a11y(page)
    yesterday = utcnow().astimezone(ZoneInfo("Europe/London")).date() - timedelta(days=1)
    tab_to(page, "#team_id")
    page.keyboard.type("Ann")
    # Chromium moves through a date's or a time's parts with Tab too, so tab_to each field.
    tab_to(page, "#day")
    type_date(page, yesterday)
    assert page.input_value("#day") == yesterday.isoformat()
    tab_to(page, "#start")
    type_time(page, time(14, 0))
    tab_to(page, "#end")
    type_time(page, time(15, 30))
    tab_to(page, "#note")
    page.keyboard.type("Shopping and a walk")
    fits_320(page)
    shoot(page, "j2-log-hours")
    press_on(page, "main form[action='/my/hours/log'] button")
    check_a11y(page)
    entry = read(app, lambda: db.session.scalar(sa.select(TimesheetEntry).where(
        TimesheetEntry.person_id == ids["wendy"], TimesheetEntry.note == "Shopping and a walk")))
    assert entry is not None
    local = entry.started_at.astimezone(ZoneInfo("Europe/London"))
    assert (local.date(), local.hour, local.minute) == (yesterday, 14, 0)
    assert entry.ended_at - entry.started_at == timedelta(minutes=90)
    if entry.status == TimesheetStatus.pending:
        press_on(page, f"main form[action='/my/hours/{entry.id}/submit'] button")
        check_a11y(page)
    status = read(app, lambda: db.session.get(TimesheetEntry, entry.id).status)
    assert status == TimesheetStatus.submitted
    shoot(page, "j2-hours-submitted")


# ---------------------------------------------------------------------------
# Journey 3: a facilitator works through the match review queue
# ---------------------------------------------------------------------------

def test_journey_3_facilitator_reviews_matches(live_server, page, check_a11y, shoot):
    from careteams.matching.models import Match, MatchState
    from careteams.members.models import Person

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    queue_path = "/coops/valley-care/matching/queue"

    def in_review():
        return db.session.execute(sa.select(Match.id, Person.name).join(Person, Person.id == Match.worker_id)
                                  .where(Match.state == MatchState.review).order_by(Match.id)).all()
    waiting = read(app, in_review)
    assert len(waiting) == 2, "the matching demo leaves two matches in review"
    (approve_id, approve_name), (hold_id, hold_name) = ((i, n.split()[0]) for i, n in waiting)

    log_in(page, base, "fran", password, check_a11y)
    press_on(page, f"main a[href='{queue_path}']")
    check_a11y(page)
    assert f"{approve_name} and a team" in main_text(page) and f"{hold_name} and a team" in main_text(page)
    fits_320(page)
    shoot(page, "j3-queue")

    # Approve the first introduction.
    press_on(page, f"main a[href='/matches/{approve_id}']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "j3-match")
    press_on(page, "main form:has(input[name=action][value=approve]) button")
    check_a11y(page)
    assert "Done." in main_text(page)
    assert read(app, lambda: db.session.get(Match, approve_id).state) == MatchState.introduction

    # Hold the second, with a note for the other facilitators.
    go_home(page, check_a11y)
    press_on(page, f"main a[href='{queue_path}']")
    check_a11y(page)
    press_on(page, f"main a[href='/matches/{hold_id}']")
    check_a11y(page)
    tab_to(page, "#note-hold")
    page.keyboard.type("Checking references with their last team first")
    shoot(page, "j3-hold")
    press_on(page, "main form:has(input[name=action][value=hold]) button")
    check_a11y(page)
    held = read(app, lambda: db.session.get(Match, hold_id))
    assert held.held and held.hold_note == "Checking references with their last team first"
    assert held.state == MatchState.review

    # The queue shows it held, with the note; then the fairness report.
    go_home(page, check_a11y)
    press_on(page, f"main a[href='{queue_path}']")
    check_a11y(page)
    assert "(held: Checking references with their last team first)" in main_text(page)
    press_on(page, "main a[href='/coops/valley-care/matching/report']")
    check_a11y(page)
    assert "Fairness" in main_text(page) and "fewer than 5" in main_text(page)
    fits_320(page)
    shoot(page, "j3-fairness-report")


# ---------------------------------------------------------------------------
# Journey 4: a member votes, finds her receipt in the results; the secretary opens the next vote
# ---------------------------------------------------------------------------

def _tellers_open_the_count(app, resolution_id: int, when) -> None:
    """Two of the demo vote's tellers give their shares (still waiting, encrypted under the
    app's secret key, because nobody collected them in this journey) and the count opens."""
    from careteams.governance import seal
    from careteams.governance.models import Resolution, ResolutionTeller
    from careteams.governance.services import tellers

    resolution = db.session.get(Resolution, resolution_id)
    waiting = db.session.scalars(sa.select(ResolutionTeller).where(
        ResolutionTeller.resolution_id == resolution_id, ResolutionTeller.waiting_share.is_not(None))).all()
    shares = [seal.unwrap_share(app.config["SECRET_KEY"], t.waiting_share, f"resolution {resolution_id} teller {t.person_id}")
              for t in waiting]
    tellers.open_count(None, None, resolution, shares, when)
    db.session.commit()


def test_journey_4_vote_receipt_results_and_next_resolution(live_server, page, browser, check_a11y, shoot):
    from careteams.governance import jobs
    from careteams.governance.demo import OPEN_TITLE
    from careteams.governance.models import Resolution, ResolutionStatus

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    votes_path = "/cooperatives/valley-care/resolutions"
    resolution_id = read(app, lambda: db.session.scalar(sa.select(Resolution.id).where(Resolution.title == OPEN_TITLE)))

    # Wendy (a worker member) votes on the open resolution.
    log_in(page, base, "wendy", password, check_a11y)
    press_on(page, f"main a[href='{votes_path}']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "j4-votes")
    press_on(page, f"main a[href='/cooperatives/valley-care/resolutions/{resolution_id}']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "j4-ballot")
    first_option = page.get_attribute("main form[action$='/ballot'] input[name=option]", "id")
    tab_to(page, f"#{first_option}")
    page.keyboard.press("Space")
    assert page.is_checked(f"#{first_option}")
    press_on(page, "main form[action$='/ballot'] button[type=submit]")
    check_a11y(page)
    assert "Your receipt" in main_text(page) and page.url.endswith("/receipt")
    receipt = page.inner_text("main code.tag").strip()
    assert receipt
    fits_320(page)
    shoot(page, "j4-receipt")

    # The clock closes the vote once its closing time has passed (a job, not a page).
    closes_at = read(app, lambda: db.session.get(Resolution, resolution_id).closes_at)
    with app.app_context():
        assert jobs.open_and_close(closes_at + timedelta(minutes=1))["closed"] == 1
        db.session.commit()
        _tellers_open_the_count(app, resolution_id, closes_at + timedelta(minutes=2))
        db.session.remove()

    # Wendy finds her receipt among the published results.
    go_home(page, check_a11y)
    press_on(page, f"main a[href='{votes_path}']")
    check_a11y(page)
    press_on(page, f"main a[href='{votes_path}/{resolution_id}/results']")
    check_a11y(page)
    published = [c.strip() for c in page.eval_on_selector_all("main ul.receipts code", "els => els.map(e => e.textContent)")]
    assert receipt in published
    fits_320(page)
    shoot(page, "j4-results")

    # Sam, the secretary, drafts the next resolution and opens voting.
    sam = new_page(browser)
    log_in(sam, base, "sam", password, check_a11y)
    press_on(sam, f"main a[href='{votes_path}']")
    check_a11y(sam)
    press_on(sam, "main a[href='/cooperatives/valley-care/resolutions/new']")
    check_a11y(sam)
    # Saving an empty draft: the errors are announced and tied to their fields.
    press_on(sam, "main form button[type=submit]")
    check_a11y(sam)
    assert sam.get_attribute("#title", "aria-invalid") == "true"
    described = sam.get_attribute("#title", "aria-describedby") or ""
    error_ids = [d for d in described.split() if "error" in d]
    assert error_ids and sam.inner_text(f"#{error_ids[0]}").strip()
    assert sam.query_selector("main [role=alert]")
    shoot(sam, "j4-new-resolution-errors")

    tz = ZoneInfo("Europe/London")
    opens = utcnow().astimezone(tz).replace(second=0, microsecond=0)
    closes = opens + timedelta(days=14)
    tab_to(sam, "#title")
    sam.keyboard.press("Control+A")
    sam.keyboard.type("Hold the spring meeting in Slaithwaite")
    tab_to(sam, "#text")
    sam.keyboard.press("Control+A")
    sam.keyboard.type("That the spring general meeting is held at the Slaithwaite village hall.")
    for field, when in (("opens_at", opens), ("closes_at", closes)):
        tab_to(sam, f"#{field}")
        type_datetime(sam, when)
        assert sam.input_value(f"#{field}") == when.strftime("%Y-%m-%dT%H:%M")
    fits_320(sam)
    shoot(sam, "j4-new-resolution")
    press_on(sam, "main form button[type=submit]")
    check_a11y(sam)
    assert "saved as a draft" in main_text(sam)
    tab_to(sam, "main input[name=scrutineers]", limit=LONG)  # a scrutineer: the second teller
    sam.keyboard.press("Space")
    press_on(sam, "main form[action$='/open'] button")
    check_a11y(sam)
    assert "Voting is open." in main_text(sam)
    shoot(sam, "j4-next-resolution-open")
    new = read(app, lambda: db.session.scalar(sa.select(Resolution).where(
        Resolution.title == "Hold the spring meeting in Slaithwaite")))
    assert new.status == ResolutionStatus.open
    sam.context.close()
