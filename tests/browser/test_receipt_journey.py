"""Issue 19 in a real browser: a member reads what the counts reveal before voting,
votes with the keyboard, keeps a receipt she can reload and print, and changes her
vote with the six words typed her own way. axe at WCAG 2.2 AA, 320 px and 200% zoom."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import fits_320, log_in, main_text, press_on, read

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def test_receipt_can_be_reloaded_printed_and_used_to_change_the_vote(live_server, page, check_a11y):
    from careteams.governance.demo import OPEN_TITLE
    from careteams.governance.models import Ballot, Resolution

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    resolution_id = read(app, lambda: db.session.scalar(sa.select(Resolution.id).where(Resolution.title == OPEN_TITLE)))
    path = f"/cooperatives/valley-care/resolutions/{resolution_id}"

    log_in(page, base, "wendy", password, check_a11y)
    page.goto(base + path)
    check_a11y(page)
    text = main_text(page)
    # What the counts reveal is said before the ballot, and no false promise is made.
    assert "How secret is your ballot?" in text
    assert text.index("How secret is your ballot?") < text.index("How do you vote?")
    assert "nobody, including the co-op, can see how you voted" not in text

    first_option = page.get_attribute("main form[action$='/ballot'] input[name=option]", "id")
    tab_to(page, f"#{first_option}", limit=250)
    page.keyboard.press("Space")
    press_on(page, "main form[action$='/ballot'] button[type=submit]")
    assert page.url == base + path + "/receipt"
    check_a11y(page)
    fits_320(page)
    receipt = page.inner_text("main code.tag").strip()
    code = page.inner_text("main code.code-medium").strip()
    assert len(code.split()) == 6 and re.fullmatch(r"[a-z ]+", code)

    # Reloading shows the same receipt again.
    page.reload()
    assert page.inner_text("main code.tag").strip() == receipt
    assert page.inner_text("main code.code-medium").strip() == code
    # Printed, it is the receipt alone.
    page.emulate_media(media="print")
    assert not page.is_visible("header.site-header") and not page.is_visible("footer.site-footer")
    assert page.is_visible("main code.tag")
    page.emulate_media(media="screen")

    # Back on the resolution page, the receipt is one link away, and the vote can be
    # changed with the words typed in capitals with extra spaces.
    press_on(page, f"main a[href='{path}']")
    press_on(page, f"main a[href='{path}/receipt']")
    assert page.inner_text("main code.tag").strip() == receipt
    press_on(page, f"main a[href='{path}']")
    tab_to(page, "#change_token", limit=250)
    page.keyboard.type("  " + "   ".join(code.upper().split()) + " ")
    # A radio group is one Tab stop; the arrow keys choose within it (up from the first wraps to Abstain).
    first = page.get_attribute("main form[action$='/ballot/change'] input[name=option]", "id")
    tab_to(page, f"#{first}", limit=250)
    page.keyboard.press("ArrowUp")
    assert page.is_checked("main form[action$='/ballot/change'] input[value=abstain]")
    press_on(page, "main form[action$='/ballot/change'] button[type=submit]")
    assert page.url == base + path + "/receipt"
    assert "(changed)" in main_text(page) and page.inner_text("main code.tag").strip() == receipt
    check_a11y(page)
    assert read(app, lambda: db.session.scalar(sa.select(Ballot.option_id).where(Ballot.receipt == receipt))) is None
