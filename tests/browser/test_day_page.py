"""The facilitators' day in a real browser (issue 18): a facilitator reaches "Today's work"
by keyboard from the navigation, works the page from top to bottom (every line's link opens
its page), and the page passes axe at WCAG 2.2 AA at full width, 320 px and 200% zoom."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Cooperative
from careteams.teams.models import Team
from tests.browser.conftest import no_horizontal_scroll, tab_to
from tests.browser.test_journeys import log_in
from tests.factories import ShiftFactory

pytestmark = pytest.mark.browser


def add_unbooked_visit(app) -> tuple[str, int]:
    """A visit in two days with nobody booked, in one of the demo co-op's teams."""
    with app.app_context(), app.test_request_context():
        team = db.session.scalars(sa.select(Team).order_by(Team.id)).first()
        slug = db.session.get(Cooperative, team.cooperative_id).slug
        start = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        shift = ShiftFactory(team=team, starts_at=start, ends_at=start + timedelta(hours=1))
        db.session.commit()
        return slug, shift.id


def test_a_facilitator_works_the_day_by_keyboard(live_server, page, check_a11y):
    base = live_server["url"]
    slug, shift_id = add_unbooked_visit(live_server["app"])
    log_in(page, base, "fran", live_server["logins"]["password"], check_a11y)
    tab_to(page, f'header nav a[href="/coops/{slug}/day"]', limit=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/coops/{slug}/day"
    assert page.is_visible("h1:has-text(\"Today's work\")")
    check_a11y(page)

    # From the top: each line's link is reached by Tab and opens the page that resolves it.
    hrefs = page.eval_on_selector_all("main section li a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert any(f"/rota/visits/{shift_id}" in h for h in hrefs), hrefs
    for href in hrefs:
        page.goto(f"{base}/coops/{slug}/day")
        tab_to(page, f'main section li a[href="{href}"]', limit=200)
        with page.expect_navigation() as opened:
            page.keyboard.press("Enter")
        assert opened.value.status == 200, href
        assert page.url.split("#")[0] == base + href.split("#")[0]

    page.goto(f"{base}/coops/{slug}/day")
    page.set_viewport_size({"width": 320, "height": 640})
    page.reload()
    assert no_horizontal_scroll(page)
    check_a11y(page)
    # 200% zoom of a 640 px window lays out like a 320 px one.
    page.set_viewport_size({"width": 640, "height": 800})
    page.evaluate("document.body.style.zoom = '200%'")
    assert no_horizontal_scroll(page)
    check_a11y(page)


def test_a_team_leader_is_refused_the_day(live_server, page, check_a11y):
    base = live_server["url"]
    slug, _ = add_unbooked_visit(live_server["app"])
    log_in(page, base, "ann", live_server["logins"]["password"], check_a11y)
    assert f"/coops/{slug}/day" not in page.inner_html("header nav")
    response = page.goto(f"{base}/coops/{slug}/day")
    assert response.status == 403
    check_a11y(page)
