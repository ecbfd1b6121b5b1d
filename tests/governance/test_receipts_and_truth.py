"""Issue 19 (the pages' part): receipts people can keep, rules held on every path, and
pages that say what the published counts reveal before anybody votes."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from careteams.errors import Conflict
from careteams.extensions import db
from careteams.governance import rules
from careteams.governance.enums import ResolutionKind
from careteams.governance.models import Ballot, ElectorateEntry
from careteams.governance.services import ballots
from careteams.members.models import MembershipStatus
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


def page(c, path=""):
    return f"/cooperatives/{c.coop.slug}/resolutions{path}"


def api(c, path=""):
    return f"/api/v1/cooperatives/{c.coop.slug}/resolutions{path}"


def letters(code: str) -> str:
    return re.sub(r"[^a-z]", "", code.lower())


def shouted(code: str) -> str:
    """The same words typed differently: capitals, no spaces between some, extra elsewhere."""
    words = code.split()
    return "  " + words[0].upper() + words[1].capitalize() + " \t " + "   ".join(words[2:]).upper() + "\n"


def body(response) -> str:
    return response.get_data(as_text=True)


# --- the change code: six words, only hashed ----------------------------------------------


def test_change_code_is_six_common_words_and_only_its_hash_is_stored(app, client, auth_headers):
    c = build_coop()
    r = opened(c)
    cast = client.post(api(c, f"/{r.id}/ballots"), json={"option_id": option(r, "for")},
                       headers=auth_headers(c.member("worker").person))
    assert cast.status_code == 201
    code = cast.json["change_token"]
    words = code.split(" ")
    assert len(words) == 6 and all(re.fullmatch(r"[a-z]+", w) for w in words)
    assert set(words) <= set(ballots._words()) and len(ballots._words()) > 7000
    # Grep the whole ballot row: the code, its words run together, and no word of it appear.
    row = db.session.execute(sa.select(Ballot.__table__)).mappings().one()
    dumped = " ".join(str(v) for v in row.values()).lower()
    assert code not in dumped and letters(code) not in dumped
    assert not [w for w in words if re.search(rf"\b{w}\b", dumped)]
    assert row["change_token_hash"] == hashlib.sha256(letters(code).encode()).hexdigest()
    # Two codes are not the same (192 draws would collide only by a miracle).
    assert len({ballots.new_change_code() for _ in range(32)}) == 32


def test_change_the_vote_with_the_words_in_another_case_and_spacing(app, client, auth_headers):
    c = build_coop()
    r = opened(c)
    worker = c.member("worker")
    got = vote(c, worker, r, "for")
    headers = auth_headers(worker.person)
    # API: capitals, tabs, words run together.
    changed = client.put(api(c, f"/{r.id}/ballots"), json={"change_token": shouted(got["change_token"]),
                                                          "option_id": option(r, "against")}, headers=headers)
    assert changed.status_code == 200 and changed.json["receipt"] == got["receipt"]
    assert choices(r) == ["against"]
    # Page: the same, by the form.
    changed = client.post(page(c, f"/{r.id}/ballot/change"),
                          data={"option": "abstain", "change_token": got["change_token"].title()}, headers=headers)
    assert changed.status_code == 302
    assert choices(r) == [None]


def test_wrong_words_are_refused_beside_the_field(app, client, auth_headers):
    c = build_coop()
    r = opened(c)
    worker = c.member("worker")
    got = vote(c, worker, r, "for")
    headers = auth_headers(worker.person)
    wrong = got["change_token"].rsplit(" ", 1)[0] + " " + ("zebra" if not got["change_token"].endswith("zebra")
                                                         else "yodel")
    response = client.put(api(c, f"/{r.id}/ballots"), json={"change_token": wrong, "option_id": None},
                           headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"]["change_token"] == [
        "That change code is not right for this resolution."]
    refused = client.post(page(c, f"/{r.id}/ballot/change"),
                          data={"option": "abstain", "change_token": wrong}, headers=headers)
    assert refused.status_code == 422
    assert "That change code is not right for this resolution." in body(refused)
    assert escape(wrong) in body(refused)  # what was typed is kept
    assert choices(r) == ["for"]


# --- the receipt page ---------------------------------------------------------------------


def test_receipt_page_reloads_prints_and_is_this_sessions_only(app, client, auth_headers):
    c = build_coop()
    r = opened(c)
    member = c.member("supported")
    headers = auth_headers(member.person)
    cast = client.post(page(c, f"/{r.id}/ballot"), data={"option": str(option(r, "for"))}, headers=headers)
    assert cast.status_code == 302
    url = cast.headers["Location"]
    assert url.endswith(f"/resolutions/{r.id}/receipt")
    ballot = db.session.scalar(sa.select(Ballot))
    first = client.get(url, headers=headers)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    code = re.search(r'class="code-wrap code-medium">([^<]+)<', body(first)).group(1)
    assert ballot.receipt in body(first) and len(code.split()) == 6
    assert ballot.change_token_hash == hashlib.sha256(letters(code).encode()).hexdigest()
    # Reloading shows the same receipt again, never "409 You have already voted".
    for _ in range(2):
        again = client.get(url, headers=headers)
        assert again.status_code == 200 and ballot.receipt in body(again) and code in body(again)
    # Sending the ballot form again (back button) leads back to the receipt, not to a 409.
    resent = client.post(page(c, f"/{r.id}/ballot"), data={"option": "abstain"}, headers=headers)
    assert resent.status_code == 302 and resent.headers["Location"] == url
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
    assert choices(r) == ["for"]
    # The resolution page links to it while this session holds it.
    assert "See your receipt again" in body(client.get(page(c, f"/{r.id}"), headers=headers))
    # Another session of the same member, and another member, see nothing of it.
    for other, person in ((app.test_client(), member.person), (app.test_client(), c.member("worker").person)):
        response = other.get(url, headers=auth_headers(person))
        assert response.status_code == 404
        assert ballot.receipt not in body(response) and code not in body(response)
    # Without that session, sending the form again is still the plain conflict.
    other = app.test_client()
    again = other.post(page(c, f"/{r.id}/ballot"), data={"option": "abstain"}, headers=auth_headers(member.person))
    assert again.status_code == 409


def test_receipt_code_is_never_in_a_url(app, client, auth_headers):
    c = build_coop()
    r = opened(c)
    headers = auth_headers(c.member("worker").person)
    cast = client.post(page(c, f"/{r.id}/ballot"), data={"option": "abstain"}, headers=headers)
    shown = client.get(cast.headers["Location"], headers=headers)
    code = re.search(r'class="code-wrap code-medium">([^<]+)<', body(shown)).group(1)
    receipt = db.session.scalar(sa.select(Ballot.receipt))
    for value in (code, letters(code), receipt):
        assert value not in cast.headers["Location"]
    assert not [href for href in re.findall(r'href="([^"]+)"', body(shown)) if receipt in href or letters(code) in href]


# --- a member who has left: their proxy ends ------------------------------------------------


def _leaver_with_proxy(c, r):
    appointer, holder = c.member("supported"), c.member("worker")
    ballots.appoint_proxy(c.actor(appointer), c.coop, r, holder.id)
    appointer.status = MembershipStatus.left
    appointer.left_on = date.today()
    db.session.flush()
    return appointer, holder


def _nothing_counted_for(appointer):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0
    entry = db.session.scalar(sa.select(ElectorateEntry).where(ElectorateEntry.membership_id == appointer.id))
    assert entry.has_voted is False


def test_a_leavers_proxy_is_refused_by_the_api(app, client, auth_headers):
    c = build_coop()
    r = opened(c)
    appointer, holder = _leaver_with_proxy(c, r)
    headers = auth_headers(holder.person)
    held = client.get(api(c, f"/{r.id}/me"), headers=headers).json["proxies_held"]
    assert held[0]["appointer_left"] is True
    response = client.post(api(c, f"/{r.id}/ballots"),
                           json={"option_id": option(r, "for"), "on_behalf_of": appointer.id}, headers=headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "appointer_left"
    assert "has left the co-op" in response.json["error"]["message"]
    _nothing_counted_for(appointer)
    # The holder's own vote is not affected.
    own = client.post(api(c, f"/{r.id}/ballots"), json={"option_id": option(r, "for")}, headers=headers)
    assert own.status_code == 201


def test_a_leavers_proxy_is_refused_on_the_page(app, client, auth_headers):
    c = build_coop()
    r = opened(c)
    appointer, holder = _leaver_with_proxy(c, r)
    headers = auth_headers(holder.person)
    shown = body(client.get(page(c, f"/{r.id}"), headers=headers))
    name = str(escape(appointer.person.name))
    assert f"{name} has left the co-op, so their proxy has ended: you cannot vote for them." in shown
    assert f'name="on_behalf_of" value="{appointer.id}"' not in shown  # no ballot form for them
    # A form sent anyway (an old tab) is refused in plain words.
    response = client.post(page(c, f"/{r.id}/ballot"),
                           data={"option": str(option(r, "for")), "on_behalf_of": str(appointer.id)}, headers=headers)
    assert response.status_code == 409
    assert "has left the co-op, so their proxy has ended" in body(response)
    assert "not allowed" not in body(response)
    _nothing_counted_for(appointer)


def test_a_leavers_proxy_is_refused_by_the_service(gov):
    r = opened(gov)
    appointer, holder = _leaver_with_proxy(gov, r)
    with pytest.raises(Conflict) as refused:
        vote(gov, holder, r, "against", on_behalf_of=appointer.id)
    assert refused.value.code == "appointer_left"
    _nothing_counted_for(appointer)


# --- scheduled but not yet open: "Voting opens at ..." -----------------------------------------

# The clocks go forward in London at 01:00 UTC on Sunday 28 March 2027.
BEFORE_CHANGE = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
AFTER_CHANGE = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(("opens_at", "said"), [
    (BEFORE_CHANGE, "Voting opens at Sun 28 Mar 2027, 00:30 GMT."),
    (AFTER_CHANGE, "Voting opens at Sun 28 Mar 2027, 02:30 BST."),
])
def test_voting_before_it_opens_says_when_it_opens(app, client, auth_headers, opens_at, said):
    c = build_coop(timezone="Europe/London")
    now = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    r = draft(c, now=now, opens_at=opens_at, closes_at=opens_at + timedelta(days=7))
    open_with_tellers(c, r, now, [c.member("worker").person])
    assert r.status.value == "scheduled"
    worker = c.member("worker")
    headers = auth_headers(worker.person)
    response = client.post(api(c, f"/{r.id}/ballots"), json={"option_id": option(r, "for")}, headers=headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "voting_not_open"
    assert response.json["error"]["message"] == said
    shown = client.post(page(c, f"/{r.id}/ballot"), data={"option": str(option(r, "for"))}, headers=headers)
    assert shown.status_code == 409 and said in body(shown) and "not allowed" not in body(shown)
    # The same for appointing a proxy, and the resolution page says it before anyone tries.
    proxy = client.post(api(c, f"/{r.id}/proxy"), json={"proxy_membership_id": c.member("worker", 1).id},
                        headers=headers)
    assert proxy.status_code == 409 and proxy.json["error"]["code"] == "voting_not_open"
    assert said in body(client.get(page(c, f"/{r.id}"), headers=headers))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0


def test_local_time_across_the_clock_change():
    assert rules.local_time(BEFORE_CHANGE, "Europe/London") == "Sun 28 Mar 2027, 00:30 GMT"
    assert rules.local_time(AFTER_CHANGE, "Europe/London") == "Sun 28 Mar 2027, 02:30 BST"


# --- what the counts reveal: SMALL_CLASS = 5, said before voting opens ------------------------


WARNING = "Before voting opens: a ballot may not stay secret."


@pytest.mark.parametrize(("investors", "warned"), [(4, True), (5, False)])
def test_secretary_is_warned_before_voting_opens_at_4_not_5(app, client, auth_headers, investors, warned):
    c = build_coop({"worker": 6, "supported": 3, "investor": investors})
    r = draft(c)
    headers = auth_headers(c.secretary)
    for path in (f"/{r.id}", f"/{r.id}/edit"):
        shown = body(client.get(page(c, path), headers=headers))
        assert (WARNING in shown) is warned
        assert ("Only 4 investor members are in this vote" in shown) is warned
    # Scheduled, still before opening: the resolution page still says it.
    later = draft(c, opens_at=datetime.now(UTC) + timedelta(days=1),
                  closes_at=datetime.now(UTC) + timedelta(days=8))
    scrutineer = next(m for ms in c.members.values() for m in ms).person_id
    client.post(page(c, f"/{later.id}/open"), headers=headers, data={"scrutineers": [str(scrutineer)]})
    shown = body(client.get(page(c, f"/{later.id}"), headers=headers))
    assert "Voting opens at" in shown and (WARNING in shown) is warned


def test_no_warning_where_nothing_is_published_apart(app, client, auth_headers):
    # A special resolution has no cap: only the totals of all 13 are published.
    c = build_coop({"worker": 6, "supported": 3, "investor": 4})
    r = draft(c, kind="special")
    assert WARNING not in body(client.get(page(c, f"/{r.id}"), headers=auth_headers(c.secretary)))


def test_members_are_told_on_the_ballot_page_before_they_vote(app, client, auth_headers):
    c = build_coop({"worker": 6, "investor": 4})
    r = opened(c)
    shown = body(client.get(page(c, f"/{r.id}"), headers=auth_headers(c.member("worker").person)))
    assert "How secret is your ballot?" in shown
    assert "Only 4 investor members can vote on this resolution" in shown
    assert "nobody, including the co-op, can see how you voted" not in shown
    # Told before the ballot form, not after the results.
    assert shown.index("How secret is your ballot?") < shown.index("How do you vote?")
    c5 = build_coop({"worker": 6, "investor": 5})
    r5 = opened(c5)
    shown = body(client.get(page(c5, f"/{r5.id}"), headers=auth_headers(c5.member("worker").person)))
    assert "How secret is your ballot?" in shown and "Only " not in shown


@pytest.mark.parametrize(("investor_ballots", "warned"), [(4, True), (5, False)])
def test_results_page_small_class_rule_is_5(app, client, auth_headers, investor_ballots, warned):
    c = build_coop({"worker": 6, "advocate": 1, "investor": 5})
    r = opened(c)
    for m in c.members["worker"] + c.members["advocate"]:
        vote(c, m, r, "for")
    for m in c.members["investor"][:investor_ballots]:
        vote(c, m, r, "against")
    assert close_and_count(r.id, r.closes_at, tell=False)
    db.session.refresh(r)
    assert bool(r.result["warnings"]) is warned
    # Only the groups the cap needs: one advocate's ballot is not shown on its own.
    assert set(r.result["counts"]) == {"investor", "non-investor", "all"}
    assert r.result["counts"]["non-investor"] == {"for": 7}
    shown = body(client.get(page(c, f"/{r.id}/results"), headers=auth_headers(c.member("worker").person)))
    assert "What these figures reveal" in shown
    assert (f"Only {investor_ballots} investor ballots were cast" in shown) is warned
    assert "Advocate" not in shown and "Worker" not in shown


def test_small_groups_rule():
    ordinary, special = ResolutionKind.ordinary, ResolutionKind.special
    assert rules.SMALL_CLASS == 5
    assert rules.small_groups({"worker": 3, "supported": 1, "investor": 4}, ordinary) == {
        "investor": 4, "non-investor": 4}
    assert rules.small_groups({"worker": 3, "supported": 2, "investor": 5}, ordinary) == {}
    assert rules.small_groups({"worker": 3, "investor": 1}, special) == {"all": 4}
    assert rules.small_groups({"worker": 9}, ordinary) == {}  # no investors: nothing to read
    assert rules.group_counts({"worker": {"for": 2}, "advocate": {"for": 1, "abstain": 1},
                               "investor": {"against": 3}}, ordinary) == {
        "investor": {"against": 3}, "non-investor": {"for": 3, "abstain": 1},
        "all": {"for": 3, "abstain": 1, "against": 3}}
    assert rules.group_counts({"worker": {"for": 2}, "investor": {"against": 3}}, special) == {
        "all": {"for": 2, "against": 3}}
