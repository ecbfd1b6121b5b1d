"""A matrix of actors for each co-op action: who may, and who is refused with nothing changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import (
    Cooperative,
    MemberClass,
    Membership,
    MembershipEvent,
    Person,
    StaffRole,
    StaffRoleName,
)
from tests.factories import CooperativeFactory, MembershipFactory, PersonFactory, StaffRoleFactory
from tests.helpers import count

ACTORS = ["admin", "secretary", "facilitator", "member", "admin_elsewhere", "stranger"]


@pytest.fixture
def world(app):
    coop = CooperativeFactory()
    other = CooperativeFactory()
    people = {
        "admin": StaffRoleFactory(cooperative=coop, role=StaffRoleName.admin).person,
        "secretary": StaffRoleFactory(cooperative=coop, role=StaffRoleName.secretary).person,
        "facilitator": StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator).person,
        "member": MembershipFactory(cooperative=coop, member_class=MemberClass.supported).person,
        "admin_elsewhere": StaffRoleFactory(cooperative=other, role=StaffRoleName.admin).person,
        "stranger": PersonFactory(),
    }
    target = PersonFactory()
    target_membership = MembershipFactory(cooperative=coop, member_class=MemberClass.worker)
    return {"coop": coop, "people": people, "target": target, "membership": target_membership}


def snapshot():
    return (
        count(Person), count(Membership), count(MembershipEvent), count(StaffRole),
        tuple(db.session.execute(sa.select(Cooperative.id, Cooperative.min_visit_minutes, Cooperative.name)).all()),
        tuple(db.session.execute(sa.select(Membership.id, Membership.member_class, Membership.status)).all()),
    )


# action -> (method, path template, json, {actor: expected status})
# Existence of a co-op is private to those who belong to it or work for it (404).
# The register is the secretary's, and admins' too (issue 18).
ACTIONS = {
    "invite_person": ("post", "/api/v1/cooperatives/{slug}/people", {"name": "New Person", "email": "new.person@example.org"},
                      {"admin": 201, "secretary": 201, "facilitator": 201, "member": 403, "admin_elsewhere": 404, "stranger": 404}),
    "grant_staff_role": ("post", "/api/v1/cooperatives/{slug}/staff", lambda w: {"person_id": w["target"].id, "role": "facilitator"},
                         {"admin": 201, "secretary": 403, "facilitator": 403, "member": 403, "admin_elsewhere": 404, "stranger": 404}),
    "revoke_staff_role": ("delete", lambda w: f"/api/v1/cooperatives/{w['coop'].slug}/staff/{_role_id(w, 'facilitator')}", None,
                          {"admin": 204, "secretary": 403, "facilitator": 403, "member": 403, "admin_elsewhere": 404, "stranger": 404}),
    "add_membership": ("post", "/api/v1/cooperatives/{slug}/memberships", lambda w: {"person_id": w["target"].id, "member_class": "advocate"},
                       {"admin": 201, "secretary": 201, "facilitator": 403, "member": 403, "admin_elsewhere": 404, "stranger": 404}),
    "change_membership": ("patch", lambda w: f"/api/v1/cooperatives/{w['coop'].slug}/memberships/{w['membership'].id}", {"member_class": "advocate"},
                          {"admin": 200, "secretary": 200, "facilitator": 403, "member": 403, "admin_elsewhere": 404, "stranger": 404}),
    "view_register": ("get", "/api/v1/cooperatives/{slug}/memberships", None,
                      {"admin": 200, "secretary": 200, "facilitator": 403, "member": 403, "admin_elsewhere": 404, "stranger": 404}),
    "edit_settings": ("patch", "/api/v1/cooperatives/{slug}", {"min_visit_minutes": 45},
                      {"admin": 200, "secretary": 403, "facilitator": 403, "member": 403, "admin_elsewhere": 404, "stranger": 404}),
}


def _role_id(world, role):
    return db.session.scalar(sa.select(StaffRole.id).where(
        StaffRole.cooperative_id == world["coop"].id, StaffRole.role == StaffRoleName(role)))


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("actor", ACTORS)
def test_staff_role_matrix(client, world, auth_headers, action, actor):
    method, path, payload, expected = ACTIONS[action]
    path = path(world) if callable(path) else path.format(slug=world["coop"].slug)
    payload = payload(world) if callable(payload) else payload
    headers = auth_headers(world["people"][actor])
    before = snapshot()
    response = getattr(client, method)(path, json=payload, headers=headers)
    assert response.status_code == expected[actor], response.get_data(as_text=True)
    if response.status_code >= 400:
        assert "error" in response.get_json()
        db.session.expire_all()
        assert snapshot() == before, "a refused request changed something"


def test_class_change_keeps_history(client, world, auth_headers):
    headers = auth_headers(world["people"]["secretary"])
    m = world["membership"]
    path = f"/api/v1/cooperatives/{world['coop'].slug}/memberships/{m.id}"
    assert client.patch(path, json={"member_class": "advocate", "note": "now a family carer"}, headers=headers).status_code == 200
    assert client.patch(path, json={"status": "left"}, headers=headers).status_code == 200
    events = db.session.scalars(sa.select(MembershipEvent).where(MembershipEvent.membership_id == m.id).order_by(MembershipEvent.id)).all()
    assert [(e.member_class.value, e.status.value) for e in events] == [("advocate", "active"), ("advocate", "left")]
    assert events[0].by_person_id == world["people"]["secretary"].id


def test_one_class_per_coop(client, world, auth_headers):
    headers = auth_headers(world["people"]["secretary"])
    response = client.post(f"/api/v1/cooperatives/{world['coop'].slug}/memberships",
                           json={"person_id": world["membership"].person_id, "member_class": "investor"}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_member"


def test_last_admin_cannot_remove_themselves(client, world, auth_headers):
    admin = world["people"]["admin"]
    role_id = _role_id(world, "admin")
    response = client.delete(f"/api/v1/cooperatives/{world['coop'].slug}/staff/{role_id}", headers=auth_headers(admin))
    assert response.status_code == 409


def test_invalid_setting_is_422(client, world, auth_headers):
    headers = auth_headers(world["people"]["admin"])
    path = f"/api/v1/cooperatives/{world['coop'].slug}"
    for payload, field in [({"timezone": "Mars/Olympus"}, "timezone"), ({"min_visit_minutes": 0}, "min_visit_minutes"),
                           ({"investor_cap_num": 10, "investor_cap_den": 10}, "investor_cap_num")]:
        response = client.patch(path, json=payload, headers=headers)
        assert response.status_code == 422, payload
        assert field in response.get_json()["error"]["details"]["fields"]
