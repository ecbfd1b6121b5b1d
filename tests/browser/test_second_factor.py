"""Issue 17 journey: a facilitator sets up a TOTP second factor and signs in with it,
keyboard only, axe at WCAG 2.2 AA on every page, at 320 px and 200% zoom."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from careteams.auth.models import RecoveryCode, TotpFactor
from careteams.extensions import db
from careteams.members.models import Person
from tests.browser.conftest import tab_to
from tests.browser.test_journeys import (
    EMAIL,
    fits_320,
    main_text,
    pass_second_factor_in,
    press_on,
    read,
)

pytestmark = pytest.mark.browser


def _forget_frans_factor(app) -> None:
    """Fran is a new facilitator: no factor yet (the demo gives her one)."""
    with app.app_context():
        fran = db.session.scalar(sa.select(Person).where(Person.email == EMAIL.format("fran")))
        db.session.execute(sa.delete(TotpFactor).where(TotpFactor.person_id == fran.id))
        db.session.commit()
        db.session.remove()


def _sign_in_with_password(page, base, password, check_a11y) -> None:
    page.goto(base + "/login")
    check_a11y(page)
    tab_to(page, "#email")
    page.keyboard.type(EMAIL.format("fran"))
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_facilitator_sets_up_a_second_factor_and_signs_in_with_it(live_server, page, check_a11y, shoot):
    base, app = live_server["url"], live_server["app"]
    password = live_server["logins"]["password"]
    _forget_frans_factor(app)

    _sign_in_with_password(page, base, password, check_a11y)
    assert page.url.startswith(base + "/my/second-factor/enrol")
    check_a11y(page)
    fits_320(page)
    shoot(page, "second-factor-enrol")
    # The QR code's text alternative carries the key, for people who cannot scan it.
    label_id = page.get_attribute("main [role=img]", "aria-labelledby")
    alternative = page.inner_text(f"#{label_id}")
    secret = re.search(r"[A-Z2-7]{16,}", alternative).group(0)
    assert page.locator("main [role=img] svg").count() == 1

    # A wrong code first: said beside the field, nothing lost.
    right = pyotp.TOTP(secret).now()
    tab_to(page, "#code")
    page.keyboard.type(f"{(int(right) + 1) % 10**6:06d}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert "not right" in page.inner_text("#code-error")
    check_a11y(page)

    tab_to(page, "#code")
    page.keyboard.press("Control+A")
    page.keyboard.type(pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Your second factor is on" in main_text(page)
    codes = re.findall(r"\b[0-9a-f]{5}-[0-9a-f]{5}\b", main_text(page))
    assert len(codes) == 10
    check_a11y(page)
    fits_320(page)
    shoot(page, "second-factor-recovery-codes")
    press_on(page, "main a[href='/']")
    assert page.url == base + "/"
    check_a11y(page)
    assert read(app, lambda: db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode))) == 10

    # Log out, and sign in again: password, then a code from the app.
    press_on(page, "header button.link-button")
    _sign_in_with_password(page, base, password, check_a11y)
    assert page.url.startswith(base + "/login/second-factor")
    check_a11y(page)
    fits_320(page)
    shoot(page, "second-factor-sign-in")
    pass_second_factor_in(page, secret, check_a11y)  # waits for the next code if this one was just used
    assert page.url == base + "/"
    check_a11y(page)
