"""Places, not coordinates, in a real browser, by keyboard alone (issue 18): a worker finds
her profile from the navigation, gives a postcode that does not exist (refused beside the
field, what she typed kept), then a real one, saved with its point from the fixed geocoder.
A team leader's settings ask for a postcode too. axe at WCAG 2.2 AA on every page,
including at 320 px and at 200% zoom; no page asks for a latitude or longitude."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to
from tests.browser.test_equality import small_and_zoomed_a11y
from tests.browser.test_journeys import fits_320, log_in, main_text, press_on, read

pytestmark = pytest.mark.browser

COOP = "valley-care"
PROFILE = f"/coops/{COOP}/worker-profile"


def place_of(app, email: str):
    from careteams.matching.models import WorkerProfile
    from careteams.members.models import Person

    def row():
        return tuple(db.session.execute(
            sa.select(WorkerProfile.postcode, WorkerProfile.latitude, WorkerProfile.longitude, WorkerProfile.district)
            .join(Person, Person.id == WorkerProfile.person_id).where(Person.email == email)).one())

    return read(app, row)


def no_coordinate_fields(page) -> None:
    assert page.locator("input[name=latitude], input[name=longitude]").count() == 0
    assert "latitude" not in main_text(page).lower() and "longitude" not in main_text(page).lower()


def retype(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_a_worker_gives_her_postcode_by_keyboard(live_server, page, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    email = "wendy@demo.careteams.example"
    log_in(page, base, "wendy", password, check_a11y)

    press_on(page, f"a[href='{PROFILE}']")
    check_a11y(page)
    no_coordinate_fields(page)
    assert page.input_value("#postcode") == "HX7 8AD"  # the demo's, from the fixed table
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)
    shoot(page, "worker-profile-postcode")

    # A postcode that does not exist: refused beside the field, what she typed kept.
    retype(page, "#postcode", "zz9 9zz")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "We could not find that postcode" in main_text(page)
    assert page.input_value("#postcode") == "zz9 9zz"
    assert page.get_attribute("#postcode", "aria-invalid") == "true"
    assert "postcode-error" in page.get_attribute("#postcode", "aria-describedby")
    small_and_zoomed_a11y(page, check_a11y)
    assert place_of(app, email)[0] == "HX7 8AD"

    # A real one (in the fixed table): saved, with its point; she never typed coordinates.
    retype(page, "#postcode", "hx7 8ab")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Your worker profile is saved." in main_text(page)
    assert place_of(app, email) == ("HX7 8AB", 53.742, -2.014, "HX7")


def test_a_leader_gives_the_team_postcode_by_keyboard(live_server, page, check_a11y):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    from careteams.members.models import Person
    from careteams.teams.models import Team

    team_id = read(app, lambda: db.session.scalar(sa.select(Team.id).join(Person, Person.id == Team.leader_id)
                                                  .where(Person.email == "ann@demo.careteams.example")))
    log_in(page, base, "ann", password, check_a11y)
    page.goto(f"{base}/teams/{team_id}")
    press_on(page, f"main a[href='/teams/{team_id}/settings']")
    check_a11y(page)
    no_coordinate_fields(page)
    assert page.input_value("#postcode") == "HD7 5AB"
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)
    retype(page, "#postcode", "HD7")
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Enter a UK postcode like HX7 8AB" in main_text(page)
