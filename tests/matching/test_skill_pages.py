"""The co-op's skill list on the web (issue 18): facilitators and admins add a skill,
rename it, retire it and restore it (the API's predicate, can_edit_skills); a refused
form keeps what was typed with the message beside its field; others are refused."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import Skill
from careteams.members.models import MemberClass, StaffRoleName
from tests.factories import PASSWORD, MembershipFactory, PersonFactory, StaffRoleFactory
from tests.helpers import csrf_from
from tests.helpers import login as login_with_password
from tests.matching.conftest import make_worker


def login(client, person) -> None:
    db.session.commit()
    assert login_with_password(client, person.email, PASSWORD).status_code == 302


def url_of(world) -> str:
    return f"/coops/{world.coop.slug}/skills"


def skills_of(world) -> dict[str, bool]:
    db.session.expire_all()
    return {s.name: s.active for s in db.session.scalars(sa.select(Skill).where(Skill.cooperative_id == world.coop.id))}


def beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in unescape(error.group(1)), html
    tag = re.search(rf'<input[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)
    assert 'aria-invalid="true"' in tag


def test_a_facilitator_adds_renames_retires_and_restores_a_skill(world, client):
    login(client, world.facilitator)
    page = client.get(url_of(world))
    assert page.status_code == 200
    html = unescape(page.text)
    assert "Personal care" in html and "Rename Driving" in html and "Retire Driving" in html
    token = csrf_from(page.text)

    added = client.post(url_of(world), data={"csrf_token": token, "name": "  Sign language "})
    assert added.status_code == 303 and added.headers["Location"].endswith(url_of(world))
    assert skills_of(world)["Sign language"] is True

    driving = world.skills["Driving"]
    renamed = client.post(f"{url_of(world)}/{driving.id}/rename", data={"csrf_token": token,
                                                                        "name": "Driving (own car)"})
    assert renamed.status_code == 303
    assert "Driving (own car)" in skills_of(world) and "Driving" not in skills_of(world)

    retired = client.post(f"{url_of(world)}/{driving.id}/retire", data={"csrf_token": token})
    assert retired.status_code == 303
    assert skills_of(world)["Driving (own car)"] is False
    html = unescape(client.get(url_of(world)).text)
    assert "Restore Driving (own car)" in html and "Retire Driving (own car)" not in html
    # A retired skill is no longer offered to workers for their profile.
    assert client.post(f"{url_of(world)}/{driving.id}/restore", data={"csrf_token": token}).status_code == 303
    assert skills_of(world)["Driving (own car)"] is True


def test_a_retired_skill_is_not_offered_on_a_workers_profile(world, client):
    worker = make_worker(world.coop, "Wendy Ali")
    world.skills["Cooking"].active = False
    login(client, worker)
    html = client.get(f"/coops/{world.coop.slug}/worker-profile").text
    assert "Personal care" in html and "Cooking" not in html


def test_refused_forms_keep_the_typing_beside_the_field(world, client):
    login(client, world.facilitator)
    token = csrf_from(client.get(url_of(world)).text)
    empty = client.post(url_of(world), data={"csrf_token": token, "name": "   "})
    assert empty.status_code == 422
    beside(empty.text, "name", "Enter the skill's name.")

    twice = client.post(url_of(world), data={"csrf_token": token, "name": "personal care"})
    assert twice.status_code == 409
    beside(twice.text, "name", "Already on the list.")
    assert 'value="personal care"' in twice.text

    cooking = world.skills["Cooking"]
    clash = client.post(f"{url_of(world)}/{cooking.id}/rename", data={"csrf_token": token, "name": "Dementia"})
    assert clash.status_code == 409
    beside(clash.text, f"name-{cooking.id}", "Another skill has that name.")
    assert re.search(rf'<input[^>]*id="name-{cooking.id}"[^>]*value="Dementia"', clash.text)

    too_long = client.post(f"{url_of(world)}/{cooking.id}/rename", data={"csrf_token": token, "name": "x" * 81})
    assert too_long.status_code == 422
    beside(too_long.text, f"name-{cooking.id}", "Enter 80 characters or fewer.")
    assert set(skills_of(world)) == {"Personal care", "Driving", "Cooking", "Dementia"}


def test_who_may_keep_the_list(world, app):
    admin = StaffRoleFactory(cooperative=world.coop, role=StaffRoleName.admin).person
    secretary = StaffRoleFactory(cooperative=world.coop, role=StaffRoleName.secretary).person
    other_admin = StaffRoleFactory(role=StaffRoleName.admin).person
    worker = make_worker(world.coop, "Wendy Ali")
    stranger = PersonFactory(name="Sam Stranger")
    MembershipFactory(cooperative=world.coop, person=PersonFactory(), member_class=MemberClass.worker)
    cooking = world.skills["Cooking"]
    expected = {world.facilitator: 200, admin: 200, secretary: 403, worker: 403, world.leader: 403,
                world.other_facilitator: 404, other_admin: 404, stranger: 404}
    for person, status in expected.items():
        client = app.test_client()
        login(client, person)
        page = client.get(url_of(world))
        assert page.status_code == status, person.name
        nav = client.get("/").text
        assert (f'href="{url_of(world)}"' in nav) is (status == 200), person.name
        if status != 200:
            token = csrf_from(nav)
            assert client.post(url_of(world), data={"csrf_token": token, "name": "Baking"}).status_code == status
            assert client.post(f"{url_of(world)}/{cooking.id}/retire",
                               data={"csrf_token": token}).status_code == status
            assert client.post(f"{url_of(world)}/{cooking.id}/rename",
                               data={"csrf_token": token, "name": "Baking"}).status_code == status
    assert skills_of(world) == {"Personal care": True, "Driving": True, "Cooking": True, "Dementia": True}
    anonymous = app.test_client().get(url_of(world))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
