"""Issue 20: choosing a proxy on the resolution page. While the electorate is small
(ballots.SMALL_ELECTORATE other voters or fewer) a select lists them; beyond it, a GET
search by name within the electorate shows up to PROXY_MATCHES members, each with a
button that posts to the same appoint form. The page's size and SQL statements do not
grow with the electorate."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.governance.models import ProxyAppointment
from careteams.governance.services import ballots
from careteams.members.models import MemberClass
from tests.factories import MembershipFactory, PersonFactory
from tests.governance.conftest import build_coop, opened
from tests.helpers import QueryCounter


def url(c, r, query=""):
    return f"/cooperatives/{c.coop.slug}/resolutions/{r.id}{query}"


def reads(counter: QueryCounter) -> int:
    return len([s for s in counter.statements if s.lstrip().upper().startswith("SELECT")])


def measured(client, c, r, headers, query=""):
    db.session.commit()
    client.get(url(c, r, query), headers=headers)  # warm up: the token's first use
    with QueryCounter(db.engine) as counter:
        response = client.get(url(c, r, query), headers=headers)
    assert response.status_code == 200
    return response.text, reads(counter)


def big_coop(workers: int):
    c = build_coop({"investor": 1, "worker": workers - 1})
    c.zelda = MembershipFactory(cooperative=c.coop, member_class=MemberClass.worker,
                                person=PersonFactory(name="Zelda Proxyfinder"))
    MembershipFactory(cooperative=c.coop, member_class=MemberClass.worker,
                      person=PersonFactory(name="Ann 100% Sure"))
    for n in range(ballots.PROXY_MATCHES + 5):
        MembershipFactory(cooperative=c.coop, member_class=MemberClass.worker,
                          person=PersonFactory(name=f"Common Name {n:02d}"))
    return c


def test_the_page_does_not_grow_with_the_electorate(app, client, auth_headers):
    sizes, statements = {}, {}
    for n in (10, 60, 200):
        c = build_coop({"investor": 1, "worker": n - 1})
        r = opened(c)
        voter = c.member("investor")
        sizes[n], statements[n] = measured(client, c, r, auth_headers(voter.person))
        html = sizes[n]
        sizes[n] = len(html.encode())
        if n == 10:
            assert '<select id="proxy_membership_id"' in html and html.count("<option") == 10
        else:
            assert "<option" not in html and 'name="proxy_q"' in html
    assert statements[200] == statements[60] <= statements[10], statements
    assert abs(sizes[200] - sizes[60]) < 200 and sizes[200] < sizes[10] + 1000, sizes


def test_a_search_finds_by_part_of_a_name_and_its_button_appoints(app, client, auth_headers):
    c = big_coop(60)
    r = opened(c)
    voter = c.member("investor")
    headers = auth_headers(voter.person)
    html, _ = measured(client, c, r, headers, "?proxy_q=proxyFINDER")
    zelda = c.zelda
    assert html.count('name="proxy_membership_id"') == 1
    assert f'name="proxy_membership_id" value="{zelda.id}"' in html and "Appoint Zelda Proxyfinder as my proxy" in html
    assert 'value="proxyFINDER"' in html
    response = client.post(url(c, r, "/proxy"), data={"proxy_membership_id": str(zelda.id), "proxy_q": "proxyFINDER"},
                           headers=headers)
    assert response.status_code == 302
    db.session.expire_all()
    appointed = db.session.scalar(sa.select(ProxyAppointment).where(ProxyAppointment.resolution_id == r.id))
    assert appointed.proxy_membership_id == zelda.id and appointed.appointer_membership_id == voter.id


def test_a_search_shows_at_most_20_and_says_more_match(app, client, auth_headers):
    c = big_coop(60)
    r = opened(c)
    html, _ = measured(client, c, r, auth_headers(c.member("investor").person), "?proxy_q=common+name")
    assert html.count("Appoint Common Name") == ballots.PROXY_MATCHES
    assert "More members match" in html


@pytest.mark.parametrize("query, found", [
    ("?proxy_q=%25", ["Ann 100% Sure"]),  # a wildcard is a character, not "everyone"
    ("?proxy_q=_", []),
    ("?proxy_q=Other+Secretary", []),  # a member of another co-op: not in this electorate
    ("?proxy_q=Sam+Secretary", []),  # staff, not a member
])
def test_a_search_stays_within_the_electorate_and_takes_wildcards_literally(app, client, auth_headers, query, found):
    c = big_coop(60)
    r = opened(c)
    html, _ = measured(client, c, r, auth_headers(c.member("investor").person), query)
    assert re.findall(r"Appoint (.*?) as my proxy", html) == found
    if not found:
        assert "No member of this vote’s electorate matches" in html


def test_the_voter_is_not_offered_as_her_own_proxy(app, client, auth_headers):
    c = big_coop(60)
    voter = MembershipFactory(cooperative=c.coop, member_class=MemberClass.worker,
                              person=PersonFactory(name="Zelda Proxyfinder"))
    r = opened(c)
    html, _ = measured(client, c, r, auth_headers(voter.person), "?proxy_q=zelda")
    assert re.findall(r'name="proxy_membership_id" value="(\d+)"', html) != [str(voter.id)]
    assert str(voter.id) not in re.findall(r'name="proxy_membership_id" value="(\d+)"', html)
    assert len(re.findall(r"Appoint Zelda Proxyfinder", html)) == 1


def test_a_refused_appointment_in_a_large_electorate_is_said_beside_the_search(app, client, auth_headers):
    c = big_coop(60)
    r = opened(c)
    voter = c.member("investor")
    response = client.post(url(c, r, "/proxy"), data={"proxy_membership_id": str(voter.id), "proxy_q": "zelda"},
                           headers=auth_headers(voter.person))
    assert response.status_code == 422
    html = response.text
    assert '<a href="#proxy_membership_id">Choose someone other than yourself.' in html
    search = re.search(r'<input type="search" id="proxy_membership_id"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in search and "proxy_membership_id-error" in search and 'value="zelda"' in search
    assert "Appoint Zelda Proxyfinder as my proxy" in html  # the matches are still there to choose from
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProxyAppointment)) == 0


@pytest.mark.parametrize("who", ["outsider", "other_secretary", "secretary"])
def test_people_outside_the_electorate_get_no_search_and_no_names(app, client, auth_headers, who):
    c = big_coop(60)
    r = opened(c)
    db.session.commit()
    response = client.get(url(c, r, "?proxy_q=zelda"), headers=auth_headers(getattr(c, who)))
    assert "Zelda Proxyfinder" not in response.text
    assert 'name="proxy_q"' not in response.text
