"""A facilitator acts on a visit the rota escalated to the facilitators (issue 18), in a
real browser and by keyboard only: Fran follows the day page's "passed to facilitators"
line to the visit, offers it to the co-op's workers, and the page says so. The visit page
passes axe at WCAG 2.2 AA at full width, 320 px and 200% zoom."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.rota.models import Offer, Shift
from careteams.teams.models import AuditEntry
from tests.browser.conftest import no_horizontal_scroll, tab_to
from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.browser

ESCALATED_LINK = 'section[aria-labelledby="escalated"] li a[href]'


def test_a_facilitator_offers_an_escalated_visit_by_keyboard(live_server, page, check_a11y):
    base = live_server["url"]
    app = live_server["app"]
    with app.app_context():
        shift = db.session.scalar(sa.select(Shift).where(Shift.escalation_level >= 2))  # the demo's
        assert shift is not None, "the demo seeds a visit escalated to the facilitators"
        slug = shift.team.cooperative.slug
        visit = f"/teams/{shift.team_id}/rota/visits/{shift.id}"
        shift_id = shift.id
        db.session.remove()

    log_in(page, base, "fran", live_server["logins"]["password"], check_a11y)
    tab_to(page, f'header nav a[href="/coops/{slug}/day"]', limit=80)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute(ESCALATED_LINK, "href") == visit
    tab_to(page, f'{ESCALATED_LINK}[href="{visit}"]', limit=200)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + visit
    assert page.is_visible("h3:has-text(\"Passed to the co-op's facilitators\")")
    check_a11y(page)

    tab_to(page, 'main form[action$="/outside/offer"] button', limit=120)
    assert page.evaluate("document.activeElement.textContent.trim()") == "Offer to workers of the co-op"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.split("#")[0] == base + visit
    body = page.inner_text("main")
    assert "of the co-op outside the team" in body and "The leader is told" in body
    assert "waiting for their answers" in body
    check_a11y(page)
    with app.app_context():
        offered = db.session.scalar(sa.select(sa.func.count(Offer.id)).where(
            Offer.shift_id == shift_id, Offer.outside_team))
        audited = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.action == "rota.escalated_outside_offer", AuditEntry.subject == f"shift:{shift_id}"))
        db.session.remove()
    assert offered >= 1 and audited == 1

    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(base + visit)
    assert no_horizontal_scroll(page)
    check_a11y(page)
    # 200% zoom of a 640 px window lays out like a 320 px one.
    page.set_viewport_size({"width": 640, "height": 800})
    page.evaluate("document.body.style.zoom = '200%'")
    assert no_horizontal_scroll(page)
    check_a11y(page)
