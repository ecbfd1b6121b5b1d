"""A co-op with an admin, a secretary, a facilitator, a worker member, an admin of
another co-op and a stranger, for the office pages (issue 18)."""

from __future__ import annotations

import re
from html import unescape
from types import SimpleNamespace

import pytest

from careteams.extensions import db
from careteams.members.models import MemberClass, StaffRoleName
from tests.factories import (
    PASSWORD,
    CooperativeFactory,
    MembershipFactory,
    PersonFactory,
    StaffRoleFactory,
)
from tests.helpers import login as login_with_password

# Who is refused what: anonymous is sent to log in; someone with no place in the co-op
# gets a 404 (its existence is private); someone of the co-op without the role a 403.
ANONYMOUS = "anonymous"


@pytest.fixture
def office(app):
    coop = CooperativeFactory(name="Riverside Care", slug="riverside")
    other = CooperativeFactory(name="Hillside Care", slug="hillside")
    people = SimpleNamespace(
        admin=StaffRoleFactory(cooperative=coop, role=StaffRoleName.admin, person__name="Alex Admin").person,
        secretary=StaffRoleFactory(cooperative=coop, role=StaffRoleName.secretary, person__name="Sam Secretary").person,
        facilitator=StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator, person__name="Fran Facil").person,
        worker=MembershipFactory(cooperative=coop, member_class=MemberClass.worker, person__name="Wendy Worker").person,
        admin_elsewhere=StaffRoleFactory(cooperative=other, role=StaffRoleName.admin, person__name="Olga Other").person,
        stranger=PersonFactory(name="Stan Stranger"),
    )
    # Someone of the other co-op only: out of this co-op's reach.
    outsider = MembershipFactory(cooperative=other, member_class=MemberClass.worker, person__name="Otto Outside").person
    db.session.commit()
    return SimpleNamespace(coop=coop, other=other, people=people, outsider=outsider)


def sign_in(client, person) -> None:
    db.session.commit()
    assert login_with_password(client, person.email, PASSWORD).status_code == 302


def as_actor(client, office, name: str) -> None:
    if name != ANONYMOUS:
        sign_in(client, getattr(office.people, name))


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def csrf(html: str, prefix: str | None = None) -> str:
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    found = re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]+)"|name="{re.escape(name)}" value="([^"]+)"', html)
    assert found, f"no {name} in the page"
    return found.group(1) or found.group(2)


def refused_status(response) -> int:
    """302 to the login page counts as refused for anonymous."""
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    return response.status_code
