"""Issue 20: in a large electorate (more than 50 other voters) a member chooses her proxy
by typing a name: the GET search, then the match's button appoints. Keyboard only, axe
at WCAG 2.2 AA on each page, no sideways scrolling at 320 px and 200% zoom."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import EMAIL, fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser


def _open_large_vote(app) -> dict:
    from careteams.governance.services import ballots, resolutions
    from careteams.members.models import Cooperative, MemberClass, Membership, Person
    from careteams.members.services import actor_for
    from tests.factories import MembershipFactory, PersonFactory

    with app.app_context():
        people = {k: db.session.scalar(sa.select(Person).where(Person.email == EMAIL.format(k)))
                  for k in ("sam", "quinn", "ann", "will")}
        coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.slug == "valley-care"))
        for n in range(ballots.SMALL_ELECTORATE + 5):
            MembershipFactory(cooperative=coop, member_class=MemberClass.worker,
                              person=PersonFactory(name=f"Filler Member {n:02d}"))
        now = utcnow()
        r = resolutions.create_resolution(actor_for(people["sam"]), coop, {
            "title": "Extend the winter rota", "kind": "ordinary", "text": "That the winter rota runs to March.",
            "opens_at": now - timedelta(minutes=1), "closes_at": now + timedelta(hours=2)})
        r = resolutions.open_resolution(actor_for(people["sam"]), coop, r, now, scrutineers=[people["quinn"].id])
        db.session.commit()
        ids = {"resolution": r.id, "will_membership": db.session.scalar(sa.select(Membership.id).where(
            Membership.cooperative_id == coop.id, Membership.person_id == people["will"].id))}
        db.session.remove()
    return ids


def test_a_member_finds_her_proxy_by_name_and_appoints_with_the_keyboard(live_server, browser, check_a11y):
    from careteams.governance.models import ProxyAppointment

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    ids = _open_large_vote(app)
    url = f"{base}/cooperatives/valley-care/resolutions/{ids['resolution']}"
    ann = new_page(browser)
    log_in(ann, base, "ann", password, check_a11y)
    ann.goto(url)
    check_a11y(ann)
    assert "Find a member to be your proxy" in main_text(ann)
    assert ann.locator("select#proxy_membership_id").count() == 0
    tab_to(ann, "#proxy_membership_id", limit=250)
    ann.keyboard.type("will")
    with ann.expect_navigation():
        ann.keyboard.press("Enter")
    check_a11y(ann)
    fits_320(ann)
    assert "proxy_q=will" in ann.url
    press_on(ann, f"form[action$='/proxy']:has(input[value='{ids['will_membership']}']) button")
    check_a11y(ann)
    assert "Your proxy is appointed" in main_text(ann)
    held = read(app, lambda: db.session.scalar(sa.select(ProxyAppointment.proxy_membership_id).where(
        ProxyAppointment.resolution_id == ids["resolution"])))
    assert held == ids["will_membership"]
    ann.context.close()
