"""Tellers: naming them when opening, each share shown once, only tellers give shares,
"counting" refuses ballots, the count page and API, and the CLI (open-count, recount)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from careteams.errors import Conflict, Forbidden, ValidationError
from careteams.extensions import db
from careteams.governance.enums import ResolutionStatus
from careteams.governance.models import Resolution, ResolutionTeller
from careteams.governance.services import results, tellers
from careteams.members.models import StaffRoleName
from tests.factories import StaffRoleFactory
from tests.governance.conftest import build_coop, draft, vote

SHARE = re.compile(r"\b(\d{1,2})-([0-9A-F]{4}(?: [0-9A-F]{4}){7})\b")


@pytest.fixture
def world(app):
    c = build_coop({"worker": 4, "supported": 2, "investor": 1})
    c.facilitator = StaffRoleFactory(cooperative=c.coop, role=StaffRoleName.facilitator).person
    db.session.flush()
    return c


def page(c, r, path=""):
    return f"/cooperatives/{c.coop.slug}/resolutions/{r.id}{path}"


def api(c, r, path=""):
    return f"/api/v1/cooperatives/{c.coop.slug}/resolutions/{r.id}{path}"


def _open_by_page(world, client, auth_headers, r):
    scrutineers = [world.member("worker", 0).person, world.member("worker", 1).person]
    response = client.post(page(world, r, "/open"), headers=auth_headers(world.secretary),
                           data={"scrutineers": [str(p.id) for p in scrutineers], "shares_needed": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return [world.secretary, *scrutineers]


def _take_share_by_page(world, client, auth_headers, person, r) -> str:
    headers = auth_headers(person)
    before = client.get(page(world, r, "/share"), headers=headers)
    assert before.status_code == 200 and "shown once" in before.get_data(as_text=True)
    shown = client.post(page(world, r, "/share"), headers=headers)
    assert shown.status_code == 200
    found = SHARE.search(shown.get_data(as_text=True))
    assert found, shown.get_data(as_text=True)
    # Once only: the stored copy is gone.
    again = client.post(page(world, r, "/share"), headers=headers)
    assert again.status_code == 409 and not SHARE.search(again.get_data(as_text=True))
    return found.group(0)


def test_opening_names_tellers_and_refuses_bad_choices_beside_the_field(world, client, auth_headers):
    r = draft(world)
    sec = auth_headers(world.secretary)
    form = client.get(page(world, r), headers=sec).get_data(as_text=True)
    assert 'name="scrutineers"' in form and "cannot be counted" in form
    none = client.post(page(world, r, "/open"), headers=sec, data={"shares_needed": "2"})
    body = none.get_data(as_text=True)
    assert none.status_code == 422 and 'id="scrutineers-error"' in body and "Name at least one scrutineer" in body
    too_many = client.post(page(world, r, "/open"), headers=sec,
                           data={"scrutineers": [str(world.member("worker").person_id)], "shares_needed": "3"})
    body = too_many.get_data(as_text=True)
    assert too_many.status_code == 422 and 'id="shares_needed-error"' in body
    assert f'value="{world.member("worker").person_id}" checked' in body  # what was chosen is kept
    stranger = client.post(page(world, r, "/open"), headers=sec,
                           data={"scrutineers": [str(world.outsider.id)], "shares_needed": "2"})
    assert stranger.status_code == 422 and "active members" in stranger.get_data(as_text=True)
    db.session.refresh(r)
    assert r.status == ResolutionStatus.draft and r.public_key is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResolutionTeller)) == 0


def test_only_tellers_see_and_give_shares(world, client, auth_headers):
    r = draft(world)
    people = _open_by_page(world, client, auth_headers, r)
    db.session.refresh(r)
    assert r.status == ResolutionStatus.open and r.shares_needed == 2
    # Refused actors: a member who is not a teller, the co-op's facilitator, another co-op's secretary, a stranger.
    for who, code in [(world.member("worker", 2).person, 403), (world.facilitator, 403),
                      (world.other_secretary, 404), (world.outsider, 404)]:
        assert client.get(page(world, r, "/share"), headers=auth_headers(who)).status_code == code
        assert client.post(page(world, r, "/share"), headers=auth_headers(who)).status_code == code
        assert client.post(page(world, r, "/count"), headers=auth_headers(who),
                           data={"share-1": "1-" + "0" * 32, "share-2": "2-" + "0" * 32}).status_code == code
        assert client.post(api(world, r, "/share"), headers=auth_headers(who)).status_code == code
    shares = [_take_share_by_page(world, client, auth_headers, p, r) for p in people]
    assert len({s.split("-")[0] for s in shares}) == 3
    # The database holds no share, wrapped or not, once they have been seen.
    assert all(t.waiting_share is None and t.share_seen_at for t in tellers.tellers_of(r))

    # Voting; then the close: "counting" takes no ballots and shows no results.
    for n in range(4):
        vote(world, world.member("worker", n), r, "for" if n < 3 else "against")
    assert results.close_resolution(r.id, r.closes_at)
    db.session.refresh(r)
    assert r.status == ResolutionStatus.counting
    with pytest.raises(Conflict):
        vote(world, world.member("supported"), r, "against", now=r.closes_at)
    member = auth_headers(world.member("supported").person)
    cast = client.post(api(world, r, "/ballots"), headers=member, json={"option_id": r.options[0].id})
    assert cast.status_code == 409
    shown = client.get(page(world, r), headers=member).get_data(as_text=True)
    assert "Voting has closed. The ballots stay sealed until 2 of the tellers" in shown
    assert client.get(page(world, r, "/results"), headers=member).status_code == 409

    # The count page: a non-teller is refused; k-1 shares, or a wrong one, open nothing (422, beside the field).
    teller = auth_headers(people[1])
    assert client.get(page(world, r, "/count"), headers=teller).status_code == 200
    missing = client.post(page(world, r, "/count"), headers=teller, data={"share-1": shares[0], "share-2": ""})
    assert missing.status_code == 422 and 'id="share-2-error"' in missing.get_data(as_text=True)
    wrong = shares[1][:-1] + ("0" if shares[1][-1] != "0" else "1")
    bad = client.post(page(world, r, "/count"), headers=teller, data={"share-1": shares[0], "share-2": wrong})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="share-1-error"' in body
    assert shares[0] not in body  # a share is never sent back
    api_bad = client.post(api(world, r, "/count"), headers=teller, json={"shares": [shares[0]]})
    assert api_bad.status_code == 422 and api_bad.json["error"]["details"]["fields"]["shares"]
    db.session.refresh(r)
    assert r.status == ResolutionStatus.counting and r.result is None

    done = client.post(page(world, r, "/count"), headers=teller, data={"share-1": shares[2], "share-2": shares[1]})
    assert done.status_code == 302 and done.headers["Location"].endswith("/results")
    db.session.refresh(r)
    assert r.status == ResolutionStatus.closed and r.carried is True
    assert client.get(page(world, r, "/results"), headers=member).status_code == 200
    again = client.post(page(world, r, "/count"), headers=teller, data={"share-1": shares[0], "share-2": shares[1]})
    assert again.status_code == 409


def test_service_refuses_non_tellers(world):
    r = draft(world)
    from careteams.governance.services import resolutions

    r = resolutions.open_resolution(world.actor(world.secretary), world.coop, r,
                                    scrutineers=[world.member("worker").person_id], shares_needed=2)
    with pytest.raises(Forbidden):
        tellers.take_my_share(world.actor(world.member("supported")), world.coop, r, r.opens_at)
    with pytest.raises(Forbidden):
        tellers.open_count(world.actor(world.member("supported")), world.coop, r, [], r.opens_at)
    with pytest.raises(Conflict):  # a teller, but the vote is still open
        tellers.open_count(world.actor(world.secretary), world.coop, r, ["1-" + "0" * 32], r.opens_at)
    with pytest.raises(ValidationError):
        resolutions.open_resolution(world.actor(world.secretary), world.coop, draft(world), scrutineers=[],
                                    shares_needed=2)


def test_the_cli_gives_a_share_once_opens_the_count_and_recounts(world, app):
    r = draft(world)
    from careteams.governance.services import resolutions

    scrutineer = world.member("worker").person
    r = resolutions.open_resolution(world.actor(world.secretary), world.coop, r, scrutineers=[scrutineer.id],
                                    shares_needed=2)
    db.session.commit()
    runner = app.test_cli_runner()
    shares = []
    for person in (world.secretary, scrutineer):
        out = runner.invoke(args=["governance", "show-share", str(r.id), person.email])
        assert out.exit_code == 0, out.output
        shares.append(re.search(r"\b\d-[0-9A-F]{32}\b", out.output).group(0))
        assert runner.invoke(args=["governance", "show-share", str(r.id), person.email]).exit_code != 0
    refused = runner.invoke(args=["governance", "show-share", str(r.id), world.member("supported").person.email])
    assert refused.exit_code != 0
    vote(world, world.member("worker", 1), r, "against")
    results.close_resolution(r.id, r.closes_at)
    db.session.commit()  # the CLI rolls back a refused count (the test's outer transaction still undoes all)
    one = runner.invoke(args=["governance", "open-count", str(r.id)], input=shares[0] + "\n")
    assert one.exit_code != 0 and "2 different shares are needed" in one.output
    out = runner.invoke(args=["governance", "open-count", str(r.id)], input="\n".join(shares) + "\n")
    assert out.exit_code == 0, out.output
    r = db.session.get(Resolution, r.id)
    db.session.refresh(r)
    assert r.status == ResolutionStatus.closed and r.carried is False
    again = runner.invoke(args=["governance", "recount", str(r.id)], input="\n".join(shares) + "\n")
    assert again.exit_code == 0 and "matches the published result" in again.output
    assert shares[0] not in again.output


def test_no_lone_teller_through_the_api_either(world, client, auth_headers):
    """The secretary alone could open the count (with or without the database): the API,
    like the page, needs a scrutineer and at least two shares."""
    r = draft(world)
    sec = auth_headers(world.secretary)
    worker = world.member("worker").person_id
    alone = client.post(api(world, r, "/open"), headers=sec)
    assert alone.status_code == 422 and "scrutineers" in alone.json["error"]["details"]["fields"]
    one_share = client.post(api(world, r, "/open"), headers=sec, json={"scrutineers": [worker], "shares_needed": 1})
    assert one_share.status_code == 422 and "shares_needed" in one_share.json["error"]["details"]["fields"]
    too_many = client.post(api(world, r, "/open"), headers=sec, json={"scrutineers": [worker], "shares_needed": 3})
    assert too_many.status_code == 422 and "shares_needed" in too_many.json["error"]["details"]["fields"]
    db.session.refresh(r)
    assert r.status == ResolutionStatus.draft and r.public_key is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResolutionTeller)) == 0
    ok = client.post(api(world, r, "/open"), headers=sec, json={"scrutineers": [worker]})
    assert ok.status_code == 200 and ok.json["status"] == "open"
    db.session.refresh(r)
    assert r.shares_needed == 2
