"""The people API of the co-op office (issue 18): GET /cooperatives/<slug>/people lists
and searches the co-op's people; PATCH /cooperatives/<slug>/people/<id> changes a
name, email, mobile or switches an account off or on (admins), with the same rules
as the pages: 422 with field details, 409 for someone else's address, 403 for one's
own account, 404 for a person of another co-op."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.auth.models import ApiToken
from careteams.extensions import db
from careteams.members.models import Person
from tests.members.conftest import ANONYMOUS


def url(office, person=None) -> str:
    return f"/api/v1/cooperatives/{office.coop.slug}/people" + (f"/{person.id}" if person else "")


def headers_for(office, auth_headers, actor: str) -> dict:
    return {} if actor == ANONYMOUS else auth_headers(getattr(office.people, actor))


def test_the_list_and_its_search(client, office, auth_headers):
    headers = auth_headers(office.people.secretary)
    names = [p["name"] for p in client.get(url(office), headers=headers).get_json()]
    assert names == sorted(names, key=str.lower)
    assert {"Alex Admin", "Wendy Worker"} <= set(names) and "Otto Outside" not in names
    found = client.get(url(office) + "?q=worker", headers=headers).get_json()
    assert [p["name"] for p in found] == ["Wendy Worker"]
    page = client.get(url(office) + "?limit=2&offset=1", headers=headers).get_json()
    assert [p["name"] for p in page] == names[1:3]
    assert client.get(url(office) + "?limit=0", headers=headers).status_code == 422


def test_an_admin_changes_details_and_switches_an_account_off(client, office, auth_headers, mail_outbox):
    worker = office.people.worker
    old_email = worker.email
    worker_headers = auth_headers(worker)
    headers = auth_headers(office.people.admin)
    response = client.patch(url(office, worker), json={"name": " Wendy Walker ", "email": "W.Walker@Example.org"},
                            headers=headers)
    assert response.status_code == 200
    assert response.get_json()["name"] == "Wendy Walker" and response.get_json()["email"] == "w.walker@example.org"
    assert any(old_email in m.to for m in mail_outbox)

    off = client.patch(url(office, worker), json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=worker_headers).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
        ApiToken.person_id == worker.id, ApiToken.revoked_at.is_(None))) == 0
    on = client.patch(url(office, worker), json={"active": True}, headers=headers)
    assert on.status_code == 200 and on.get_json()["active"] is True


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": "not-an-email"}, "email"), ({"phone": "12"}, "phone"), ({"name": "   "}, "name"),
    ({"email": None, "phone": None}, "email"), ({"active": "maybe"}, "active"), ({"name": "x" * 201}, "name"),
])
def test_malformed_changes_are_422_with_field_details(client, office, auth_headers, payload, field):
    response = client.patch(url(office, office.people.worker), json=payload, headers=auth_headers(office.people.admin))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]["fields"]


def test_someone_elses_address_is_a_409(client, office, auth_headers):
    db.session.execute(sa.update(Person).where(Person.id == office.people.secretary.id).values(phone="+447700900555"))
    db.session.commit()
    headers = auth_headers(office.people.admin)
    response = client.patch(url(office, office.people.worker), json={"phone": "07700 900555"}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["fields"]["phone"]
    taken = client.patch(url(office, office.people.worker), json={"email": office.people.admin.email}, headers=headers)
    assert taken.status_code == 409 and taken.get_json()["error"]["details"]["fields"]["email"]


def test_an_admin_may_not_switch_off_her_own_account(client, office, auth_headers):
    response = client.patch(url(office, office.people.admin), json={"active": False},
                            headers=auth_headers(office.people.admin))
    assert response.status_code == 403


LIST = {"admin": 200, "secretary": 200, "facilitator": 200, "worker": 403, "admin_elsewhere": 404,
        "stranger": 404, ANONYMOUS: 401}
PATCH = {"admin": 200, "secretary": 403, "facilitator": 403, "worker": 403, "admin_elsewhere": 404,
         "stranger": 404, ANONYMOUS: 401}


@pytest.mark.parametrize("actor", list(LIST))
def test_who_may_list_and_change_people(client, office, auth_headers, actor):
    headers = headers_for(office, auth_headers, actor)
    assert client.get(url(office), headers=headers).status_code == LIST[actor]
    response = client.patch(url(office, office.people.worker), json={"name": "Changed"}, headers=headers)
    assert response.status_code == PATCH[actor]
    db.session.expire_all()
    assert (db.session.get(Person, office.people.worker.id).name == "Changed") == (actor == "admin")


def test_a_person_of_another_coop_only_is_404(client, office, auth_headers):
    response = client.patch(url(office, office.outsider), json={"active": False},
                            headers=auth_headers(office.people.admin))
    assert response.status_code == 404


def test_someone_another_coop_relies_on_cannot_be_changed_or_switched_off_here(client, office, auth_headers):
    """A circle member of another co-op's team is on no register, so in this co-op's reach:
    changing the address a password reset goes to would hand her account (and that team's
    private life) to this co-op's admin. Refused (409), web and API alike; nothing changes."""
    from tests.factories import PersonFactory, TeamFactory, TeamMemberFactory

    neighbour = PersonFactory(name="Nell Neighbour", email="nell@example.org")
    TeamMemberFactory(team=TeamFactory(cooperative=office.other), person=neighbour)
    untied = PersonFactory(name="Una Untied", email="una@example.org")
    headers = auth_headers(office.people.admin)
    for changes in ({"email": "mine@example.org"}, {"active": False}, {"name": "Renamed"}):
        response = client.patch(url(office, neighbour), json=changes, headers=headers)
        assert response.status_code == 409, changes
        assert response.get_json()["error"]["code"] == "belongs_elsewhere"
    db.session.expire_all()
    nell = db.session.get(Person, neighbour.id)
    assert (nell.email, nell.active, nell.name) == ("nell@example.org", True, "Nell Neighbour")
    # Someone tied to no other co-op (an account just invited) is still the admin's to correct.
    assert client.patch(url(office, untied), json={"name": "Una Changed"}, headers=headers).status_code == 200
