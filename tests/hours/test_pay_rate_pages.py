"""The co-op's pay rates on the web (issue 18): admins see each area band's rates with
their dates (which is in force today, which are scheduled) and add a rate from a date,
typed in pounds and kept in pence; a refused form keeps what was typed with the message
beside its field; nobody but the co-op's admins opens the page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.hours.enums import AreaBand
from careteams.hours.models import CoopPayRate
from careteams.hours.rules import pence_from_pounds, rates_by_band
from careteams.members.models import MemberClass, StaffRoleName
from tests.factories import MembershipFactory, StaffRoleFactory
from tests.helpers import csrf_from, login

PASSWORD = "correct horse battery"


def _as(client, person) -> None:
    db.session.commit()
    assert login(client, person.email, PASSWORD).status_code == 302


def _url(world) -> str:
    return f"/cooperatives/{world.coop.id}/hours/pay-rates"


def _rates(world) -> list[CoopPayRate]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(CoopPayRate).where(CoopPayRate.cooperative_id == world.coop.id)
                                   .order_by(CoopPayRate.effective_from)))


def _rate(world, band, day, pence):
    db.session.add(CoopPayRate(cooperative_id=world.coop.id, area_band=band, effective_from=day,
                               hourly_rate_pence=pence))
    db.session.flush()


def _beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in unescape(error.group(1)), html
    tag = re.search(rf'<(?:input|select)[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)


def test_pounds_are_read_as_pence_and_anything_else_refused():
    assert pence_from_pounds("12.60") == 1260
    assert pence_from_pounds("£12.6") == 1260
    assert pence_from_pounds(" 13 ") == 1300
    for wrong in ("12.605", "twelve", "-3", "", "1e3"):
        with pytest.raises(ValueError):
            pence_from_pounds(wrong)


def test_rates_are_marked_in_force_scheduled_and_past(world):
    today = date(2026, 11, 23)
    _rate(world, AreaBand.urban, date(2025, 4, 1), 1150)
    _rate(world, AreaBand.urban, date(2026, 4, 1), 1220)
    _rate(world, AreaBand.urban, date(2027, 4, 1), 1290)
    by_band = rates_by_band(_rates(world), list(AreaBand), today)
    urban = [(line.rate.hourly_rate_pence, line.standing) for line in by_band[AreaBand.urban]]
    assert urban == [(1290, "scheduled"), (1220, "in force"), (1150, "past")]
    assert by_band[AreaBand.rural] == []


def test_an_admin_sees_the_rates_and_adds_one_from_a_future_date(client, world):
    _rate(world, AreaBand.urban, date(2026, 4, 1), 1220)
    _as(client, world.admin)
    page = client.get(_url(world))
    assert page.status_code == 200
    html = unescape(page.text)
    assert "In force today" in html and "£12.20" in html
    assert "No rural rate yet" in html

    ahead = utcnow().date() + timedelta(days=120)  # a date ahead of today, whenever the suite runs
    done = client.post(_url(world), data={"csrf_token": csrf_from(page.text), "area_band": "rural",
                                          "effective_from": ahead.isoformat(), "hourly_rate": "12.60",
                                          "night_enhancement": "1.50", "bank_holiday_enhancement": ""})
    assert done.status_code == 303 and done.headers["Location"].endswith(_url(world))
    added = [r for r in _rates(world) if r.area_band == AreaBand.rural]
    assert [(r.effective_from, r.hourly_rate_pence, r.night_enhancement_pence, r.bank_holiday_enhancement_pence)
            for r in added] == [(ahead, 1260, 150, 0)]
    after = unescape(client.get(_url(world)).text)
    assert "Scheduled" in after and "£12.60" in after


def test_a_rate_not_in_pounds_is_refused_beside_its_field_keeping_the_typing(client, world):
    _as(client, world.admin)
    token = csrf_from(client.get(_url(world)).text)
    refused = client.post(_url(world), data={"csrf_token": token, "area_band": "urban",
                                             "effective_from": "2027-04-01", "hourly_rate": "twelve pounds"})
    assert refused.status_code == 422
    html = refused.text
    _beside(html, "hourly_rate", "Enter an amount in pounds and pence, like 12.60.")
    assert 'value="twelve pounds"' in html and 'value="2027-04-01"' in html
    assert _rates(world) == []

    # The API's own schema refuses too (no more than £100,000 an hour), said beside the field.
    too_much = client.post(_url(world), data={"csrf_token": token, "area_band": "urban",
                                              "effective_from": "2027-04-01", "hourly_rate": "200000"})
    assert too_much.status_code == 422
    _beside(too_much.text, "hourly_rate", "Enter a number from 1 to 10000000.")


def test_a_second_rate_for_the_same_band_and_day_is_a_conflict(client, world):
    _rate(world, AreaBand.urban, date(2027, 4, 1), 1290)
    _as(client, world.admin)
    token = csrf_from(client.get(_url(world)).text)
    clash = client.post(_url(world), data={"csrf_token": token, "area_band": "urban",
                                           "effective_from": "2027-04-01", "hourly_rate": "13.00"})
    assert clash.status_code == 409
    _beside(clash.text, "effective_from", "This band already has a rate from this date.")
    assert 'value="13.00"' in clash.text
    assert len(_rates(world)) == 1


def test_only_the_coops_admins_open_the_page(app, world):
    other_admin = StaffRoleFactory(cooperative=world.other_coop, role=StaffRoleName.admin).person
    MembershipFactory(cooperative=world.coop, person=world.worker, member_class=MemberClass.worker)
    # Staff without the role and members are told no; other co-ops' staff and strangers do not learn it exists.
    expected = {world.facilitator: 403, world.leader: 404, world.worker: 403, other_admin: 404,
                world.other_facilitator: 404, world.stranger: 404, world.admin: 200}
    for person, status in expected.items():
        client = app.test_client()
        _as(client, person)
        assert client.get(_url(world)).status_code == status, person.name
        if status != 200:
            posted = client.post(_url(world), data={"area_band": "urban", "effective_from": "2027-04-01",
                                                    "hourly_rate": "12.60"})
            assert posted.status_code in (400, status), person.name
    assert _rates(world) == []
    assert app.test_client().get(_url(world)).status_code in (302, 401)
