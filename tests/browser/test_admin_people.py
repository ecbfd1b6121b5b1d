"""The co-op office's admin pages in a real browser, by keyboard alone (issue 18):
Alex (the demo co-op's admin) invites a person from the People page, changes their
details, gives them a staff role and takes it back (with the confirm step), and
changes one of the co-op's settings. axe at WCAG 2.2 AA on every page, also at 320 px
and at 200% zoom; no page scrolls sideways."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_equality import small_and_zoomed_a11y
from tests.browser.test_journeys import fits_320, log_in, main_text, press_on, read

pytestmark = pytest.mark.browser

COOP = "valley-care"


def person_row(app, email: str):
    from careteams.members.models import Person, StaffRole

    def row():
        person = db.session.scalar(sa.select(Person).where(Person.email == email))
        if person is None:
            return None
        roles = sorted(r.value for r in db.session.scalars(sa.select(StaffRole.role).where(StaffRole.person_id == person.id)))
        return person.name, person.phone, roles

    return read(app, row)


def role_id(app, email: str) -> int:
    from careteams.members.models import Person, StaffRole

    return read(app, lambda: db.session.scalar(sa.select(StaffRole.id).join(Person, Person.id == StaffRole.person_id)
                                               .where(Person.email == email)))


def quorum_percent(app) -> int:
    from careteams.members.models import Cooperative

    return read(app, lambda: db.session.scalar(sa.select(Cooperative.quorum_percent).where(Cooperative.slug == COOP)))


def type_in(page, selector: str, text: str) -> None:
    tab_to(page, selector, limit=250)
    page.keyboard.press("Control+a")
    page.keyboard.type(text)


def looked_at(page, check_a11y) -> None:
    check_a11y(page)
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)


def test_alex_invites_edits_grants_takes_back_and_changes_a_setting(live_server, page, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    log_in(page, base, "alex", password, check_a11y)

    # People, from the navigation; then the invitation.
    press_on(page, f"a[href='/coops/{COOP}/people']")
    looked_at(page, check_a11y)
    assert "Alex Price" in main_text(page)
    press_on(page, f"main a[href='/coops/{COOP}/people/invite']")
    looked_at(page, check_a11y)
    shoot(page, "admin-invite")
    # Refused first: no email and no mobile; what was typed stays.
    type_in(page, "#name", "Nina Newcomer")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Give an email address or a mobile number." in main_text(page)
    assert page.input_value("#name") == "Nina Newcomer"
    type_in(page, "#email", "nina@demo.careteams.example")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert page.url.startswith(f"{base}/coops/{COOP}/people/")
    assert "Nina Newcomer is invited" in main_text(page)
    assert person_row(app, "nina@demo.careteams.example") == ("Nina Newcomer", None, [])

    # Her details changed on her page.
    looked_at(page, check_a11y)
    type_in(page, "#name", "Nina Newman")
    type_in(page, "#phone", "07700 900777")
    press_on(page, "main form[action$='/edit'] button[type=submit]")
    check_a11y(page)
    assert "Nina Newman's details are saved." in main_text(page)
    assert person_row(app, "nina@demo.careteams.example") == ("Nina Newman", "+447700900777", [])

    # A staff role given: found by name, chosen from the list.
    press_on(page, f"a[href='/coops/{COOP}/staff']")
    looked_at(page, check_a11y)
    shoot(page, "admin-staff")
    type_in(page, "#q", "Nina")
    press_on(page, "main form[role=search] button[type=submit]")
    tab_to(page, "#person_id", limit=250)
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#person_id", "el => el.options[el.selectedIndex].text").startswith("Nina Newman")
    press_on(page, "main form[method=post] button[type=submit]")
    check_a11y(page)
    assert "Nina Newman is now facilitator" in main_text(page)
    assert person_row(app, "nina@demo.careteams.example")[2] == ["facilitator"]

    # ...and taken back, after the confirm step.
    press_on(page, f"main a[href='/coops/{COOP}/staff/{role_id(app, 'nina@demo.careteams.example')}/take-back']")
    looked_at(page, check_a11y)
    assert "Take back Nina Newman's facilitator role?" in main_text(page)
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Nina Newman is no longer facilitator" in main_text(page)
    assert person_row(app, "nina@demo.careteams.example")[2] == []

    # A setting changed: the quorum's percent, in the co-op's rules.
    press_on(page, f"a[href='/coops/{COOP}/settings']")
    looked_at(page, check_a11y)
    shoot(page, "admin-settings")
    type_in(page, "#rules-quorum_percent", "150")
    press_on(page, "main form[action$='/settings/rules'] button[type=submit]")
    check_a11y(page)
    assert "Enter a number from 0 to 100." in main_text(page)
    assert page.input_value("#rules-quorum_percent") == "150"
    type_in(page, "#rules-quorum_percent", "15")
    press_on(page, "main form[action$='/settings/rules'] button[type=submit]")
    check_a11y(page)
    assert "The co-op's rules are saved." in main_text(page)
    assert quorum_percent(app) == 15
