"""Small helpers shared by tests."""

from __future__ import annotations

import re

import sqlalchemy as sa

from careteams.extensions import db

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def login(client, email: str, password: str):
    """Log in through the real form; a staff person's second factor is passed too
    (pass_second_factor). The answer is the login form's."""
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code == 302:
        from careteams.members.models import Person

        person = db.session.scalar(sa.select(Person).where(Person.email == email.strip().lower()))
        if person is not None:
            pass_second_factor(client, person)
    return response


def totp_code(secret: str | None = None, for_time=None) -> str:
    """The code an authenticator app shows now (or at `for_time`) for this secret
    (default: the factories' TEST_TOTP_SECRET)."""
    import pyotp

    from tests.factories import TEST_TOTP_SECRET

    totp = pyotp.TOTP(secret or TEST_TOTP_SECRET)
    return totp.at(for_time) if for_time is not None else totp.now()


def pass_second_factor(client, person):
    """If `person` is staff, pass her second factor in `client`'s login session (enrolling
    TEST_TOTP_SECRET first if she has no factor); the answer, or None for non-staff.

    Tests sign the same person in many times within one 30-second step, which a
    real person cannot: so the replay marker is cleared first."""
    from careteams.auth import second_factor
    from careteams.auth.models import TotpFactor
    from tests.factories import TEST_TOTP_SECRET

    if not second_factor.needs_second_factor(person):
        return None
    factor = second_factor.factor_of(person)
    if factor is None or factor.confirmed_at is None:
        factor = second_factor.enrol_with_secret(person, TEST_TOTP_SECRET)
    db.session.execute(sa.update(TotpFactor).where(TotpFactor.id == factor.id).values(last_used_step=None))
    db.session.commit()
    page = client.get("/login/second-factor")
    if page.status_code != 200:
        return page  # already passed in this session
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/login/second-factor", data={"code": totp_code(factor.secret), "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


class QueryCounter:
    """Counts SQL statements sent through the engine while active."""

    def __init__(self, connection_or_engine):
        self.target = connection_or_engine
        self.statements: list[str] = []

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.target, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.target, "before_cursor_execute", self._before)

    @property
    def count(self) -> int:
        return len(self.statements)


def forget_login() -> None:
    # The test client shares `g` between requests in one app context: forget who was logged in.
    from flask import g

    for name in ("actor", "_login_user", "via_token", "csrf_token"):
        g.pop(name, None)


def client_for(app, person):
    """A fresh test client logged in as `person` (the factories' password), on committed data."""
    from tests.factories import PASSWORD

    db.session.commit()
    forget_login()
    client = app.test_client()
    assert login(client, person.email, PASSWORD).status_code == 302
    return client


def get(client, url: str):
    """GET on committed data; the session reads afresh afterwards."""
    db.session.commit()
    forget_login()
    response = client.get(url)
    db.session.expire_all()
    return response
