"""The co-op figures page in a real browser, by keyboard alone (issue 18): a facilitator
opens "Co-op figures" from the navigation, is refused a range that ends before it starts
(the reason beside the field, what she typed kept), chooses one, reaches every table and
the CSV link by keyboard; an admin sees the page without the matching section. axe at
WCAG 2.2 AA at full width, 320 px and 200% zoom."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Cooperative
from tests.browser.conftest import tab_to
from tests.browser.test_equality import small_and_zoomed_a11y
from tests.browser.test_journeys import fits_320, log_in, main_text, press_on, read

pytestmark = pytest.mark.browser

COOP = "valley-care"
TABLES = ("Hours of support delivered", "Active teams and workers", "Worker turnover",
          "Hours confirmed without dispute", "Matching success and days from vacancy to start")


def figures_url(app) -> str:
    coop_id = read(app, lambda: db.session.scalar(sa.select(Cooperative.id).where(Cooperative.slug == COOP)))
    return f"/cooperatives/{coop_id}/hours/figures"


def months_back(n: int) -> str:
    today = utcnow().date()
    index = today.year * 12 + today.month - 1 - n
    return f"{index // 12}-{index % 12 + 1:02d}"


def test_a_facilitator_reads_the_figures_by_keyboard(live_server, page, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    url = figures_url(app)
    log_in(page, base, "fran", password, check_a11y)
    press_on(page, f'header nav a[href="{url}"]')
    assert page.url == base + url
    assert page.is_visible("h1:has-text('co-op figures')")
    check_a11y(page)
    regions = page.locator("main .table-wrap[role=region][tabindex='0']")
    assert regions.count() == len(TABLES)
    assert page.locator("main svg[role=img]").count() == len(TABLES)

    # A range that ends before it starts: refused, the reason beside the field, the months kept.
    later, earlier = months_back(1), months_back(3)
    tab_to(page, "#from_month", limit=80)
    page.keyboard.type(later)
    tab_to(page, "#to_month")
    page.keyboard.type(earlier)
    with page.expect_navigation() as refused:
        page.keyboard.press("Enter")
    assert refused.value.status == 422
    assert "The first month must be the same as the last month or before it." in main_text(page)
    assert page.input_value("#from_month") == later and page.input_value("#to_month") == earlier
    assert page.locator("main svg[role=img]").count() == 0
    check_a11y(page)

    # Mended by keyboard: the three months are shown.
    tab_to(page, "#from_month", limit=80)
    page.keyboard.press("Control+A")
    page.keyboard.type(earlier)
    tab_to(page, "#to_month")
    page.keyboard.press("Control+A")
    page.keyboard.type(later)
    with page.expect_navigation() as shown:
        page.keyboard.press("Enter")
    assert shown.value.status == 200
    assert page.url == f"{base}{url}?from_month={earlier}&to_month={later}"
    assert "(3 months)" in main_text(page)
    check_a11y(page)
    for label in TABLES:
        tab_to(page, f"main .table-wrap[aria-label='{label}: the figures']", limit=120)
    page.goto(base + url)
    tab_to(page, f"main a[href^='{url}.csv']", limit=120)
    small_and_zoomed_a11y(page, check_a11y)
    fits_320(page)
    shoot(page, "coop-figures")


def test_an_admin_sees_the_figures_without_matching(live_server, page, check_a11y):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    url = figures_url(app)
    log_in(page, base, "alex", password, check_a11y)
    press_on(page, f'header nav a[href="{url}"]')
    check_a11y(page)
    assert page.locator("main .table-wrap[role=region][tabindex='0']").count() == len(TABLES) - 1
    assert "show to the co-op's facilitators" in main_text(page)
    small_and_zoomed_a11y(page, check_a11y)
    fits_320(page)
