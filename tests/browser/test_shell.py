"""The web shell in a real browser: log in by keyboard only, accessible at 320 px and 200% zoom."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.browser.conftest import (
    NOT_BY_COLOUR_ALONE,
    no_horizontal_scroll,
    tab_to,
    type_date,
    type_datetime,
    type_time,
)

pytestmark = pytest.mark.browser


def test_login_by_keyboard_only_and_home(live_server, page, check_a11y, shoot):
    base = live_server["url"]
    password = live_server["logins"]["password"]
    page.goto(base + "/login")
    check_a11y(page)
    shoot(page, "login")
    # Keyboard only: the skip link is the first stop, then the form.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    tab_to(page, "#email")
    page.keyboard.type("ann@demo.careteams.example")
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    assert "Hello, Ann" in page.text_content("main")
    check_a11y(page)
    shoot(page, "home")


def test_login_errors_are_announced_and_tied_to_fields(live_server, page, check_a11y):
    page.goto(live_server["url"] + "/login")
    tab_to(page, "#email")
    page.keyboard.press("Enter")  # submit the empty form from the email field
    page.wait_for_selector("[role=alert]")
    described = page.get_attribute("#email", "aria-describedby")
    assert described and "email-error" in described
    assert page.get_attribute("#email", "aria-invalid") == "true"
    assert page.text_content("#email-error").strip().startswith("Error:")
    check_a11y(page)


def test_pages_fit_320px_and_200_percent_zoom(live_server, page, check_a11y):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(live_server["url"] + "/login")
    assert no_horizontal_scroll(page)
    # 200% zoom of a 640 px window lays out like a 320 px one.
    page.set_viewport_size({"width": 640, "height": 800})
    page.evaluate("document.body.style.zoom = '200%'")
    assert no_horizontal_scroll(page)
    check_a11y(page)


@pytest.mark.parametrize("hour, minute", [(0, 20), (9, 5), (12, 0), (14, 0), (22, 20), (23, 59)])
def test_keyboard_helpers_enter_any_hour_into_date_and_time_fields(page, hour, minute):
    # The journeys type dates and times with these helpers at whatever hour the
    # suite runs; a morning-only helper once failed a run at 22:20.
    when = datetime(2026, 10, 25, hour, minute)
    page.set_content('<label>At <input id="at" type="datetime-local"></label>'
                     '<label>From <input id="from" type="time"></label>'
                     '<label>Day <input id="day" type="date"></label>')
    page.focus("#at")
    type_datetime(page, when)
    page.focus("#from")
    type_time(page, when)
    page.focus("#day")
    type_date(page, when)
    assert page.input_value("#at") == when.strftime("%Y-%m-%dT%H:%M")
    assert page.input_value("#from") == when.strftime("%H:%M")
    assert page.input_value("#day") == "2026-10-25"


def test_the_colour_alone_check_finds_what_it_should(page):
    page.set_content(
        '<main><p>Read <a href="/a" style="text-decoration: none; color: red">the plan</a>.</p>'
        '<span class="tag"></span>'
        '<div class="field field-error"><input id="x"></div>'
        '<div class="field field-error"><p class="error-message" id="y-error">Enter a name</p><input id="y"></div>'
        '<div class="field field-error"><p class="error-message" id="z-error">Enter a date</p>'
        '<input id="z" aria-describedby="z-hint z-error"></div>'
        '<p><a href="/b">underlined</a></p></main>')
    problems = page.evaluate(NOT_BY_COLOUR_ALONE)
    assert problems == [
        "link not underlined: a the plan",
        "status tag without words: span",
        "field in error without a message: div",
        "error message not tied to its field: #y",
    ]
