"""Issue 18's first "done when", end to end in a real browser, through the pages only:
Alex (the demo co-op's admin) takes a new worker from invitation to a place in a team.

He invites Wren Taylor from People; she sets her password from the invitation's link;
he enters her in the register as a worker member and admits her; she fills her worker
profile with a postcode (found in the fixed geocoder table, so she has a point); he
records her enhanced DBS check (and her right to work, which suggestions need too); she
asks to join the demo team's vacancy; Ann (its leader) says yes; Fran (the facilitator)
approves it from the review queue, and the match is at the introduction.

Keyboard only (Tab, Enter, Space, arrows and typing: no mouse anywhere), each page
reached by a link from the one before. axe at WCAG 2.2 AA on every page; the key pages
also at 320 px and at 200% zoom, with no sideways scrolling.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.browser.conftest import tab_to, type_date
from tests.browser.test_equality import small_and_zoomed_a11y
from tests.browser.test_journeys import fits_320, log_in, main_text, new_page, press_on, read

pytestmark = pytest.mark.browser

COOP = "valley-care"
EMAIL = "wren@demo.careteams.example"
PASSWORD = "wren-sets-her-own-1"
QUEUE = f"/coops/{COOP}/matching/queue"
# Next door to Ann's team (HD7 5AB) in careteams/geo.py's fixed table.
POSTCODE = "HD7 4AA"


def looked_at(page, check_a11y) -> None:
    """A key page: axe, no sideways scrolling at 320 px or 200% zoom, and axe again there."""
    check_a11y(page)
    fits_320(page)
    small_and_zoomed_a11y(page, check_a11y)


def type_in(page, selector: str, text: str) -> None:
    tab_to(page, selector, limit=250)
    page.keyboard.press("Control+a")
    page.keyboard.type(text)


def choose_option(page, selector: str, starts_with: str) -> None:
    """Tab to a <select> and move through its options with the arrow keys until one is chosen."""
    tab_to(page, selector, limit=250)
    for _ in range(200):
        if page.eval_on_selector(selector, "el => el.options[el.selectedIndex].text").startswith(starts_with):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option starting {starts_with!r} in {selector}")


def invitation_path(app) -> str:
    """The link in the newest email to Wren (the invitation), as a path on this server."""
    from careteams.mail.models import OutboundEmail

    body = read(app, lambda: db.session.scalars(sa.select(OutboundEmail.body).where(OutboundEmail.to_address == EMAIL)
                                                .order_by(OutboundEmail.id.desc())).first())
    found = re.search(r"/invite/[A-Za-z0-9_\-.~]+", body or "")
    assert found, f"no invitation link in {body!r}"
    return found.group(0)


def wren(app) -> dict:
    """What the database says of Wren: her membership, profile and place, checks and matches."""
    from careteams.matching.models import Match, WorkerProfile
    from careteams.members.models import Membership, Person

    def row():
        person = db.session.scalar(sa.select(Person).where(Person.email == EMAIL))
        if person is None:
            return None
        membership = db.session.scalar(sa.select(Membership).where(Membership.person_id == person.id))
        profile = db.session.scalar(sa.select(WorkerProfile).where(WorkerProfile.person_id == person.id))
        matches = db.session.execute(sa.select(Match.id, Match.vacancy_id, Match.state)
                                     .where(Match.worker_id == person.id)).all()
        return {
            "id": person.id, "has_password": person.password_hash is not None,
            "membership": membership and (membership.id, membership.member_class.value, membership.status.value),
            "place": profile and (profile.postcode, profile.latitude, profile.longitude),
            "checks": profile and sorted((c.kind.value, c.reference, c.expires_on) for c in profile.checks),
            "matches": [(m.id, m.vacancy_id, m.state.value) for m in matches],
        }

    return read(app, row)


def demo_vacancy(app) -> tuple[int, int]:
    """The demo's open vacancy in Ann's team, and the id of its required skill (personal care)."""
    from careteams.matching.demo import VACANCY_NEEDS
    from careteams.matching.models import Skill, Vacancy

    return read(app, lambda: (
        db.session.scalar(sa.select(Vacancy.id).where(Vacancy.needs == VACANCY_NEEDS)),
        db.session.scalar(sa.select(Skill.id).where(Skill.name == "Personal care"))))


def coop_today(app):
    from careteams.members.models import Cooperative
    from careteams.members.services import coop_today as today

    return read(app, lambda: today(db.session.scalar(sa.select(Cooperative).where(Cooperative.slug == COOP))))


def test_an_admin_takes_a_new_worker_from_invitation_to_a_match(live_server, page, browser, check_a11y, shoot):
    base, password, app = live_server["url"], live_server["logins"]["password"], live_server["app"]
    assert wren(app) is None

    # 1. Alex invites Wren from People.
    log_in(page, base, "alex", password, check_a11y)
    press_on(page, f"header nav a[href='/coops/{COOP}/people']")
    check_a11y(page)
    press_on(page, f"main a[href='/coops/{COOP}/people/invite']")
    looked_at(page, check_a11y)
    type_in(page, "#name", "Wren Taylor")
    type_in(page, "#email", EMAIL)
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Wren Taylor is invited" in main_text(page)
    assert wren(app)["has_password"] is False

    # 2. Her invitation's link, in her own browser: she sets her password and is at home.
    her = new_page(browser)
    her.goto(base + invitation_path(app))
    check_a11y(her)
    fits_320(her)
    type_in(her, "#password", PASSWORD)
    type_in(her, "#confirm", PASSWORD)
    press_on(her, "main form button[type=submit]")
    assert her.url == base + "/"
    check_a11y(her)
    assert wren(app)["has_password"] is True
    # Not a worker member yet: no worker profile for her.
    assert her.locator(f"a[href='/coops/{COOP}/worker-profile']").count() == 0

    # 3. Alex enters her in the register as a worker member, then admits her.
    press_on(page, f"header nav a[href='/cooperatives/{COOP}/register']")
    check_a11y(page)
    press_on(page, f"main a[href='/cooperatives/{COOP}/register/new']")
    looked_at(page, check_a11y)
    choose_option(page, "#person_id", "Wren Taylor")
    tab_to(page, "#member_class")  # the classes, in order: supported, worker, ...
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("input[name=member_class]:checked", "el => el.value") == "worker"
    assert page.input_value("#share") == "1.00"
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "Wren Taylor is in the register as an applicant." in main_text(page)
    assert wren(app)["membership"][1:] == ("worker", "applicant")
    looked_at(page, check_a11y)
    press_on(page, "main form[action$='/admit'] button[type=submit]")
    check_a11y(page)
    assert "Admitted: they are a member now." in main_text(page)
    assert wren(app)["membership"][1:] == ("worker", "active")
    shoot(page, "admin-journey-admitted")

    # 4. Wren, at home again: her worker profile is in the navigation now. She fills it in.
    her.reload()
    check_a11y(her)
    press_on(her, f"header nav a[href='/coops/{COOP}/worker-profile']")
    looked_at(her, check_a11y)
    vacancy_id, personal_care = demo_vacancy(app)
    tab_to(her, "#employment_type")  # employed by the co-op: no rate of her own
    her.keyboard.press("Space")
    tab_to(her, f"#skill-{personal_care}")
    her.keyboard.press("Space")
    type_in(her, "#languages", "English")
    type_in(her, "#interests", "gardening, walking")
    # The demo vacancy wants Monday, Wednesday and Friday mornings.
    type_in(her, "#windows", "Monday 07:30-12:00")
    for line in ("Wednesday 07:30-12:00", "Friday 07:30-12:00"):
        her.keyboard.press("Enter")
        her.keyboard.type(line)
    type_in(her, "#postcode", POSTCODE.lower().replace(" ", ""))
    type_in(her, "#travel_km", "10")
    press_on(her, "main form button[type=submit]")
    check_a11y(her)
    text = main_text(her)
    assert "Your worker profile is saved." in text and "could not find" not in text
    assert her.input_value("#postcode") == POSTCODE
    assert wren(app)["place"] == (POSTCODE, 53.61, -1.91)
    shoot(her, "admin-journey-worker-profile")

    # 5. Alex records her enhanced DBS check (and her right to work) on her checks page.
    today = coop_today(app)
    press_on(page, f"header nav a[href='/coops/{COOP}/checks']")
    looked_at(page, check_a11y)
    checks_url = f"/coops/{COOP}/workers/{wren(app)['id']}/checks"
    press_on(page, f"main a[href='{checks_url}']")
    looked_at(page, check_a11y)
    tab_to(page, "#kind", limit=150)  # "Enhanced DBS check" is the first kind
    assert page.input_value("#kind") == "enhanced_dbs"
    type_in(page, "#reference", "001234567890")
    tab_to(page, "#checked_on")
    type_date(page, today - timedelta(days=3))
    tab_to(page, "#expires_on")
    type_date(page, today - timedelta(days=3) + timedelta(days=3 * 365))
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert page.url == base + checks_url
    assert "The check is recorded." in main_text(page)
    choose_option(page, "#kind", "Right to work")
    type_in(page, "#reference", "share code W4R 7TY 2QX")
    tab_to(page, "#checked_on")
    type_date(page, today)
    press_on(page, "main form button[type=submit]")
    check_a11y(page)
    assert "The check is recorded." in main_text(page)
    assert wren(app)["checks"] == [
        ("enhanced_dbs", "001234567890", today - timedelta(days=3) + timedelta(days=3 * 365)),
        ("right_to_work", "share code W4R 7TY 2QX", None)]
    press_on(page, f"main a[href='/coops/{COOP}/checks']")
    check_a11y(page)
    row = page.locator(f"section[aria-labelledby='worker-{wren(app)['id']}'] tr", has_text="001234567890")
    assert row.count() == 1 and "Valid" in row.inner_text()

    # 6. Wren finds the demo team's vacancy among those that suit her and asks to join.
    her.reload()
    press_on(her, f"header nav a[href='/coops/{COOP}/vacancies']")
    looked_at(her, check_a11y)
    card = f"main section[aria-labelledby='vacancy-{vacancy_id}']"
    assert her.locator(card).count() == 1, main_text(her)
    shoot(her, "admin-journey-vacancies")
    press_on(her, f"{card} form button[type=submit]")
    check_a11y(her)
    assert "You have asked to join." in main_text(her)
    [(match_id, on_vacancy, state)] = wren(app)["matches"]
    assert (on_vacancy, state) == (vacancy_id, "asked")

    # Ann, the team's leader, finds it on her home page and says yes.
    ann = new_page(browser)
    log_in(ann, base, "ann", password, check_a11y)
    assert "Wren Taylor asks to join" in main_text(ann)
    press_on(ann, f"main a[href='/matches/{match_id}']")
    looked_at(ann, check_a11y)
    press_on(ann, "main form:has(input[name=action][value=answer_yes]) button")
    check_a11y(ann)
    assert "Done." in main_text(ann)
    assert wren(app)["matches"] == [(match_id, vacancy_id, "review")]  # the demo co-op reviews every match

    # Fran, the facilitator, approves it from the review queue.
    fran = new_page(browser)
    log_in(fran, base, "fran", password, check_a11y)
    press_on(fran, f"header nav a[href='{QUEUE}']")
    looked_at(fran, check_a11y)
    press_on(fran, f"main a[href='/matches/{match_id}']")
    looked_at(fran, check_a11y)
    press_on(fran, "main form:has(input[name=action][value=approve]) button")
    check_a11y(fran)
    assert "Done." in main_text(fran) and "Where it stands: introduction arranged" in main_text(fran)
    assert wren(app)["matches"] == [(match_id, vacancy_id, "introduction")]

    # Wren reads where it stands, in words, from her list of matches.
    her.reload()
    press_on(her, f"header nav a[href='/coops/{COOP}/vacancies']")
    check_a11y(her)
    press_on(her, f"main a[href='/matches/{match_id}']")
    looked_at(her, check_a11y)
    text = main_text(her)
    assert "You are the worker in this match." in text and "Where it stands: introduction arranged" in text
    for context in (her.context, ann.context, fran.context):
        context.close()
