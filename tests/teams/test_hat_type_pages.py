"""The co-op's kinds of hat on the web (issue 18): a co-op admin sees each kind and the
permissions it carries in words (the right to see the team's money among them) and
defines another with a name, a description and ticked permissions; a refused form keeps
what was ticked and typed with the message beside the field; nobody else opens the page."""

from __future__ import annotations

import re
from html import unescape
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import MemberClass, StaffRoleName
from careteams.teams.enums import TeamPermission
from careteams.teams.models import HatType
from careteams.teams.rules import PERMISSION_WORDS
from careteams.teams.services import circle
from tests.factories import (
    PASSWORD,
    CooperativeFactory,
    MembershipFactory,
    PersonFactory,
    StaffRoleFactory,
)
from tests.helpers import csrf_from
from tests.helpers import login as login_with_password


@pytest.fixture
def hats(app):
    coop = CooperativeFactory()
    circle.ensure_default_hat_types(coop)
    w = SimpleNamespace(
        coop=coop, admin=StaffRoleFactory(cooperative=coop, role=StaffRoleName.admin).person,
        facilitator=StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person,
        secretary=StaffRoleFactory(cooperative=coop, role=StaffRoleName.secretary).person,
        other_admin=StaffRoleFactory(role=StaffRoleName.admin).person,
        worker=PersonFactory(name="Wendy Worker"), stranger=PersonFactory(name="Sam Stranger"))
    MembershipFactory(cooperative=coop, person=w.worker, member_class=MemberClass.worker)
    db.session.commit()
    return w


def login(client, person) -> None:
    db.session.commit()
    assert login_with_password(client, person.email, PASSWORD).status_code == 302


def url_of(w) -> str:
    return f"/coops/{w.coop.slug}/hat-types"


def kinds_of(w) -> dict[str, list[str]]:
    db.session.expire_all()
    return {h.name: h.permissions for h in db.session.scalars(sa.select(HatType).where(HatType.cooperative_id == w.coop.id))}


def beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in unescape(error.group(1)), html


def test_every_permission_has_words():
    assert set(PERMISSION_WORDS) == set(TeamPermission)


def test_an_admin_sees_the_hats_in_words_and_defines_a_money_reader(hats, client):
    login(client, hats.admin)
    page = client.get(url_of(hats))
    assert page.status_code == 200
    html = unescape(page.text)
    for name in ("Rota wrangler", "Team builder", "Plan keeper", "Hours checker"):
        assert f">{name}</h2>" in html
    assert PERMISSION_WORDS[TeamPermission.confirm_hours] in html
    assert "edit_rota" not in re.sub(r'value="[^"]*"', "", html)  # words, not codes
    # Every permission can be ticked, the right to see the team's money too.
    assert 'value="see_money"' in html and PERMISSION_WORDS[TeamPermission.see_money] in html

    done = client.post(url_of(hats), data={"csrf_token": csrf_from(page.text), "name": "Money reader",
                                           "description": "Reads the invoices with Ann.",
                                           "permissions": ["see_money", "confirm_hours"]})
    assert done.status_code == 303 and done.headers["Location"].endswith(url_of(hats))
    assert kinds_of(hats)["Money reader"] == ["confirm_hours", "see_money"]
    after = unescape(client.get(url_of(hats)).text)
    assert ">Money reader</h2>" in after and "Reads the invoices with Ann." in after


def test_a_refused_hat_keeps_what_was_typed_and_ticked(hats, client):
    login(client, hats.admin)
    token = csrf_from(client.get(url_of(hats)).text)
    nothing_ticked = client.post(url_of(hats), data={"csrf_token": token, "name": "Gardener"})
    assert nothing_ticked.status_code == 422
    beside(nothing_ticked.text, "permissions", "Tick at least one thing the wearer may do.")
    assert 'value="Gardener"' in nothing_ticked.text
    fieldset = re.search(r'<fieldset[^>]*>', nothing_ticked.text).group(0)
    assert 'aria-describedby="permissions-error"' in fieldset

    taken = client.post(url_of(hats), data={"csrf_token": token, "name": "team builder",
                                            "permissions": ["edit_plan"]})
    assert taken.status_code == 409
    beside(taken.text, "name", "Already used.")
    assert re.search(r'<input[^>]*value="edit_plan"[^>]*checked', taken.text)
    assert 'value="team builder"' in taken.text

    made_up = client.post(url_of(hats), data={"csrf_token": token, "name": "Boss", "permissions": ["everything"]})
    assert made_up.status_code == 422
    beside(made_up.text, "permissions", "Choose")
    assert set(kinds_of(hats)) == {"Rota wrangler", "Team builder", "Plan keeper", "Hours checker"}


def test_only_the_coops_admins_open_the_page(hats, app):
    expected = {hats.admin: 200, hats.facilitator: 403, hats.secretary: 403, hats.worker: 403,
                hats.other_admin: 404, hats.stranger: 404}
    for person, status in expected.items():
        client = app.test_client()
        login(client, person)
        assert client.get(url_of(hats)).status_code == status, person.name
        home = client.get("/").text
        assert (f'href="{url_of(hats)}"' in home) is (status == 200), person.name
        if status != 200:
            posted = client.post(url_of(hats), data={"csrf_token": csrf_from(home), "name": "Boss",
                                                     "permissions": ["see_money"]})
            assert posted.status_code == status, person.name
    assert "Boss" not in kinds_of(hats)
    anonymous = app.test_client().get(url_of(hats))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
