"""Home and navigation in a real browser (issue 17): axe at WCAG 2.2 AA, 320 px and
200% zoom, and the keyboard reaches every link of the navigation."""

from __future__ import annotations

import pytest

from tests.browser.conftest import no_horizontal_scroll
from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.browser

NAV_LINKS = "header nav a[href]"


def nav_hrefs(page) -> list[str]:
    return page.eval_on_selector_all(NAV_LINKS, "links => links.map(a => a.getAttribute('href'))")


@pytest.mark.parametrize("who", ["ann", "wendy", "fran"])
def test_home_is_accessible_and_fits_320px_and_200_percent_zoom(live_server, page, check_a11y, who):
    base = live_server["url"]
    log_in(page, base, who, live_server["logins"]["password"], check_a11y)
    assert page.is_visible("#todo-title")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(base + "/")
    assert no_horizontal_scroll(page)
    check_a11y(page)
    # 200% zoom of a 640 px window lays out like a 320 px one.
    page.set_viewport_size({"width": 640, "height": 800})
    page.evaluate("document.body.style.zoom = '200%'")
    assert no_horizontal_scroll(page)
    check_a11y(page)


@pytest.mark.parametrize("who", ["ann", "wendy", "fran", "sam"])
def test_the_keyboard_reaches_every_navigation_link(live_server, page, check_a11y, who):
    base = live_server["url"]
    log_in(page, base, who, live_server["logins"]["password"], check_a11y)
    wanted = set(nav_hrefs(page))
    assert wanted, "no navigation links"
    reached = set()
    for _ in range(len(wanted) + 10):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.closest('header nav') ? "
                             "document.activeElement.getAttribute('href') : null")
        if href:
            reached.add(href)
        if wanted <= reached:
            break
    assert wanted <= reached, f"not reached by Tab: {wanted - reached}"


def test_a_leader_has_no_worker_links_and_a_worker_no_leader_links(live_server, page, check_a11y):
    base = live_server["url"]
    log_in(page, base, "ann", live_server["logins"]["password"], check_a11y)
    ann = page.text_content("header nav")
    assert "My shifts" not in ann and "Shifts offered to me" not in ann and "My hours" not in ann
    assert "Hours to confirm" in ann
