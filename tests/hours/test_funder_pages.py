"""A team's funders on the web (issue 18): the co-op's facilitators see who pays and
replace the funders (rows of kind, name and share; blank rows left out; the shares add
up to 100), and set the team's area band on the same page; the team page and the money
page link to it; others are refused."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours.enums import AreaBand, FunderKind
from careteams.hours.models import Funder, TeamHoursTerms
from careteams.members.models import StaffRoleName
from careteams.teams.models import HatType
from tests.factories import StaffRoleFactory
from tests.helpers import csrf_from, login
from tests.rota.conftest import add_hat

PASSWORD = "correct horse battery"


def _as(client, person) -> None:
    db.session.commit()
    assert login(client, person.email, PASSWORD).status_code == 302


def _url(world) -> str:
    return f"/teams/{world.team.id}/funders"


def _funders(world) -> list[tuple[str, str, int]]:
    db.session.expire_all()
    return [(f.kind.value, f.name, f.share_percent) for f in db.session.scalars(
        sa.select(Funder).where(Funder.team_id == world.team.id, Funder.active).order_by(Funder.id))]


def _beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in unescape(error.group(1)), html
    tag = re.search(rf'<(?:input|select)[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)


def test_a_facilitator_replaces_the_funders_with_blank_rows_left_out(client, world):
    db.session.add(Funder(team_id=world.team.id, kind=FunderKind.council, name="Calderdale", share_percent=100))
    _as(client, world.facilitator)
    team_page = client.get(f"/teams/{world.team.id}").text
    assert f'href="{_url(world)}"' in team_page
    page = client.get(_url(world))
    assert page.status_code == 200
    html = unescape(page.text)
    assert "Calderdale (Council): 100%" in html
    # Five rows (the API takes up to five): the current funder in the first, the rest blank.
    assert 'id="name_1"' in html and 'value="Calderdale"' in html and 'id="share_5"' in html

    done = client.post(_url(world), data={"csrf_token": csrf_from(page.text),
                                          "kind_1": "council", "name_1": "Calderdale", "share_1": "60",
                                          "kind_2": "", "name_2": "", "share_2": "",
                                          "kind_3": "direct_payment", "name_3": "Ann's direct payment", "share_3": "40"})
    assert done.status_code == 303 and done.headers["Location"].endswith(_url(world))
    assert _funders(world) == [("council", "Calderdale", 60), ("direct_payment", "Ann's direct payment", 40)]


def test_shares_not_adding_to_100_are_refused_keeping_the_rows(client, world):
    _as(client, world.facilitator)
    token = csrf_from(client.get(_url(world)).text)
    refused = client.post(_url(world), data={"csrf_token": token, "kind_1": "council", "name_1": "Calderdale",
                                             "share_1": "60", "kind_2": "self_funded", "name_2": "Ann",
                                             "share_2": "30"})
    assert refused.status_code == 422
    html = refused.text
    _beside(html, "share_1", "The shares must add up to 100.")
    assert 'value="Calderdale"' in html and 'value="60"' in html and 'value="30"' in html
    assert _funders(world) == []


def test_a_row_without_its_kind_is_refused_beside_that_row(client, world):
    _as(client, world.facilitator)
    token = csrf_from(client.get(_url(world)).text)
    refused = client.post(_url(world), data={"csrf_token": token, "kind_1": "council", "name_1": "Calderdale",
                                             "share_1": "50", "name_3": "Ann", "share_3": "50"})
    assert refused.status_code == 422
    _beside(refused.text, "kind_3", "Choose the kind of funder.")
    empty = client.post(_url(world), data={"csrf_token": token})
    assert empty.status_code == 422 and "Enter at least one funder." in empty.text
    assert _funders(world) == []


def test_a_facilitator_sets_the_area_band_on_the_same_page(client, world):
    _as(client, world.facilitator)
    page = client.get(_url(world)).text
    assert "co-op's urban rate" in page
    done = client.post(f"/teams/{world.team.id}/area-band", data={"csrf_token": csrf_from(page),
                                                                  "area_band": "rural"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(TeamHoursTerms.area_band).where(
        TeamHoursTerms.team_id == world.team.id)) == AreaBand.rural
    wrong = client.post(f"/teams/{world.team.id}/area-band", data={"csrf_token": csrf_from(page),
                                                                   "area_band": "suburban"})
    assert wrong.status_code == 422
    _beside(wrong.text, "area_band", "Choose one of the options.")


def test_the_money_page_links_to_the_funders_for_a_facilitator_who_may_read_it(client, world):
    money_type = HatType(cooperative_id=world.coop.id, name="Money reader", permissions=["see_money"])
    db.session.add(money_type)
    db.session.flush()
    add_hat(world.team, world.facilitator, money_type)
    _as(client, world.facilitator)
    assert f'href="{_url(world)}"' in client.get(f"/teams/{world.team.id}/money").text
    client2 = client.application.test_client()
    _as(client2, world.leader)  # the leader reads her money, but funders are the facilitators' to set
    money = client2.get(f"/teams/{world.team.id}/money")
    assert money.status_code == 200 and f'href="{_url(world)}"' not in money.text


def test_who_may_see_and_change_the_funders(app, world):
    other_admin = StaffRoleFactory(cooperative=world.other_coop, role=StaffRoleName.admin).person
    admin_only = world.admin  # an admin who is not a facilitator
    expected_get = {world.facilitator: 200, world.checker: 200, world.worker: 403, world.wrangler: 403,
                    world.other_facilitator: 404, other_admin: 404, world.stranger: 404}
    for person, status in expected_get.items():
        client = app.test_client()
        _as(client, person)
        page = client.get(_url(world))
        assert page.status_code == status, person.name
        if status == 200:
            # The team's Hours checker reads the funders but has no form to change them.
            assert ("Save the funders" in page.text) is (person == world.facilitator)
    for person in (world.checker, world.worker, world.leader, world.other_facilitator, admin_only):
        client = app.test_client()
        _as(client, person)
        token = csrf_from(client.get("/my/hours").text)
        posted = client.post(_url(world), data={"csrf_token": token, "kind_1": "council", "name_1": "X",
                                                "share_1": "100"})
        assert posted.status_code in (403, 404), person.name
        band = client.post(f"/teams/{world.team.id}/area-band", data={"csrf_token": token, "area_band": "rural"})
        assert band.status_code in (403, 404), person.name
    assert _funders(world) == []
    assert app.test_client().get(_url(world)).status_code in (302, 401)
