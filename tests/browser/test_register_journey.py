"""The secretary keeps the register in a real browser, by keyboard alone (issue 18):
Sam (the demo's secretary) follows the home to-do to the application waiting, admits
Hana; then records that Will left: a leaving date before he joined is refused beside
the field with his reason kept, and the right one is confirmed on a second page.
axe at WCAG 2.2 AA on every page, and again at 320 px and at 200% zoom."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to, type_date
from tests.browser.test_equality import small_and_zoomed_a11y
from tests.browser.test_journeys import fits_320, log_in, main_text, press_on, read

pytestmark = pytest.mark.browser

COOP = "valley-care"
REGISTER = f"/cooperatives/{COOP}/register"


def membership_of(app, email: str):
    from careteams.members.models import Membership, Person
    from careteams.members.services import coop_today

    def row():
        m = db.session.scalar(
            sa.select(Membership).join(Person, Person.id == Membership.person_id).where(Person.email == email))
        return {"id": m.id, "status": m.status.value, "joined_on": m.joined_on, "left_on": m.left_on,
                "today": coop_today(m.cooperative)}

    return read(app, row)


def test_the_secretary_admits_a_member_and_records_another_leaving(live_server, page, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    hana = membership_of(app, "hana@demo.careteams.example")
    will = membership_of(app, "will@demo.careteams.example")
    assert hana["status"] == "applicant" and will["status"] == "active"
    log_in(page, base, "sam", password, check_a11y)

    # Home: one application waits; its link opens the register filtered to applicants.
    assert "1 application waiting to join" in main_text(page)
    press_on(page, f"main a[href='{REGISTER}?status=applicant']")
    check_a11y(page)
    text = main_text(page)
    assert "Hana Patel" in text and "Will Evans" not in text
    assert "Download the whole register (CSV)" in text
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)
    shoot(page, "register-applicants")

    # Her membership page: admit her from today (the date is filled in), with a note.
    press_on(page, f"main a[href='{REGISTER}/{hana['id']}']")
    check_a11y(page)
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)
    tab_to(page, "#admit-note")
    page.keyboard.type("Approved by the board")
    press_on(page, "main form[action$='/admit'] button[type=submit]")
    check_a11y(page)
    text = main_text(page)
    assert "Admitted: they are a member now." in text
    assert "Worker member, member, by Sam Owen. Approved by the board" in text
    assert membership_of(app, "hana@demo.careteams.example")["status"] == "active"
    shoot(page, "register-membership")

    # Back to the register, to Will's membership.
    press_on(page, f"main a[href='{REGISTER}']")
    check_a11y(page)
    press_on(page, f"main a[href='{REGISTER}/{will['id']}']")

    # A leaving date before he joined: refused beside the field, his reason kept.
    before = will["joined_on"] - timedelta(days=1)
    tab_to(page, "#leave-left_on")
    type_date(page, before)
    tab_to(page, "#leave-note")
    page.keyboard.type("Moved to Leeds")
    press_on(page, "main form[action$='/leave'] button[type=submit]")
    check_a11y(page)
    assert "They cannot leave before they joined" in page.inner_text("#leave-left_on-error")
    assert page.input_value("#leave-note") == "Moved to Leeds"
    small_and_zoomed_a11y(page, check_a11y)
    assert membership_of(app, "will@demo.careteams.example")["status"] == "active"

    # The right date, then the confirm page, then it is recorded.
    tab_to(page, "#leave-left_on")
    type_date(page, will["today"])
    press_on(page, "main form[action$='/leave'] button[type=submit]")
    check_a11y(page)
    assert "Record that Will Evans left?" in main_text(page)
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)
    assert membership_of(app, "will@demo.careteams.example")["status"] == "active"
    press_on(page, "main form[action$='/leave'] button[type=submit]")
    check_a11y(page)
    text = main_text(page)
    assert "Recorded: they have left the co-op." in text and "Moved to Leeds" in text
    after = membership_of(app, "will@demo.careteams.example")
    assert (after["status"], after["left_on"]) == ("left", will["today"])
