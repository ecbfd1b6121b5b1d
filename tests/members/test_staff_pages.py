"""Staff roles on the web (issue 18): the admin sees them by role, gives a role to a
person of the co-op, takes one back after a confirm step; the co-op's last admin
role is never taken back (409, in plain words, by the API too); who may."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import StaffRole, StaffRoleName
from tests.factories import StaffRoleFactory
from tests.members.conftest import ANONYMOUS, as_actor, csrf, html_of, sign_in


def staff_url(office) -> str:
    return f"/coops/{office.coop.slug}/staff"


def roles_of(person) -> set[str]:
    db.session.expire_all()
    return {r.value for r in db.session.scalars(sa.select(StaffRole.role).where(StaffRole.person_id == person.id))}


def role_id(office, person, role: StaffRoleName) -> int:
    return db.session.scalar(sa.select(StaffRole.id).where(
        StaffRole.person_id == person.id, StaffRole.role == role, StaffRole.cooperative_id == office.coop.id))


def test_an_admin_gives_and_takes_back_a_role(client, office):
    worker = office.people.worker
    sign_in(client, office.people.admin)
    page = client.get(staff_url(office))
    html = html_of(page)
    assert page.status_code == 200
    assert "Co-op admins (1)" in html and "Facilitators (1)" in html and "Secretaries (1)" in html
    # The people of the co-op to choose from; another co-op's are not there.
    assert f'value="{worker.id}"' in html and f'value="{office.outsider.id}"' not in html
    granted = client.post(staff_url(office), data={"csrf_token": csrf(html), "person_id": worker.id,
                                                   "role": "secretary"})
    assert granted.status_code == 303 and roles_of(worker) == {"secretary"}
    assert "Secretaries (2)" in html_of(client.get(staff_url(office)))

    confirm_url = f"{staff_url(office)}/{role_id(office, worker, StaffRoleName.secretary)}/take-back"
    confirm = client.get(confirm_url)
    assert confirm.status_code == 200 and "Take back Wendy Worker's secretary role?" in html_of(confirm)
    assert roles_of(worker) == {"secretary"}  # looking at the confirm step changes nothing
    taken = client.post(confirm_url, data={"csrf_token": csrf(html_of(confirm))})
    assert taken.status_code == 303 and roles_of(worker) == set()


def test_search_narrows_the_people_to_choose_from(client, office):
    sign_in(client, office.people.admin)
    html = html_of(client.get(staff_url(office) + "?q=wendy"))
    assert f'value="{office.people.worker.id}"' in html and f'value="{office.people.secretary.id}"' not in html


def test_a_refused_grant_says_why_beside_the_field(client, office):
    sign_in(client, office.people.admin)
    token = csrf(html_of(client.get(staff_url(office))))
    nobody = client.post(staff_url(office), data={"csrf_token": token, "person_id": "0", "role": "admin"})
    assert nobody.status_code == 422 and "Choose a person." in html_of(nobody)
    twice = client.post(staff_url(office), data={"csrf_token": token, "person_id": office.people.secretary.id,
                                                 "role": "secretary"})
    assert twice.status_code == 409 and "This person already has that role." in html_of(twice)
    # The role stays chosen.
    assert 'value="secretary" selected' in html_of(twice) or 'selected value="secretary"' in html_of(twice)
    outsider = client.post(staff_url(office), data={"csrf_token": token, "person_id": office.outsider.id,
                                                    "role": "admin"})
    assert outsider.status_code == 404 and roles_of(office.outsider) == set()


def test_the_last_admin_role_is_never_taken_back(client, office, auth_headers):
    admin = office.people.admin
    second = StaffRoleFactory(cooperative=office.coop, role=StaffRoleName.admin, person__name="Ada Second").person
    db.session.commit()
    sign_in(client, admin)
    # With two admins, one may take the other's back.
    url = f"{staff_url(office)}/{role_id(office, second, StaffRoleName.admin)}/take-back"
    token = csrf(html_of(client.get(url)))
    assert client.post(url, data={"csrf_token": token}).status_code == 303
    # Now she is the last: her own role stays, said plainly.
    own = f"{staff_url(office)}/{role_id(office, admin, StaffRoleName.admin)}/take-back"
    refused = client.post(own, data={"csrf_token": token})
    assert refused.status_code == 409
    assert "last admin role" in html_of(refused) and roles_of(admin) == {"admin"}


def test_the_api_refuses_the_last_admin_role_even_by_another_admin(client, office, auth_headers):
    # Only admins take roles back, so the last admin's role can only be hers: but the
    # rule is the service's, whoever asks.
    from careteams.errors import Conflict
    from careteams.members.services import actor_for, revoke_staff_role

    admin = office.people.admin
    role = role_id(office, admin, StaffRoleName.admin)
    response = client.delete(f"/api/v1/cooperatives/{office.coop.slug}/staff/{role}", headers=auth_headers(admin))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "last_admin"
    db.session.rollback()
    # Asked by someone else than the role's holder (before, only her own was refused).
    other_admin = StaffRoleFactory(cooperative=office.other, role=StaffRoleName.admin).person
    db.session.flush()
    with pytest.raises(Conflict):
        revoke_staff_role(_with_admin(actor_for(other_admin), office.coop.id), office.coop, role)


def _with_admin(actor, cooperative_id):
    from careteams.members.permissions import Actor

    return Actor(actor.person_id, actor.staff_roles | {(cooperative_id, "admin")}, actor.member_of)


STAFF = {"admin": 200, "secretary": 403, "facilitator": 403, "worker": 403, "admin_elsewhere": 404,
         "stranger": 404, ANONYMOUS: 302}


@pytest.mark.parametrize("actor", list(STAFF))
def test_who_may_manage_staff_roles(client, office, actor):
    as_actor(client, office, actor)
    facilitator_role = role_id(office, office.people.facilitator, StaffRoleName.facilitator)
    assert client.get(staff_url(office)).status_code == STAFF[actor]
    assert client.get(f"{staff_url(office)}/{facilitator_role}/take-back").status_code == STAFF[actor]
    token = csrf(html_of(client.get("/login")))
    grant = client.post(staff_url(office), data={"csrf_token": token, "person_id": office.people.worker.id,
                                                 "role": "admin"})
    take = client.post(f"{staff_url(office)}/{facilitator_role}/take-back", data={"csrf_token": token})
    allowed = actor == "admin"
    assert grant.status_code == (303 if allowed else STAFF[actor])
    assert take.status_code == (303 if allowed else STAFF[actor])
    assert roles_of(office.people.worker) == ({"admin"} if allowed else set())
    assert roles_of(office.people.facilitator) == (set() if allowed else {"facilitator"})


def test_nav_offers_staff_roles_and_settings_to_admins(client, office):
    sign_in(client, office.people.admin)
    html = html_of(client.get("/"))
    for path in ("people", "staff", "settings"):
        assert f'href="/coops/{office.coop.slug}/{path}"' in html
