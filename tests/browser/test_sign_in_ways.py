"""Issue 17 in a real browser: a person invited by her mobile number (no email)
accepts the invitation, sets a password, logs out, logs in with her number, and
later signs in with a one-time code read from the text she was sent.

Keyboard only (Tab to a control, Enter to use it, typing into fields); axe-core at
WCAG 2.2 AA on every page; the sign-in pages at 320 px and at 200% zoom.
"""

from __future__ import annotations

import re

import pytest

from careteams.db import utcnow
from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import fits_320, main_text, press_on

pytestmark = pytest.mark.browser

NUMBER = "+447700900777"
PASSWORD = "a long password of mine"  # noqa: S105  (a test password)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def _invite_nora(app) -> str:
    """Nora is invited by text (no email): the invitation link's token."""
    from careteams.auth import services as auth
    from careteams.members.models import ContactChannel
    from careteams.members.services import create_person

    with app.app_context(), app.test_request_context():
        nora = create_person("Nora Quinn", None, NUMBER, preferred_channel=ContactChannel.sms, active=False)
        token = auth.send_invitation(nora, None, "Valley Care")
        db.session.commit()
        db.session.remove()
    return token


def _last_text(app) -> str:
    """The newest text sent to Nora, after the outbox ran as the clock would."""
    from careteams.sms.gateway import get_gateway
    from careteams.sms.jobs import send_outbox

    with app.app_context():
        try:
            send_outbox(utcnow())
            texts = [t for t in get_gateway().sent if t.to == NUMBER]
            assert texts, "no text was sent to Nora"
            return texts[-1].body
        finally:
            db.session.remove()


def _type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def _submit(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _log_out(page, check_a11y) -> None:
    press_on(page, "header button.link-button")
    assert "/login" in page.url
    check_a11y(page)


def test_nora_invited_by_mobile_signs_in_with_her_number_and_later_a_code(live_server, page, check_a11y):
    base, app = live_server["url"], live_server["app"]
    token = _invite_nora(app)
    assert f"/invite/{token}" in _last_text(app)

    # She accepts the invitation and sets a password.
    page.goto(f"{base}/invite/{token}")
    check_a11y(page)
    _type_into(page, "#password", PASSWORD)
    _type_into(page, "#confirm", PASSWORD)
    _submit(page)
    assert page.url == base + "/"
    check_a11y(page)
    _log_out(page, check_a11y)

    # She logs in with her number, typed as she would say it.
    page.goto(base + "/login")
    fits_320(page)
    assert "Email or mobile number" in main_text(page)
    _type_into(page, "#email", "07700 900777")
    _type_into(page, "#password", PASSWORD)
    _submit(page)
    assert page.url == base + "/", main_text(page)
    check_a11y(page)
    _log_out(page, check_a11y)

    # A wrong number is said beside the field, and what she typed is kept.
    _type_into(page, "#email", "my number")
    _type_into(page, "#password", PASSWORD)
    _submit(page)
    check_a11y(page)
    assert "For a mobile number, type it like 07700 900123." in main_text(page)
    assert page.input_value("#email") == "my number"

    # Later she signs in without her password: a code by text.
    press_on(page, 'a[href="/login/code"]')
    check_a11y(page)
    fits_320(page)
    _type_into(page, "#email", "+44 7700 900777")
    _submit(page)
    assert "/login/code/enter" in page.url
    assert "If we know that address, we have sent a code" in main_text(page)
    check_a11y(page)
    fits_320(page)
    code = re.match(r"Your careteams sign-in code is (\d{6})\. It works once, for 10 minutes\.$", _last_text(app)).group(1)

    # A mistyped code is said beside the field; the right one signs her in.
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    _type_into(page, "#code", wrong)
    _submit(page)
    check_a11y(page)
    assert "That code is wrong or has expired" in main_text(page)
    tab_to(page, "#code")
    page.keyboard.press("Control+A")
    page.keyboard.type(code)
    _submit(page)
    assert page.url == base + "/", main_text(page)
    check_a11y(page)
