"""Issue 19's browser journey: a sealed vote from start to results.

The secretary names two scrutineers and opens voting; each of the three tellers
collects her share once; members vote (one by proxy); at the close two tellers
give their shares on the count page and the results appear. Keyboard only, axe at
WCAG 2.2 AA on every page visited, the main pages at 320 px and 200% zoom.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import EMAIL, fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser

TITLE = "Buy a second pool car for rural rounds"


def _draft(app) -> dict:
    from careteams.governance.services import resolutions
    from careteams.members.models import Cooperative, Membership, Person
    from careteams.members.services import actor_for

    with app.app_context():
        people = {k: db.session.scalar(sa.select(Person).where(Person.email == EMAIL.format(k)))
                  for k in ("sam", "quinn", "zoe", "ann", "will", "wendy")}
        coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.slug == "valley-care"))
        now = utcnow()
        r = resolutions.create_resolution(actor_for(people["sam"]), coop, {
            "title": TITLE, "kind": "ordinary", "text": "That the co-op buys a second pool car.",
            "opens_at": now - timedelta(minutes=1), "closes_at": now + timedelta(hours=2)})
        db.session.commit()
        ids = {"resolution": r.id, "for": next(o.id for o in r.options if o.key == "for"),
               "against": next(o.id for o in r.options if o.key == "against"),
               **{k: p.id for k, p in people.items()},
               "ann_membership": db.session.scalar(sa.select(Membership.id).where(
                   Membership.cooperative_id == coop.id, Membership.person_id == people["ann"].id))}
        db.session.remove()
    return ids


def _collect_share(page, base, url, check_a11y) -> str:
    page.goto(url)
    check_a11y(page)
    press_on(page, "main a[href$='/share']")
    check_a11y(page)
    press_on(page, "form[action$='/share'] button")
    check_a11y(page)
    share = page.text_content("#share").strip()
    assert "shown only now" in main_text(page)
    return share


def test_sealed_vote_from_tellers_to_results(live_server, page, browser, check_a11y):
    from careteams.governance.enums import ResolutionStatus
    from careteams.governance.models import Resolution
    from careteams.governance.services import results

    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    ids = _draft(app)
    url = f"{base}/cooperatives/valley-care/resolutions/{ids['resolution']}"

    # The secretary names Quinn and Zoe as scrutineers (2 of 3 shares open the count) and opens voting.
    log_in(page, base, "sam", password, check_a11y)
    page.goto(url)
    check_a11y(page)
    assert "cannot be counted" in main_text(page)
    for who in ("quinn", "zoe"):
        tab_to(page, f"#scrutineer-{ids[who]}", limit=250)
        page.keyboard.press("Space")
    press_on(page, "form[action$='/open'] button")
    assert read(app, lambda: db.session.get(Resolution, ids["resolution"]).status) == ResolutionStatus.open
    fits_320(page)
    shares = {"sam": _collect_share(page, base, url, check_a11y)}
    for who in ("quinn", "zoe"):
        other = new_page(browser)
        log_in(other, base, who, password, check_a11y)
        shares[who] = _collect_share(other, base, url, check_a11y)
        other.context.close()
    assert len(set(shares.values())) == 3

    # Ann appoints Will as her proxy; Will votes for himself and, as proxy, for Ann; Wendy votes.
    ann = new_page(browser)
    log_in(ann, base, "ann", password, check_a11y)
    ann.goto(url)
    tab_to(ann, "#proxy_membership_id", limit=250)
    ann.keyboard.type("Will")
    press_on(ann, "form[action$='/proxy'] button")
    check_a11y(ann)
    ann.context.close()
    will = new_page(browser)
    log_in(will, base, "will", password, check_a11y)
    will.goto(url)
    check_a11y(will)
    tab_to(will, f"#option-p{ids['ann_membership']}-{ids['for']}", limit=250)
    will.keyboard.press("ArrowDown")  # within the radio group: Against
    assert will.is_checked(f"#option-p{ids['ann_membership']}-{ids['against']}")
    press_on(will, f"form:has(#option-p{ids['ann_membership']}-{ids['against']}) button")
    assert "Your receipt" in main_text(will)
    will.goto(url)
    tab_to(will, f"#option-{ids['for']}", limit=250)
    will.keyboard.press("Space")
    press_on(will, f"form:has(#option-{ids['for']}) button")
    will.context.close()
    wendy = new_page(browser)
    log_in(wendy, base, "wendy", password, check_a11y)
    wendy.goto(url)
    tab_to(wendy, f"#option-{ids['for']}", limit=250)
    wendy.keyboard.press("Space")
    press_on(wendy, f"form:has(#option-{ids['for']}) button")
    check_a11y(wendy)

    # The close: the vote waits for its tellers, sealed.
    def close():
        resolution = db.session.get(Resolution, ids["resolution"])
        results.close_resolution(resolution.id, resolution.closes_at)
        db.session.commit()

    with app.app_context():
        close()
        db.session.remove()
    wendy.goto(url)
    check_a11y(wendy)
    assert "The ballots stay sealed until 2 of the tellers" in main_text(wendy)
    wendy.context.close()

    # Two tellers give their shares together on the count page; the results appear.
    quinn = new_page(browser)
    log_in(quinn, base, "quinn", password, check_a11y)
    quinn.goto(url)
    press_on(quinn, "main a[href$='/count']")
    check_a11y(quinn)
    fits_320(quinn)
    tab_to(quinn, "#share-1")
    quinn.keyboard.type(shares["sam"])
    tab_to(quinn, "#share-2")
    quinn.keyboard.type(shares["zoe"][:-1] + ("0" if shares["zoe"][-1] != "0" else "1"))  # a slip
    with quinn.expect_navigation():
        quinn.keyboard.press("Enter")
    assert "do not open this vote" in main_text(quinn)
    check_a11y(quinn)
    tab_to(quinn, "#share-1")
    quinn.keyboard.type(shares["quinn"])
    tab_to(quinn, "#share-2")
    quinn.keyboard.type(shares["zoe"])
    with quinn.expect_navigation():
        quinn.keyboard.press("Enter")
    assert TITLE in main_text(quinn) and "Carried" in main_text(quinn)
    check_a11y(quinn)
    fits_320(quinn)
    status = read(app, lambda: db.session.get(Resolution, ids["resolution"]).status)
    assert status == ResolutionStatus.closed
