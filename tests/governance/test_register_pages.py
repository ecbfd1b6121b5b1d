"""The secretary's register on the web (issue 18): the register with its filters and
its CSV, entering a person (an application), admitting, changing class and share,
recording leaving with a confirm step; refused forms keep what was typed with the
message beside the field (422/409); the API refuses the same steps; admins may do it
too; nobody else may (a matrix of actors)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import (
    MemberClass,
    Membership,
    MembershipEvent,
    MembershipStatus,
    StaffRoleName,
)
from careteams.members.services import coop_today
from tests.factories import (
    PASSWORD,
    CooperativeFactory,
    MembershipFactory,
    PersonFactory,
    StaffRoleFactory,
)
from tests.governance.conftest import build_coop
from tests.helpers import csrf_from, login


@pytest.fixture
def world(app):
    c = build_coop()
    c.admin = StaffRoleFactory(cooperative=c.coop, role=StaffRoleName.admin).person
    c.facilitator = StaffRoleFactory(cooperative=c.coop, role=StaffRoleName.facilitator).person
    other = CooperativeFactory()
    c.other_admin = StaffRoleFactory(cooperative=other, role=StaffRoleName.admin).person
    c.other_membership = MembershipFactory(cooperative=other, member_class=MemberClass.worker)
    c.applicant = MembershipFactory(cooperative=c.coop, member_class=MemberClass.worker,
                                    status=MembershipStatus.applicant, joined_on=None,
                                    person=PersonFactory(name="Hana Applicant"))
    c.leaver = c.member("worker", 1)
    c.leaver.joined_on = date(2025, 3, 1)
    # Someone the co-op knows (one of its staff) who is not in the register yet.
    c.newcomer = StaffRoleFactory(cooperative=c.coop, role=StaffRoleName.facilitator,
                                  person=PersonFactory(name="Nia Newcomer")).person
    db.session.flush()
    return c


def url(c, path: str = "") -> str:
    return f"/cooperatives/{c.coop.slug}/register{path}"


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def fresh(membership: Membership) -> Membership:
    db.session.expire_all()
    return db.session.get(Membership, membership.id)


def history(membership: Membership) -> list[MembershipEvent]:
    return list(db.session.scalars(sa.select(MembershipEvent).where(
        MembershipEvent.membership_id == membership.id).order_by(MembershipEvent.id)))


def error_beside(html: str, field_id: str) -> str:
    """The message tied to a field: its error paragraph, and the input names it."""
    found = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert found, f"no error beside {field_id}"
    # The input (or, for radio buttons, their fieldset) is described by the message.
    assert re.search(rf'id="{re.escape(field_id)}"[^>]*aria-describedby="[^"]*{re.escape(field_id)}-error', html) or \
        re.search(rf'aria-describedby="[^"]*{re.escape(field_id)}-error[^"]*"[^>]*id="{re.escape(field_id)}"', html) or \
        re.search(rf'<fieldset[^>]*aria-describedby="[^"]*{re.escape(field_id)}-error', html)
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("Error:", "").strip()


def value_of(html: str, field_id: str) -> str:
    tag = re.search(rf'<input[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    return unescape(re.search(r'value="([^"]*)"', tag).group(1))


# --- the register ----------------------------------------------------------------------


def test_the_register_lists_filters_and_links(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    html = html_of(client.get(url(world), headers=sec))
    assert "Download the whole register (CSV)" in html and url(world, ".csv") in html
    for m in [*(m for ms in world.members.values() for m in ms), world.applicant]:
        assert f'href="{url(world, f"/{m.id}")}"' in html
        assert m.person.name in html
    assert "£1.00" in html and "Worker member" in html and "Applicant" in html
    assert world.other_membership.person.name not in html

    only = html_of(client.get(url(world, "?status=applicant"), headers=sec))
    assert "Hana Applicant" in only and world.member("worker").person.name not in only
    assert 'aria-current="page">Applicants (1)' in only
    assert "Enter a person in the register" in only
    # An unknown filter shows everyone rather than failing.
    anything = client.get(url(world, "?status=nonsense"), headers=sec)
    assert anything.status_code == 200 and "Hana Applicant" in html_of(anything)
    assert world.member("worker").person.name in html_of(anything)


def test_enter_a_person_in_the_register(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    page = html_of(client.get(url(world, "/new"), headers=sec))
    # The choices: people the co-op knows, not yet in the register; nobody of another co-op.
    assert "Nia Newcomer" in page
    assert world.outsider.name not in page and world.other_membership.person.name not in page
    assert world.member("worker").person.name not in page

    done = client.post(url(world, "/new"), headers=sec, data={
        "person_id": world.newcomer.id, "member_class": "advocate", "share": "£5"})
    assert done.status_code == 302
    membership = db.session.scalar(sa.select(Membership).where(Membership.person_id == world.newcomer.id))
    assert (membership.status, membership.member_class, membership.share_pence) == (
        MembershipStatus.applicant, MemberClass.advocate, 500)
    assert done.headers["Location"].endswith(url(world, f"/{membership.id}"))
    assert history(membership)[0].by_person_id == world.secretary.id


def test_a_refused_entry_keeps_what_was_typed(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    bad = client.post(url(world, "/new"), headers=sec, data={
        "person_id": world.newcomer.id, "member_class": "worker", "share": "one pound"})
    assert bad.status_code == 422
    html = html_of(bad)
    assert "Enter an amount in pounds" in error_beside(html, "share")
    assert value_of(html, "share") == "one pound"
    assert re.search(rf'<option selected value="{world.newcomer.id}">|<option value="{world.newcomer.id}" selected', html)
    assert "There is a problem" in html
    assert db.session.scalar(sa.select(Membership).where(Membership.person_id == world.newcomer.id)) is None

    # Someone of another co-op is out of reach, as in the API: nothing is entered.
    outside = client.post(url(world, "/new"), headers=sec, data={
        "person_id": world.other_membership.person_id, "member_class": "worker", "share": "1"})
    assert outside.status_code == 404


# --- the membership page ------------------------------------------------------------------


def test_admit_an_applicant_with_a_joining_date(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    page = html_of(client.get(url(world, f"/{world.applicant.id}"), headers=sec))
    assert "Admit as a member" in page and "Record leaving" not in page
    joined = coop_today(world.coop) - timedelta(days=2)
    done = client.post(url(world, f"/{world.applicant.id}/admit"), headers=sec, data={
        "admit-joined_on": joined.isoformat(), "admit-note": "Approved at the board meeting"})
    assert done.status_code == 302
    m = fresh(world.applicant)
    assert (m.status, m.joined_on) == (MembershipStatus.active, joined)
    changed = client.post(url(world, f"/{m.id}/class"), headers=auth_headers(world.admin),
                          data={"class-member_class": "advocate"})
    assert changed.status_code == 302, html_of(changed)
    page = html_of(client.get(url(world, f"/{m.id}"), headers=sec))
    # History newest first, who did it, in the co-op's zone.
    items = re.findall(r"<li><strong>(.*?)</strong>(.*?)</li>", page, re.S)
    assert len(items) == 2
    assert f"<dt>Joined</dt><dd>{joined.day} {joined:%B %Y}</dd>" in page
    assert "Advocate member, member, by " + world.admin.name in items[0][1]
    assert "Worker member, member, by Sam Secretary. Approved at the board meeting" in items[1][1]
    assert re.search(r"\b(GMT|BST)\b", items[0][0])


def test_cannot_admit_twice_or_in_the_future(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    member = world.member("worker")
    twice = client.post(url(world, f"/{member.id}/admit"), headers=sec, data={
        "admit-joined_on": coop_today(world.coop).isoformat()})
    assert twice.status_code == 409
    assert "cannot be admitted twice" in html_of(twice)
    ahead = (coop_today(world.coop) + timedelta(days=3)).isoformat()
    future = client.post(url(world, f"/{world.applicant.id}/admit"), headers=sec, data={"admit-joined_on": ahead})
    assert future.status_code == 422
    html = html_of(future)
    assert error_beside(html, "admit-joined_on") == "The joining date cannot be in the future."
    assert value_of(html, "admit-joined_on") == ahead
    assert fresh(world.applicant).status == MembershipStatus.applicant


def test_change_class_keeps_history(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    member = world.member("worker")
    done = client.post(url(world, f"/{member.id}/class"), headers=sec, data={
        "class-member_class": "advocate", "class-note": "Now cares for her mother"})
    assert done.status_code == 302
    m = fresh(member)
    assert m.member_class == MemberClass.advocate
    events = history(m)
    assert [e.member_class for e in events][-1] == MemberClass.advocate
    assert events[-1].note == "Now cares for her mother"
    refused = client.post(url(world, f"/{member.id}/class"), headers=sec, data={"class-member_class": "emperor"})
    assert refused.status_code == 422 and "Choose one of the options." in error_beside(html_of(refused), "class-member_class")


@pytest.mark.parametrize(("typed", "pence"), [("£1.00", 100), ("1", 100), ("2.5", 250), ("£1,234.56", 123456)])
def test_share_amount_in_pounds(world, client, auth_headers, typed, pence):
    sec = auth_headers(world.secretary)
    member = world.member("investor")
    done = client.post(url(world, f"/{member.id}/share"), headers=sec, data={"share-share": typed})
    assert done.status_code == 302
    m = fresh(member)
    assert m.share_pence == pence
    if pence != 100:
        assert history(m)[-1].note.startswith("share £1.00 to ")
        assert value_of(html_of(client.get(url(world, f"/{m.id}"), headers=sec)), "share-share") == {250: "2.50", 123456: "1,234.56"}[pence]


@pytest.mark.parametrize("typed", ["-1", "1.234", "ten", "£99999999"])
def test_a_refused_share_keeps_what_was_typed(world, client, auth_headers, typed):
    sec = auth_headers(world.secretary)
    member = world.member("investor")
    refused = client.post(url(world, f"/{member.id}/share"), headers=sec, data={"share-share": typed})
    assert refused.status_code == 422
    html = html_of(refused)
    assert error_beside(html, "share-share")
    assert value_of(html, "share-share") == typed
    assert fresh(member).share_pence == 100


def test_record_leaving_asks_to_confirm(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    leaver = world.leaver
    left_on = coop_today(world.coop) - timedelta(days=1)
    data = {"leave-left_on": left_on.isoformat(), "leave-note": "Moved away"}
    asked = client.post(url(world, f"/{leaver.id}/leave"), headers=sec, data=data)
    assert asked.status_code == 200
    html = html_of(asked)
    assert f"Record that {leaver.person.name} left?" in html and "Moved away" in html
    # Nothing is kept until it is confirmed.
    assert fresh(leaver).status == MembershipStatus.active
    assert history(leaver) == []
    done = client.post(url(world, f"/{leaver.id}/leave"), headers=sec, data=data | {"leave-confirm": "yes"})
    assert done.status_code == 302
    m = fresh(leaver)
    assert (m.status, m.left_on) == (MembershipStatus.left, left_on)
    assert history(m)[-1].note == "Moved away" and history(m)[-1].status == MembershipStatus.left


def test_cannot_leave_before_joining(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    leaver = world.leaver
    early = client.post(url(world, f"/{leaver.id}/leave"), headers=sec, data={
        "leave-left_on": "2025-02-01", "leave-note": "Typo", "leave-confirm": "yes"})
    assert early.status_code == 422
    html = html_of(early)
    assert error_beside(html, "leave-left_on") == "They cannot leave before they joined (1 March 2025)."
    assert value_of(html, "leave-left_on") == "2025-02-01"
    assert fresh(leaver).status == MembershipStatus.active
    # An applicant has not joined: she cannot leave (409), on the page as in the API.
    applicant = client.post(url(world, f"/{world.applicant.id}/leave"), headers=sec, data={
        "leave-left_on": coop_today(world.coop).isoformat(), "leave-confirm": "yes"})
    assert applicant.status == "409 CONFLICT"
    assert "they have not joined, so they cannot leave" in html_of(applicant)


# --- the API refuses the same steps ----------------------------------------------------------


def test_the_api_refuses_the_same_steps(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    api = f"/api/v1/cooperatives/{world.coop.slug}/memberships"
    today = coop_today(world.coop)
    cases = [
        (world.member("worker").id, {"status": "active"}, 409, "status"),
        (world.applicant.id, {"status": "left"}, 409, "status"),
        (world.member("worker").id, {"status": "applicant"}, 409, "status"),
        (world.applicant.id, {"status": "active", "joined_on": (today + timedelta(days=1)).isoformat()}, 422, "joined_on"),
        (world.leaver.id, {"status": "left", "left_on": "2025-01-01"}, 422, "left_on"),
        (world.leaver.id, {"left_on": "2025-06-01"}, 422, "left_on"),
        (world.leaver.id, {"share_pence": -5}, 422, "share_pence"),
    ]
    for membership_id, payload, status, field in cases:
        response = client.patch(f"{api}/{membership_id}", json=payload, headers=sec)
        assert response.status_code == status, (payload, response.json)
        assert field in response.json["error"]["details"]["fields"], payload
    ok = client.patch(f"{api}/{world.applicant.id}", json={"status": "active", "joined_on": today.isoformat()},
                      headers=sec)
    assert ok.status_code == 200 and ok.json["joined_on"] == today.isoformat()


# --- who may --------------------------------------------------------------------------------


def _who(world, who):
    return {"secretary": world.secretary, "admin": world.admin, "facilitator": world.facilitator,
            "member": world.member("supported").person, "other_secretary": world.other_secretary,
            "other_admin": world.other_admin, "outsider": world.outsider}[who]


PAGES = {
    "register": ("get", lambda w: url(w), None),
    "filtered": ("get", lambda w: url(w, "?status=applicant"), None),
    "csv": ("get", lambda w: url(w, ".csv"), None),
    "enter_form": ("get", lambda w: url(w, "/new"), None),
    "enter": ("post", lambda w: url(w, "/new"), lambda w: {"person_id": w.newcomer.id, "member_class": "worker",
                                                            "share": "1"}),
    "membership": ("get", lambda w: url(w, f"/{w.applicant.id}"), None),
    "admit": ("post", lambda w: url(w, f"/{w.applicant.id}/admit"),
              lambda w: {"admit-joined_on": coop_today(w.coop).isoformat()}),
    "class": ("post", lambda w: url(w, f"/{w.leaver.id}/class"), lambda w: {"class-member_class": "investor"}),
    "share": ("post", lambda w: url(w, f"/{w.leaver.id}/share"), lambda w: {"share-share": "3"}),
    "leave": ("post", lambda w: url(w, f"/{w.leaver.id}/leave"),
              lambda w: {"leave-left_on": coop_today(w.coop).isoformat(), "leave-confirm": "yes"}),
}
ALLOWED = {"secretary", "admin"}
# Staff and members of the co-op without the role: 403; anyone the co-op does not know: 404.
REFUSED = {"facilitator": 403, "member": 403, "other_secretary": 404, "other_admin": 404, "outsider": 404}


def _snapshot():
    db.session.expire_all()
    return (tuple(db.session.execute(sa.select(Membership.id, Membership.status, Membership.member_class,
                                               Membership.share_pence)).all()),
            db.session.scalar(sa.select(sa.func.count(MembershipEvent.id))))


@pytest.mark.parametrize("who", sorted(ALLOWED | set(REFUSED)))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_who_may_keep_the_register(world, client, auth_headers, page, who):
    method, path, data = PAGES[page]
    before = _snapshot()
    response = getattr(client, method)(path(world), data=data(world) if data else None,
                                       headers=auth_headers(_who(world, who)))
    body = response.get_data(as_text=True)
    if who in ALLOWED:
        assert response.status_code == (302 if method == "post" else 200), body
    else:
        assert response.status_code == REFUSED[who]
        assert _snapshot() == before, "a refused request changed the register"
        assert "Hana Applicant" not in body and world.newcomer.name not in body


def test_another_coops_membership_is_not_found(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    other = world.other_membership.id
    assert client.get(url(world, f"/{other}"), headers=sec).status_code == 404
    assert client.post(url(world, f"/{other}/class"), headers=sec,
                       data={"class-member_class": "investor"}).status_code == 404
    assert fresh(world.other_membership).member_class == MemberClass.worker


def test_anonymous_is_sent_to_log_in(world, client):
    for path in (url(world), url(world, "/new"), url(world, f"/{world.applicant.id}")):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(url(world, f"/{world.applicant.id}/admit"),
                       data={"admit-joined_on": "2026-01-01"}).status_code in (302, 400)
    assert fresh(world.applicant).status == MembershipStatus.applicant


def test_the_secretary_works_the_forms_in_a_browser_session(world, app):
    """Signed in with a password (and second factor), the forms carry their CSRF token."""
    world.secretary.email = "sam.secretary@example.org"
    db.session.commit()
    client = app.test_client()
    assert login(client, world.secretary.email, PASSWORD).status_code == 302
    page = client.get(url(world, f"/{world.applicant.id}"))
    done = client.post(url(world, f"/{world.applicant.id}/admit"), data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "admit-joined_on": coop_today(world.coop).isoformat()})
    assert done.status_code == 302
    assert fresh(world.applicant).status == MembershipStatus.active


# --- the home to-do ---------------------------------------------------------------------------


def test_applications_wait_on_the_home_of_those_who_keep_the_register(world, client, auth_headers):
    MembershipFactory(cooperative=world.coop, member_class=MemberClass.investor, status=MembershipStatus.applicant,
                      joined_on=None)
    link = f'href="{url(world, "?status=applicant")}"'
    for who in ("secretary", "admin"):
        html = html_of(client.get("/", headers=auth_headers(_who(world, who))))
        assert f"2 applications waiting to join {world.coop.name}" in html, who
        assert link.replace("&", "&amp;") in html or link in html
    for who in ("facilitator", "member", "other_secretary", "other_admin"):
        html = html_of(client.get("/", headers=auth_headers(_who(world, who))))
        assert "applications waiting" not in html and "application waiting" not in html, who
