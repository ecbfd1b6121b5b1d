"""The shared test app leaks nothing from one test to the next (tests/conftest.py).

Two tests, in this order and in one process (scripts/test runs xdist with
`--dist loadfile`, which keeps a file's tests on one worker, in order): the
first changes everything a test may change, the second checks none of it is
still there.
"""

from __future__ import annotations

import flask
import sqlalchemy as sa
from limits import parse

from careteams.extensions import db, limiter
from careteams.members.models import Cooperative
from tests.factories import CooperativeFactory

PROBE = "isolation-probe"
_seen: dict = {}


def test_first_a_test_changes_the_app_and_writes_a_row(app, client):
    CooperativeFactory(name=PROBE, slug=PROBE)
    db.session.commit()  # only releases a savepoint: the outer transaction is rolled back
    app.config["CARETEAMS_ISOLATION_PROBE"] = PROBE
    app.config["ROTA_REMINDER_HOURS"] = (48,)
    app.debug = True
    app.extensions[PROBE] = PROBE
    app.jinja_env.globals[PROBE] = PROBE
    flask.g.isolation_probe = PROBE
    limiter.enabled = False
    one_a_day = parse("1/day")
    assert limiter.limiter.hit(one_a_day, PROBE)
    assert not limiter.limiter.test(one_a_day, PROBE)
    assert client.get("/login").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cooperative).where(Cooperative.name == PROBE)) == 1
    _seen["app"] = app


def test_then_the_next_test_sees_none_of_it(app):
    assert _seen.get("app") is app, "the first test must run just before, in this process, on the shared app"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cooperative).where(Cooperative.name == PROBE)) == 0
    assert "CARETEAMS_ISOLATION_PROBE" not in app.config
    assert tuple(app.config["ROTA_REMINDER_HOURS"]) == (24, 2)
    assert app.debug is False and not app.jinja_env.auto_reload
    assert PROBE not in app.extensions
    assert PROBE not in app.jinja_env.globals
    assert not hasattr(flask.g, "isolation_probe")
    assert limiter.enabled
    assert limiter.limiter.test(parse("1/day"), PROBE)
