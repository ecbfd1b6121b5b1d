"""The JSON API and the pages, with a permission matrix for every action."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from careteams.db import utcnow
from careteams.extensions import db
from careteams.governance.models import Ballot, ElectorateEntry, Resolution, ResolutionStatus
from careteams.governance.services import ballots
from careteams.members.models import StaffRoleName
from tests.factories import StaffRoleFactory
from tests.governance.conftest import (
    build_coop,
    choices,
    close_and_count,
    draft,
    open_with_tellers,
    opened,
    option,
    vote,
)


@pytest.fixture
def world(app):
    c = build_coop()
    c.facilitator = StaffRoleFactory(cooperative=c.coop, role=StaffRoleName.facilitator).person
    db.session.flush()
    return c


def person_for(c, who):
    return {
        "secretary": c.secretary, "facilitator": c.facilitator, "outsider": c.outsider,
        "other_staff": c.other_secretary,
    }.get(who) or c.member(who).person


def api(c, path=""):
    return f"/api/v1/cooperatives/{c.coop.slug}{path}"


def counts():
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Resolution)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)),
            db.session.scalar(sa.select(sa.func.count()).select_from(ElectorateEntry).where(ElectorateEntry.has_voted.is_(True))))


def payload(**extra):
    now = utcnow()
    return {"title": "Change the rules on rates", "text": "That workers set their own rates.", "kind": "ordinary",
            "opens_at": (now - timedelta(minutes=5)).isoformat(), "closes_at": (now + timedelta(days=3)).isoformat(),
            **extra}


# --- permission matrix ----------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [
    ("secretary", 201), ("supported", 403), ("worker", 403), ("advocate", 403), ("investor", 403),
    ("facilitator", 403), ("outsider", 404), ("other_staff", 404),
])
def test_matrix_create(world, client, auth_headers, who, status):
    before = counts()
    response = client.post(api(world, "/resolutions"), json=payload(), headers=auth_headers(person_for(world, who)))
    assert response.status_code == status, response.json
    if status != 201:
        assert counts() == before
        assert "error" in response.json


@pytest.mark.parametrize(("who", "status"), [
    # A draft is the secretary's alone: members and other staff do not even see it.
    ("secretary", 200), ("supported", 404), ("worker", 404), ("advocate", 404), ("investor", 404),
    ("facilitator", 404), ("outsider", 404), ("other_staff", 404),
])
def test_matrix_open(world, client, auth_headers, who, status):
    r = draft(world)
    response = client.post(api(world, f"/resolutions/{r.id}/open"), headers=auth_headers(person_for(world, who)),
                           json={"scrutineers": [world.member("worker").person.id]})
    assert response.status_code == status, response.json
    db.session.refresh(r)
    assert (r.status == ResolutionStatus.open) == (status == 200)
    assert (db.session.scalar(sa.select(sa.func.count()).select_from(ElectorateEntry)) > 0) == (status == 200)


@pytest.mark.parametrize(("who", "status"), [
    ("secretary", 403), ("supported", 201), ("worker", 201), ("advocate", 201), ("investor", 201),
    ("facilitator", 403), ("outsider", 404), ("other_staff", 404),
])
def test_matrix_vote(world, client, auth_headers, who, status):
    r = opened(world)
    before = counts()
    response = client.post(api(world, f"/resolutions/{r.id}/ballots"), json={"option_id": option(r, "for")},
                           headers=auth_headers(person_for(world, who)))
    assert response.status_code == status, response.json
    if status == 201:
        assert set(response.json) == {"receipt", "change_token"}
        assert counts()[1:] == (before[1] + 1, before[2] + 1)
    else:
        assert counts() == before


@pytest.mark.parametrize(("who", "status"), [
    ("secretary", 200), ("supported", 200), ("worker", 200), ("advocate", 200), ("investor", 200),
    ("facilitator", 200), ("outsider", 404), ("other_staff", 404),
])
def test_matrix_view_results(world, client, auth_headers, who, status):
    r = opened(world)
    receipt = vote(world, world.member("worker"), r, "for")["receipt"]
    close_and_count(r.id, r.closes_at)
    response = client.get(api(world, f"/resolutions/{r.id}/results"), headers=auth_headers(person_for(world, who)))
    assert response.status_code == status
    if status == 200:
        assert response.json["result"]["receipts"] == [receipt]
    else:
        assert "result" not in response.json and receipt not in response.get_data(as_text=True)


@pytest.mark.parametrize(("who", "status"), [
    ("secretary", 200), ("supported", 403), ("worker", 403), ("advocate", 403), ("investor", 403),
    ("facilitator", 403), ("outsider", 404), ("other_staff", 404),
])
@pytest.mark.parametrize("page", ["register", "register.csv"])
def test_matrix_register_and_export(world, client, auth_headers, who, status, page):
    response = client.get(f"/cooperatives/{world.coop.slug}/{page}", headers=auth_headers(person_for(world, who)))
    assert response.status_code == status
    names = [m.person.name for ms in world.members.values() for m in ms]
    body = response.get_data(as_text=True)
    if status == 200:
        assert all(n in body or n.replace("'", "&#39;") in body for n in names)
    else:
        assert not any(n in body for n in names)


@pytest.mark.parametrize(("who", "status"), [
    ("secretary", 404), ("worker", 200), ("investor", 200), ("outsider", 404), ("other_staff", 404),
])
def test_matrix_own_membership(world, client, auth_headers, who, status):
    response = client.get(api(world, "/membership"), headers=auth_headers(person_for(world, who)))
    assert response.status_code == status
    if status == 200:
        assert response.json["membership"]["id"] == world.member(who).id
        assert response.json["membership"]["member_class"] == who


def test_api_needs_login(world, client):
    assert client.get(api(world, "/resolutions")).status_code == 401
    assert client.get(f"/cooperatives/{world.coop.slug}/resolutions").status_code == 302


# --- API behaviour ----------------------------------------------------------------------------


def test_api_full_vote_flow(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    created = client.post(api(world, "/resolutions"), json=payload(kind="extraordinary", threshold="more_than"),
                          headers=sec)
    assert created.status_code == 201
    rid = created.json["id"]
    assert created.json["status"] == "draft" and [o["key"] for o in created.json["options"]] == ["for", "against"]
    patched = client.patch(api(world, f"/resolutions/{rid}"), json={"quorum_percent": 20}, headers=sec)
    assert patched.status_code == 200 and patched.json["quorum_percent"] == 20
    opened_ = client.post(api(world, f"/resolutions/{rid}/open"), headers=sec,
                          json={"scrutineers": [world.member("worker").person.id]})
    assert opened_.status_code == 200 and opened_.json["status"] == "open"
    assert len(opened_.json["electorate_hash"]) == 64 and opened_.json["electorate_size"] == 8
    assert client.patch(api(world, f"/resolutions/{rid}"), json={"quorum_percent": 0}, headers=sec).status_code == 409

    worker = auth_headers(world.member("worker").person)
    for_id = opened_.json["options"][0]["id"]
    cast = client.post(api(world, f"/resolutions/{rid}/ballots"), json={"option_id": for_id}, headers=worker)
    assert cast.status_code == 201
    again = client.post(api(world, f"/resolutions/{rid}/ballots"), json={"option_id": for_id}, headers=worker)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_voted"
    me = client.get(api(world, f"/resolutions/{rid}/me"), headers=worker).json
    assert me["in_electorate"] and me["has_voted"]
    changed = client.put(api(world, f"/resolutions/{rid}/ballots"),
                         json={"change_token": cast.json["change_token"], "option_id": None}, headers=worker)
    assert changed.status_code == 200 and changed.json["receipt"] == cast.json["receipt"]
    assert client.get(api(world, f"/resolutions/{rid}/results"), headers=worker).status_code == 409


def test_api_bad_input_is_422_with_fields(world, client, auth_headers):
    sec = auth_headers(world.secretary)
    before = counts()
    bad = client.post(api(world, "/resolutions"), json=payload(kind="referendum", opens_at="soon"), headers=sec)
    assert bad.status_code == 422 and {"kind", "opens_at"} <= set(bad.json["error"]["details"]["fields"])
    naive = client.post(api(world, "/resolutions"), json=payload(opens_at="2026-05-01T10:00:00"), headers=sec)
    assert naive.status_code == 422 and "opens_at" in naive.json["error"]["details"]["fields"]
    poll = client.post(api(world, "/resolutions"), json=payload(kind="poll", options=["Only"]), headers=sec)
    assert poll.status_code == 422 and "options" in poll.json["error"]["details"]["fields"]
    assert counts() == before
    r = opened(world)
    worker = auth_headers(world.member("worker").person)
    missing = client.post(api(world, f"/resolutions/{r.id}/ballots"), json={}, headers=worker)
    assert missing.status_code == 422 and "option_id" in missing.json["error"]["details"]["fields"]
    wrong = client.post(api(world, f"/resolutions/{r.id}/ballots"), json={"option_id": 999999}, headers=worker)
    assert wrong.status_code == 422
    assert counts()[1:] == before[1:]


def test_api_proxy_flow(world, client, auth_headers):
    r = opened(world)
    appointer, holder = world.member("investor"), world.member("advocate")
    h_app, h_holder = auth_headers(appointer.person), auth_headers(holder.person)
    appointed = client.post(api(world, f"/resolutions/{r.id}/proxy"), json={"proxy_membership_id": holder.id},
                            headers=h_app)
    assert appointed.status_code == 201 and appointed.json["status"] == "active"
    held = client.get(api(world, f"/resolutions/{r.id}/me"), headers=h_holder).json["proxies_held"]
    assert held == [{"appointer_membership_id": appointer.id, "name": appointer.person.name, "voted": False,
                     "appointer_left": False}]
    cast = client.post(api(world, f"/resolutions/{r.id}/ballots"),
                       json={"option_id": option(r, "against"), "on_behalf_of": appointer.id}, headers=h_holder)
    assert cast.status_code == 201
    assert client.delete(api(world, f"/resolutions/{r.id}/proxy"), headers=h_app).status_code == 409
    assert client.post(api(world, f"/resolutions/{r.id}/ballots"), json={"option_id": None},
                       headers=h_app).status_code == 409
    assert db.session.scalar(sa.select(Ballot.member_class)).value == "investor"


def test_list_hides_drafts_from_members(world, client, auth_headers):
    d = draft(world)
    o = opened(world)
    seen = client.get(api(world, "/resolutions"), headers=auth_headers(world.member("worker").person)).json
    assert [r["id"] for r in seen] == [o.id]
    seen = client.get(api(world, "/resolutions"), headers=auth_headers(world.secretary)).json
    assert {r["id"] for r in seen} == {d.id, o.id}


# --- pages --------------------------------------------------------------------------------------


def _form(**extra):
    return {"title": "Elect a worker director", "text": "Choose one.", "kind": "poll", "threshold": "at_least",
            "options": "Asha\nBen\n", "opens_at": "2026-12-01T18:00", "closes_at": "2026-12-08T18:00",
            "quorum_min_members": "2", "quorum_percent": "10", **extra}


def test_secretary_creates_and_opens_on_the_page(world, client, auth_headers, time_machine):
    time_machine.move_to(datetime(2026, 11, 30, 12, tzinfo=UTC), tick=True)  # before _form's dates
    sec = auth_headers(world.secretary)
    page = client.get(f"/cooperatives/{world.coop.slug}/resolutions/new", headers=sec)
    assert page.status_code == 200 and 'for="title"' in page.get_data(as_text=True)
    posted = client.post(f"/cooperatives/{world.coop.slug}/resolutions/new", data=_form(), headers=sec)
    assert posted.status_code == 302, posted.get_data(as_text=True)
    r = db.session.scalar(sa.select(Resolution).where(Resolution.title == "Elect a worker director"))
    assert [o.label for o in r.options] == ["Asha", "Ben"]
    # 18:00 in London in December is 18:00 UTC.
    assert r.opens_at.hour == 18 and r.status == ResolutionStatus.draft
    opened_ = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/open", headers=sec,
                          data={"scrutineers": [str(world.member("worker").person_id)], "shares_needed": "2"})
    assert opened_.status_code == 302
    db.session.refresh(r)
    assert r.status in (ResolutionStatus.scheduled, ResolutionStatus.open)


def test_page_form_errors_are_shown_and_nothing_saved(world, client, auth_headers):
    before = counts()
    response = client.post(f"/cooperatives/{world.coop.slug}/resolutions/new",
                           data=_form(title="", closes_at="2026-03-29T01:30", options="Only one"),
                           headers=auth_headers(world.secretary))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in body and "does not exist" in body and 'aria-invalid="true"' in body
    assert counts() == before


def test_member_votes_on_the_page_and_gets_receipt(world, client, auth_headers):
    r = opened(world)
    headers = auth_headers(world.member("supported").person)
    page = client.get(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}", headers=headers)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<fieldset>" in body and "<legend>How do you vote?</legend>" in body
    assert f'for="option-{option(r, "for")}"' in body and "<script" not in body
    cast = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/ballot",
                       data={"option": str(option(r, "against"))}, headers=headers)
    # POST-redirect-GET: the receipt page can be reloaded.
    assert cast.status_code == 302 and cast.headers["Location"].endswith(f"/resolutions/{r.id}/receipt")
    cast = client.get(cast.headers["Location"], headers=headers)
    assert cast.status_code == 200
    receipt = db.session.scalar(sa.select(Ballot.receipt))
    assert receipt in cast.get_data(as_text=True)
    assert choices(r) == ["against"]
    page = client.get(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}", headers=headers)
    assert "You have voted." in page.get_data(as_text=True)
    # Change the vote with the code from the receipt page.
    token = re.search(r"class=\"code-wrap code-medium\">([^<]+)<", cast.get_data(as_text=True)).group(1)
    changed = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/ballot/change",
                          data={"option": "abstain", "change_token": token}, headers=headers)
    assert changed.status_code == 302
    assert choices(r) == [None]


def test_results_page_shows_exact_totals_and_receipts(app, client, auth_headers):
    c = build_coop({"worker": 10, "investor": 5})
    r = opened(c)
    for m in c.members["worker"][:6]:
        vote(c, m, r, "for")
    for m in c.members["worker"][6:] + c.members["investor"]:
        vote(c, m, r, "against")
    close_and_count(r.id, r.closes_at)
    page = client.get(f"/cooperatives/{c.coop.slug}/resolutions/{r.id}/results",
                      headers=auth_headers(c.member("worker").person))
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "46/9" in body and "2/9" in body and "Carried." in body
    for receipt in db.session.scalars(sa.select(Ballot.receipt)):
        assert receipt in body


def test_register_csv_export(world, client, auth_headers):
    response = client.get(f"/cooperatives/{world.coop.slug}/register.csv", headers=auth_headers(world.secretary))
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 8
    assert {r["member_class"] for r in rows} == {"supported", "worker", "advocate", "investor"}


def test_own_membership_page(world, client, auth_headers):
    m = world.member("investor")
    page = client.get(f"/cooperatives/{world.coop.slug}/membership", headers=auth_headers(m.person))
    assert page.status_code == 200 and "Investor member" in page.get_data(as_text=True)


def test_pages_render_in_every_state(world, client, auth_headers):
    now = utcnow()
    d = draft(world, title="A draft")
    s = draft(world, title="A scheduled vote", opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=2))
    open_with_tellers(world, s, now, [world.member("worker").person])
    o = opened(world, "poll", title="An open poll")
    c = opened(world, "special", title="A closed conversion", conversion=True)
    vote(world, world.member("worker"), c, "for")
    close_and_count(c.id, c.closes_at)
    appointer, holder = world.member("supported"), world.member("worker")
    ballots.appoint_proxy(world.actor(appointer), world.coop, o, holder.id)
    base = f"/cooperatives/{world.coop.slug}/resolutions"
    sec, member = auth_headers(world.secretary), auth_headers(holder.person)

    listing = client.get(base, headers=sec).get_data(as_text=True)
    assert all(t in listing for t in ["A draft", "A scheduled vote", "An open poll", "A closed conversion"])
    listing = client.get(base, headers=member).get_data(as_text=True)
    assert "A draft" not in listing and "An open poll" in listing
    for r in (d, s, o, c):
        assert client.get(f"{base}/{r.id}", headers=sec).status_code == 200
    assert client.get(f"{base}/{d.id}/edit", headers=sec).status_code == 200
    assert client.get(f"{base}/{d.id}", headers=member).status_code == 404
    holder_page = client.get(f"{base}/{o.id}", headers=member).get_data(as_text=True)
    # The name as the page writes it: Faker's names include ones like O'Neill.
    assert str(escape(f"Vote as proxy for {appointer.person.name}")) in holder_page
    appointer_page = client.get(f"{base}/{o.id}", headers=auth_headers(appointer.person)).get_data(as_text=True)
    assert "Take back my proxy" in appointer_page
    results = client.get(f"{base}/{c.id}/results", headers=member)
    assert results.status_code == 200 and "One member, one vote" in results.get_data(as_text=True)
    # Results of an open vote are not there yet: a clear refusal, not a crash.
    assert client.get(f"{base}/{o.id}/results", headers=member).status_code == 409


def test_proxy_vote_on_the_page(world, client, auth_headers):
    r = opened(world)
    appointer, holder = world.member("investor"), world.member("worker")
    headers = auth_headers(holder.person)
    appointed = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/proxy",
                            data={"proxy_membership_id": str(holder.id)}, headers=auth_headers(appointer.person))
    assert appointed.status_code == 302
    cast = client.post(f"/cooperatives/{world.coop.slug}/resolutions/{r.id}/ballot",
                       data={"option": str(option(r, "for")), "on_behalf_of": str(appointer.id)}, headers=headers)
    assert cast.status_code == 302
    receipt = client.get(cast.headers["Location"], headers=headers)
    assert receipt.status_code == 200 and f"Ballot as proxy for {escape(appointer.person.name)}" in receipt.get_data(as_text=True)
    assert db.session.scalar(sa.select(Ballot.member_class)).value == "investor"
    entry = db.session.scalar(sa.select(ElectorateEntry).where(ElectorateEntry.membership_id == appointer.id))
    assert entry.has_voted is True
