"""The co-op's people on the web (issue 18): the list (search, "show more", one query
whatever the number), inviting someone, an admin changing someone's details (the OLD
address is told) and switching an account off (signed out everywhere, API tokens
revoked, nothing deleted) and on again; refused forms keep what was typed and say
what is wrong beside the field; who may and who may not."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from careteams.auth.models import ApiToken, LoginSession
from careteams.extensions import db
from careteams.members.models import MemberClass, Person
from careteams.members.services import PEOPLE_PAGE
from tests.factories import MembershipFactory, PersonFactory
from tests.helpers import QueryCounter
from tests.members.conftest import ANONYMOUS, as_actor, csrf, html_of, sign_in


def people_url(office) -> str:
    return f"/coops/{office.coop.slug}/people"


def person_url(office, person) -> str:
    return f"/coops/{office.coop.slug}/people/{person.id}"


def reload(person) -> Person:
    db.session.expire_all()
    return db.session.get(Person, person.id)


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_the_coops_people_and_searches_by_name(client, office):
    sign_in(client, office.people.facilitator)
    html = html_of(client.get(people_url(office)))
    for name in ("Alex Admin", "Sam Secretary", "Fran Facil", "Wendy Worker"):
        assert name in html
    # Another co-op's people are not this co-op's to see.
    assert "Otto Outside" not in html and "Olga Other" not in html and "Stan Stranger" not in html
    found = html_of(client.get(people_url(office) + "?q=wend"))
    assert "Wendy Worker" in found and "Alex Admin" not in found
    # A search is a name, not a pattern.
    assert "Wendy Worker" not in html_of(client.get(people_url(office) + "?q=%25"))


def test_the_list_shows_a_page_at_a_time_with_one_query_for_the_people(client, office, app):
    for n in range(PEOPLE_PAGE + 5):
        MembershipFactory(cooperative=office.coop, member_class=MemberClass.supported, person__name=f"Zed {n:03d}")
    sign_in(client, office.people.admin)
    client.get(people_url(office))  # warm the session caches
    with QueryCounter(db.engine) as few:
        first = client.get(people_url(office))
    for n in range(PEOPLE_PAGE):
        MembershipFactory(cooperative=office.coop, member_class=MemberClass.supported, person__name=f"Zed more {n:03d}")
    db.session.commit()
    with QueryCounter(db.engine) as many:
        client.get(people_url(office))
    assert many.count == few.count
    html = html_of(first)
    assert "Show more people" in html and "Zed 054" not in html
    more = html_of(client.get(people_url(office) + f"?shown={2 * PEOPLE_PAGE}"))
    assert "Zed 054" in more


# --- invite -------------------------------------------------------------------------------


def test_a_facilitator_invites_someone_who_gets_a_link(client, office, mail_outbox):
    sign_in(client, office.people.facilitator)
    url = f"{people_url(office)}/invite"
    html = html_of(client.get(url))
    response = client.post(url, data={"csrf_token": csrf(html), "name": "Nina New", "email": "Nina@Example.org",
                                      "phone": "", "preferred_channel": "email"})
    assert response.status_code == 303
    person = db.session.scalar(sa.select(Person).where(Person.email == "nina@example.org"))
    assert person is not None and person.name == "Nina New"
    assert response.headers["Location"].endswith(person_url(office, person))
    assert any("nina@example.org" in m.to and "/invite/" in m.body for m in mail_outbox)


def test_a_refused_invitation_keeps_what_was_typed(client, office):
    sign_in(client, office.people.admin)
    url = f"{people_url(office)}/invite"
    token = csrf(html_of(client.get(url)))
    response = client.post(url, data={"csrf_token": token, "name": "Nina New", "email": "", "phone": "12",
                                      "preferred_channel": "email"})
    assert response.status_code == 422
    html = html_of(response)
    assert "There is a problem" in html and 'value="Nina New"' in html and 'value="12"' in html
    assert 'aria-describedby="phone-hint phone-error"' in html
    # Somebody's address already: 409, said beside the field.
    taken = client.post(url, data={"csrf_token": token, "name": "Nina New", "email": office.people.worker.email,
                                   "preferred_channel": "email"})
    assert taken.status_code == 409
    assert "Somebody already has an account with this email address." in html_of(taken)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.name == "Nina New")) == 0


# --- edit ----------------------------------------------------------------------------------


def test_an_admin_changes_someones_details_and_the_old_address_is_told(client, office, mail_outbox, sms_outbox):
    worker = office.people.worker
    old_email, old_phone = worker.email, worker.phone
    sign_in(client, office.people.admin)
    page = client.get(person_url(office, worker))
    assert page.status_code == 200
    response = client.post(f"{person_url(office, worker)}/edit", data={
        "csrf_token": csrf(html_of(page)), "name": "Wendy Walker", "email": "wendy.walker@example.org",
        "phone": "07700 900999"})
    assert response.status_code == 303
    worker = reload(worker)
    assert (worker.name, worker.email, worker.phone) == ("Wendy Walker", "wendy.walker@example.org", "+447700900999")
    told = [m for m in mail_outbox if old_email in m.to]
    assert told and "changed to wendy.walker@example.org by an admin of Riverside Care" in told[0].body
    assert any(t.to == old_phone and "mobile number of your careteams account was changed" in t.body for t in sms_outbox)


def test_a_refused_change_keeps_what_was_typed_beside_the_field(client, office):
    worker = office.people.worker
    sign_in(client, office.people.admin)
    token = csrf(html_of(client.get(person_url(office, worker))))
    bad = client.post(f"{person_url(office, worker)}/edit", data={
        "csrf_token": token, "name": "Wendy W", "email": "not an email", "phone": worker.phone})
    assert bad.status_code == 422
    html = html_of(bad)
    assert 'value="not an email"' in html and 'value="Wendy W"' in html
    assert "Enter an email address like name@example.org." in html
    taken = client.post(f"{person_url(office, worker)}/edit", data={
        "csrf_token": token, "name": "Wendy W", "email": office.people.secretary.email, "phone": worker.phone})
    assert taken.status_code == 409
    assert "Somebody already has an account with this email address." in html_of(taken)
    neither = client.post(f"{person_url(office, worker)}/edit", data={
        "csrf_token": token, "name": "Wendy W", "email": "", "phone": ""})
    assert neither.status_code == 422 and "Give an email address or a mobile number." in html_of(neither)
    assert reload(worker).name == "Wendy Worker"


# --- switch off and on ---------------------------------------------------------------------


def test_switching_an_account_off_signs_them_out_everywhere_and_keeps_history(client, office, app, auth_headers):
    worker = office.people.worker
    their_browser = app.test_client()
    sign_in(their_browser, worker)
    headers = auth_headers(worker)
    db.session.commit()
    assert their_browser.get("/").status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    sign_in(client, office.people.admin)
    token = csrf(html_of(client.get(person_url(office, worker))))
    response = client.post(f"{person_url(office, worker)}/deactivate", data={"csrf_token": token})
    assert response.status_code == 303
    assert not reload(worker).active
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession).where(
        LoginSession.person_id == worker.id, LoginSession.ended_at.is_(None))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
        ApiToken.person_id == worker.id, ApiToken.revoked_at.is_(None))) == 0
    assert their_browser.get("/").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # Nothing is deleted: still on the list, switched off, and in the register.
    html = html_of(client.get(person_url(office, worker)))
    assert "Switched off" in html and "Worker member, active" in html

    again = client.post(f"{person_url(office, worker)}/reactivate", data={"csrf_token": token})
    assert again.status_code == 303 and reload(worker).active


def test_an_admin_cannot_switch_off_her_own_account(client, office):
    admin = office.people.admin
    sign_in(client, admin)
    html = html_of(client.get(person_url(office, admin)))
    assert "Switch off" not in html
    response = client.post(f"{person_url(office, admin)}/deactivate", data={"csrf_token": csrf(html)})
    assert response.status_code == 403 and reload(admin).active


# --- who may -------------------------------------------------------------------------------

LIST_AND_INVITE = {"admin": 200, "secretary": 200, "facilitator": 200, "worker": 403, "admin_elsewhere": 404,
                   "stranger": 404, ANONYMOUS: 302}
EDIT = {"admin": 303, "secretary": 403, "facilitator": 403, "worker": 403, "admin_elsewhere": 404,
        "stranger": 404, ANONYMOUS: 302}


@pytest.mark.parametrize("actor", list(LIST_AND_INVITE))
def test_who_sees_the_list_and_the_invitation(client, office, actor):
    as_actor(client, office, actor)
    for url in (people_url(office), f"{people_url(office)}/invite", person_url(office, office.people.worker)):
        assert client.get(url).status_code == LIST_AND_INVITE[actor], url


@pytest.mark.parametrize("actor", list(EDIT))
def test_who_changes_and_switches_off_accounts(client, office, actor):
    as_actor(client, office, actor)
    worker = office.people.worker
    token = csrf(html_of(client.get("/login")))
    edit = client.post(f"{person_url(office, worker)}/edit", data={
        "csrf_token": token, "name": "Changed", "email": worker.email, "phone": worker.phone})
    off = client.post(f"{person_url(office, worker)}/deactivate", data={"csrf_token": token})
    assert edit.status_code == EDIT[actor] and off.status_code == EDIT[actor]
    changed = reload(worker)
    assert (changed.name == "Changed", changed.active) == ((True, False) if actor == "admin" else (False, True))


def test_someone_of_another_coop_only_is_as_unknown_as_no_one(client, office):
    sign_in(client, office.people.admin)
    assert client.get(person_url(office, office.outsider)).status_code == 404
    assert client.get(f"/coops/{office.coop.slug}/people/999999").status_code == 404
    token = csrf(html_of(client.get(people_url(office))))
    assert client.post(f"{person_url(office, office.outsider)}/deactivate", data={"csrf_token": token}).status_code == 404
    assert reload(office.outsider).active


def test_nav_offers_people_to_those_who_may(client, office):
    sign_in(client, office.people.facilitator)
    html = html_of(client.get("/"))
    assert f'href="/coops/{office.coop.slug}/people"' in html
    assert f'href="/coops/{office.coop.slug}/staff"' not in html


def test_a_new_untied_account_is_in_reach_for_its_edit(client, office):
    fresh = PersonFactory(name="Fresh Face")
    sign_in(client, office.people.admin)
    assert client.get(person_url(office, fresh)).status_code == 200


def test_someone_invited_here_is_on_the_list_until_another_coop_takes_them(client, office):
    sign_in(client, office.people.facilitator)
    url = f"{people_url(office)}/invite"
    client.post(url, data={"csrf_token": csrf(html_of(client.get(url))), "name": "Nina New",
                           "email": "nina@example.org", "preferred_channel": "email"})
    assert "Nina New" in html_of(client.get(people_url(office)))
    nina = db.session.scalar(sa.select(Person).where(Person.email == "nina@example.org"))
    MembershipFactory(cooperative=office.other, person=nina, member_class=MemberClass.worker)
    db.session.commit()
    assert "Nina New" not in html_of(client.get(people_url(office)))
    # Invited by another co-op's staff: not this co-op's to list.
    sign_in(client, office.people.admin_elsewhere)
    url = f"/coops/{office.other.slug}/people/invite"
    client.post(url, data={"csrf_token": csrf(html_of(client.get(url))), "name": "Hal Hill",
                           "email": "hal@example.org", "preferred_channel": "email"})
    assert db.session.scalar(sa.select(Person.id).where(Person.email == "hal@example.org")) is not None
    sign_in(client, office.people.admin)
    assert "Hal Hill" not in html_of(client.get(people_url(office)))
