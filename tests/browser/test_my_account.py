"""Issue 17's My account journey, in a browser: a member changes her mobile with the
code sent to it, signs out another device, and downloads what the co-op holds about her.

Keyboard only (Tab to a control, Enter to use it, typing into fields), axe-core at
WCAG 2.2 AA on every page, each page checked at 320 px and at 200% zoom.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import EMAIL, fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser

NEW_MOBILE = "07700 900999"
NEW_MOBILE_E164 = "+447700900999"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/London"}


def _code_sent_to(app, number: str) -> str:
    from careteams.sms.models import OutboundMessage

    body = read(app, lambda: db.session.scalar(
        sa.select(OutboundMessage.body).where(OutboundMessage.to_number == number).order_by(OutboundMessage.id.desc())))
    assert body, f"no text to {number}"
    return re.search(r"\b(\d{6})\b", body).group(1)


def _phone_of(app, who: str) -> str:
    from careteams.members.models import Person

    return read(app, lambda: db.session.scalar(sa.select(Person.phone).where(Person.email == EMAIL.format(who))))


def test_a_member_changes_her_mobile_signs_out_a_device_and_downloads_her_data(live_server, page, browser, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    old_phone = _phone_of(app, "wendy")

    # Her phone is signed in too.
    phone = new_page(browser)
    log_in(phone, base, "wendy", password, check_a11y)

    log_in(page, base, "wendy", password, check_a11y)
    page.goto(base + "/my/account/")  # the navigation to it is built by the home and navigation work
    check_a11y(page)
    fits_320(page)
    shoot(page, "a1-my-account")

    # A new mobile: a code is sent to it; a wrong code is refused beside the field.
    press_on(page, "main a[href='/my/account/phone']")
    check_a11y(page)
    fits_320(page)
    tab_to(page, "#phone")
    page.keyboard.type(NEW_MOBILE)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_a11y(page)
    assert "We have sent a code to your new mobile number" in main_text(page)
    code = _code_sent_to(app, NEW_MOBILE_E164)
    wrong = "000000" if code != "000000" else "111111"
    tab_to(page, "#code")
    page.keyboard.type(wrong)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_a11y(page)
    assert page.title().startswith("Error:")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert "That code is wrong" in page.inner_text("#code-error")
    assert page.input_value("#code") == wrong  # what she typed is kept
    fits_320(page)
    shoot(page, "a2-wrong-code")
    assert _phone_of(app, "wendy") == old_phone
    tab_to(page, "#code")
    page.keyboard.press("Control+A")
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_a11y(page)
    assert "Your mobile number is changed." in main_text(page)
    assert _phone_of(app, "wendy") == NEW_MOBILE_E164

    # Her devices: she signs out the phone.
    press_on(page, "main a[href='/my/account/sessions']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "a3-devices")
    assert "(this device)" in main_text(page)
    press_on(page, "main form[action*='/my/account/sessions/'][action$='/end'] button")
    check_a11y(page)
    assert "That device is signed out." in main_text(page)
    phone.goto(base + "/my/account/")
    assert "/login" in phone.url  # the phone has to log in again

    # What the co-op holds about her, and the download.
    press_on(page, "main a[href='/my/account/']")
    press_on(page, "main a[href='/my/account/data']")
    check_a11y(page)
    fits_320(page)
    shoot(page, "a4-my-data")
    assert "Secret ballots cannot be linked to you" in main_text(page)
    tab_to(page, "main a[href='/my/account/data.json']")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    data = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    [me] = data["tables"]["person"]["rows"]
    assert me["phone"] == NEW_MOBILE_E164 and me["email"] == EMAIL.format("wendy")
    assert "password_hash" not in me
    assert data["tables"]["login_session"]["rows"]


def test_every_my_account_page_passes_axe_and_fits_320(live_server, page, check_a11y):
    """The other My account pages, each reached from the overview with the keyboard;
    on "how the co-op tells you things" she picks "only on this website"."""
    from careteams.members.models import Person

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    log_in(page, base, "ann", password, check_a11y)
    page.goto(base + "/my/account/")
    for path in ("/my/account/name", "/my/account/email", "/my/account/password", "/my/account/reach"):
        press_on(page, f"main a[href='{path}']")
        check_a11y(page)
        fits_320(page)
        if path != "/my/account/reach":
            press_on(page, "main a[href='/my/account/']")
    tab_to(page, "#reach")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # text -> email -> web only
    assert page.is_checked("#reach-2")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Only on this website" in main_text(page)
    assert read(app, lambda: db.session.scalar(sa.select(Person.web_only).where(Person.email == EMAIL.format("ann"))))
