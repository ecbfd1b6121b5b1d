"""The co-op office's catalogue in a real browser (issue 18), keyboard only, with axe at
WCAG 2.2 AA at full width, 320 px and 200% zoom: Fran (the demo facilitator) records a
DBS check with its certificate number for a demo worker and sees it among the valid
checks; Alex (the demo admin) is refused a rate without an amount, then adds a pay rate
from a future date and sees it scheduled."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Cooperative, Person
from tests.browser.conftest import no_horizontal_scroll, tab_to, type_date
from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.browser


def demo_ids(app) -> tuple[str, int, int]:
    """The demo co-op's slug and id, and Wendy's person id (a worker with a profile)."""
    with app.app_context():
        coop = db.session.scalars(sa.select(Cooperative).order_by(Cooperative.id)).first()
        wendy = db.session.scalar(sa.select(Person).where(Person.email == "wendy@demo.careteams.example"))
        return coop.slug, coop.id, wendy.id


def narrow_and_zoomed(page, check_a11y) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.reload()
    assert no_horizontal_scroll(page)
    check_a11y(page)
    # 200% zoom of a 640 px window lays out like a 320 px one.
    page.set_viewport_size({"width": 640, "height": 800})
    page.evaluate("document.body.style.zoom = '200%'")
    assert no_horizontal_scroll(page)
    check_a11y(page)
    page.evaluate("document.body.style.zoom = ''")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_fran_records_a_dbs_check_with_its_reference(live_server, page, check_a11y):
    base = live_server["url"]
    slug, _, wendy_id = demo_ids(live_server["app"])
    log_in(page, base, "fran", live_server["logins"]["password"], check_a11y)
    tab_to(page, f'header nav a[href="/coops/{slug}/checks"]', limit=150)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/coops/{slug}/checks"
    check_a11y(page)
    narrow_and_zoomed(page, check_a11y)

    worker_url = f"/coops/{slug}/workers/{wendy_id}/checks"
    tab_to(page, f'main a[href="{worker_url}"]', limit=300)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + worker_url
    check_a11y(page)

    today = utcnow().date()
    tab_to(page, "#kind", limit=100)  # "Enhanced DBS check" is the first kind
    assert page.eval_on_selector("#kind", "el => el.value") == "enhanced_dbs"
    tab_to(page, "#reference")
    page.keyboard.type("009876543210")
    tab_to(page, "#checked_on")
    type_date(page, today)
    tab_to(page, "#expires_on")
    type_date(page, today + timedelta(days=3 * 365))
    tab_to(page, 'main form button[type="submit"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + worker_url
    assert page.is_visible("text=The check is recorded.")
    assert page.is_visible("main table td:has-text('009876543210')")
    check_a11y(page)
    narrow_and_zoomed(page, check_a11y)

    tab_to(page, f'main a[href="/coops/{slug}/checks"]', limit=100)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    row = page.locator(f"section[aria-labelledby='worker-{wendy_id}'] tr", has_text="009876543210")
    assert row.count() == 1 and "Valid" in row.inner_text()


def test_alex_adds_a_pay_rate_from_a_future_date(live_server, page, check_a11y):
    base = live_server["url"]
    _, coop_id, _ = demo_ids(live_server["app"])
    url = f"/cooperatives/{coop_id}/hours/pay-rates"
    log_in(page, base, "alex", live_server["logins"]["password"], check_a11y)
    tab_to(page, f'header nav a[href="{url}"]', limit=150)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + url
    check_a11y(page)
    narrow_and_zoomed(page, check_a11y)

    start = utcnow().date() + timedelta(days=120)
    tab_to(page, "#effective_from", limit=100)
    type_date(page, start)
    tab_to(page, 'main form button[type="submit"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Refused without an amount: the summary and the message beside the field, the date kept.
    assert page.is_visible("#hourly_rate-error")
    assert page.eval_on_selector("#effective_from", "el => el.value") == start.isoformat()
    check_a11y(page)

    tab_to(page, "#hourly_rate", limit=100)
    page.keyboard.type("12.60")
    tab_to(page, "#night_enhancement")
    page.keyboard.type("1.50")
    tab_to(page, 'main form button[type="submit"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + url
    assert page.is_visible("text=The pay rate is added.")
    row = page.locator("section[aria-labelledby='band-urban'] tr", has_text=start.strftime("%-d %b %Y"))
    assert row.count() == 1 and "Scheduled" in row.inner_text() and "£12.60" in row.inner_text()
    check_a11y(page)
    narrow_and_zoomed(page, check_a11y)
