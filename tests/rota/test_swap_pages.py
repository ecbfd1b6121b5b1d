"""Cover and swaps for the team on the web (issue 16): the page listing cover requests and
the swaps both workers agreed to, for those who offer the team's shifts or decide swaps;
arranging cover (the next wave of cover offers) and approving or refusing a swap through
plain forms; a refused form keeps what was typed and names the field."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import Person
from careteams.members.services import actor_for
from careteams.rota.models import Offer, RotaSettings, Shift, ShiftStatus, ShiftSwap, SwapStatus
from careteams.rota.services.cover import agree_swap, propose_swap, request_cover
from careteams.rota.services.offers import accept_offer, book_directly
from careteams.sms.rules import segments
from careteams.teams.models import HatType
from tests.factories import PASSWORD, ArrangerFactory, PersonFactory
from tests.helpers import pass_second_factor
from tests.rota.conftest import MONDAY, add_hat, add_member, csrf_from, make_shift

# Who may open the page, who may arrange cover, who may decide swaps; the rest are
# refused: 403 for those who can see the team, 404 for everyone else.
PAGE = {"leader": 200, "wrangler": 200, "arranger": 200, "offerer": 200,
        "circle": 403, "facilitator": 403, "worker": 403, "trial": 403,
        "other_worker": 404, "other_facilitator": 404, "stranger": 404}
ARRANGE = {**PAGE, "offerer": 303, "leader": 303, "wrangler": 303, "arranger": 303}
DECIDE = {**PAGE, "offerer": 403, "leader": 303, "wrangler": 303, "arranger": 303}


@pytest.fixture
def people(world):
    """The rota's world, plus an agreed arranger and a circle member whose hat only offers shifts."""
    world.arranger = ArrangerFactory(team=world.team, person=PersonFactory(name="Arlo Arranger")).person
    offer_type = HatType(cooperative_id=world.coop.id, name="Shift offerer", permissions=["offer_shifts"])
    db.session.add(offer_type)
    db.session.flush()
    world.offerer = add_hat(world.team, PersonFactory(name="Olive Offerer"), offer_type)
    # Three more workers, asked one at a time, so a cover request leaves some to ask.
    world.extra = [add_member(world.team, PersonFactory(name=f"Extra {n}")) for n in ("Ava", "Ben", "Cat")]
    db.session.add(RotaSettings(cooperative_id=world.coop.id, blocking_checks=[], offer_wave_size=1))
    db.session.flush()
    return world


def log_in(app, person):
    """A fresh browser logged in as `person` through the real form; (client, csrf token)."""
    db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    r = client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 302
    pass_second_factor(client, person)  # staff only
    return client, csrf_from(client.get("/my/offers").get_data(as_text=True))


def get(client, url):
    db.session.commit()  # a refused request rolls back the session the test shares
    response = client.get(url)
    db.session.expire_all()
    return response


def post(client, url, data):
    db.session.commit()
    response = client.post(url, data=data)
    db.session.expire_all()
    return response


def booked(world, start, person):
    shift = make_shift(world.team, start)
    assert book_directly(actor_for(world.leader), shift.id, person.id).ok
    return shift


def cover_asked(world):
    """Wendy's visit on Monday, cover asked: the first wave (one worker) went out."""
    shift = booked(world, MONDAY + timedelta(hours=9), world.worker)
    assert request_cover(world.worker, shift.id).outcome == "cover_requested"
    return shift


def agreed_swap(world):
    """Wendy's Monday visit for Will's Tuesday visit: both agreed, the team decides."""
    mine = booked(world, MONDAY + timedelta(hours=14), world.worker)
    theirs = booked(world, MONDAY + timedelta(days=1, hours=14), world.worker2)
    swap = propose_swap(world.worker, mine.id, theirs.id)
    agree_swap(world.worker2, swap.id, True)
    return swap, mine, theirs


def page_url(world) -> str:
    return f"/teams/{world.team.id}/rota/cover-and-swaps"


def cover_offers(shift) -> list[Offer]:
    return list(db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.is_cover)
                                   .order_by(Offer.wave, Offer.id)))


# ---------------------------------------------------------------- who may

@pytest.mark.parametrize("who", sorted(PAGE))
def test_page_admits_those_who_offer_shifts_or_decide_swaps(people, app, who):
    shift = cover_asked(people)
    agreed_swap(people)
    client, _ = log_in(app, getattr(people, who))
    r = get(client, page_url(people))
    assert r.status_code == PAGE[who], who
    if r.status_code == 200:
        html = r.get_data(as_text=True)
        assert "Wendy Worker" in html and f'href="/teams/{people.team.id}/rota/visits/{shift.id}"' in html
        # Each actor sees only the forms they may send.
        assert (f'action="/teams/{people.team.id}/rota/cover-and-swaps/cover/{shift.id}"' in html)
        assert ("/rota/cover-and-swaps/swaps/" in html) == (DECIDE[who] == 303), who


@pytest.mark.parametrize("who", sorted(ARRANGE))
def test_arranging_cover_is_for_those_who_offer_shifts(people, app, who):
    shift = cover_asked(people)
    before = len(cover_offers(shift))
    client, token = log_in(app, getattr(people, who))
    r = post(client, f"{page_url(people)}/cover/{shift.id}", {"csrf_token": token, "wave_size": "1"})
    assert r.status_code == ARRANGE[who], who
    assert len(cover_offers(shift)) == before + (1 if ARRANGE[who] == 303 else 0), who


@pytest.mark.parametrize("who", sorted(DECIDE))
def test_deciding_a_swap_is_for_those_who_approve_swaps(people, app, who):
    swap, mine, theirs = agreed_swap(people)
    client, token = log_in(app, getattr(people, who))
    r = post(client, f"{page_url(people)}/swaps/{swap.id}", {"csrf_token": token, "decision": "approve"})
    assert r.status_code == DECIDE[who], who
    expected = SwapStatus.approved if DECIDE[who] == 303 else SwapStatus.agreed
    assert db.session.get(ShiftSwap, swap.id).status == expected, who


def test_anonymous_is_sent_to_log_in(people, app):
    shift = cover_asked(people)
    swap, _, _ = agreed_swap(people)
    db.session.commit()
    client = app.test_client()
    r = client.get(page_url(people))
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    # Without a session there is no CSRF token to send: the forms are refused before anything.
    for url in (f"{page_url(people)}/cover/{shift.id}", f"{page_url(people)}/swaps/{swap.id}"):
        r = client.post(url, data={"decision": "approve", "wave_size": "1"})
        assert r.status_code in (302, 400), url
    assert db.session.get(ShiftSwap, swap.id).status == SwapStatus.agreed
    assert len(cover_offers(shift)) == 1


def test_another_teams_visit_or_swap_is_404_through_this_team(people, app):
    # The other team's leader may decide its swaps, but not through this team's page;
    # and this team's leader cannot reach the other team's through their own.
    other = people.other_team
    theirs_a = make_shift(other, MONDAY + timedelta(hours=9))
    theirs_b = make_shift(other, MONDAY + timedelta(days=1, hours=9))
    otto2 = add_member(other, PersonFactory(name="Olga Other"))
    for shift, person in ((theirs_a, people.other_worker), (theirs_b, otto2)):
        assert book_directly(actor_for(other.leader), shift.id, person.id).ok
    swap = propose_swap(people.other_worker, theirs_a.id, theirs_b.id)
    agree_swap(otto2, swap.id, True)
    request_cover(people.other_worker, theirs_a.id)
    client, token = log_in(app, people.leader)
    assert post(client, f"{page_url(people)}/swaps/{swap.id}", {"csrf_token": token, "decision": "approve"}).status_code == 404
    assert post(client, f"{page_url(people)}/cover/{theirs_a.id}", {"csrf_token": token}).status_code == 404
    assert get(client, f"/teams/{other.id}/rota/cover-and-swaps").status_code == 404
    assert db.session.get(ShiftSwap, swap.id).status == SwapStatus.agreed


# ---------------------------------------------------------------- what it shows, and the actions

def test_page_lists_cover_requests_and_agreed_swaps_only(people, app):
    shift = cover_asked(people)
    swap, mine, theirs = agreed_swap(people)
    # A swap still waiting for the team-mate's yes is not the team's to decide yet.
    third = booked(people, MONDAY + timedelta(days=2, hours=9), people.worker)
    fourth = booked(people, MONDAY + timedelta(days=3, hours=9), people.worker2)
    waiting = propose_swap(people.worker, third.id, fourth.id)
    client, _ = log_in(app, people.wrangler)
    html = get(client, page_url(people)).get_data(as_text=True)
    assert "Cover asked for" in html and "Wendy Worker" in html
    assert f'action="/teams/{people.team.id}/rota/cover-and-swaps/cover/{shift.id}"' in html
    # One cover offer went out (the wave size is 1: Will, free at 09:00), not answered
    # yet; the three other workers are left to ask.
    assert "1: 1 not answered yet, 0 said no" in html
    assert "3 of the team's workers who could take it" in html
    assert "Wendy Worker and Will Worker agreed to swap" in html
    assert f'action="/teams/{people.team.id}/rota/cover-and-swaps/swaps/{swap.id}"' in html
    assert f"/swaps/{waiting.id}\"" not in html


def test_nothing_to_do_says_so(people, app):
    client, _ = log_in(app, people.leader)
    html = get(client, page_url(people)).get_data(as_text=True)
    assert "Nobody is asking for cover." in html and "No swap is waiting for a decision." in html


def test_arrange_cover_sends_the_next_wave_to_those_not_asked_yet(people, app):
    shift = cover_asked(people)
    first = cover_offers(shift)
    assert len(first) == 1
    client, token = log_in(app, people.wrangler)
    r = post(client, f"{page_url(people)}/cover/{shift.id}", {"csrf_token": token, "wave_size": "2"})
    assert r.status_code == 303 and r.headers["Location"].endswith(page_url(people))
    offers = cover_offers(shift)
    assert len(offers) == 3 and [o.wave for o in offers] == [1, 2, 2]
    assert len({o.person_id for o in offers}) == 3 and people.worker.id not in {o.person_id for o in offers}
    # Wendy stays booked until someone accepts.
    assert db.session.get(Shift, shift.id).booked_person_id == people.worker.id
    html = get(client, page_url(people)).get_data(as_text=True)
    assert "Cover offers sent to 2 workers" in html and "3: 3 not answered yet" in html
    # An empty wave size uses the co-op's (1); then nobody is left, and the page says so.
    post(client, f"{page_url(people)}/cover/{shift.id}", {"csrf_token": token, "wave_size": ""})
    assert len(cover_offers(shift)) == 4
    post(client, f"{page_url(people)}/cover/{shift.id}", {"csrf_token": token})
    assert len(cover_offers(shift)) == 4
    assert "Nobody else in the team can take this visit now" in get(client, page_url(people)).get_data(as_text=True)


def test_approve_swaps_the_bookings(people, app, sms_outbox):
    swap, mine, theirs = agreed_swap(people)
    client, token = log_in(app, people.leader)
    r = post(client, f"{page_url(people)}/swaps/{swap.id}", {"csrf_token": token, "decision": "approve"})
    assert r.status_code == 303
    assert db.session.get(ShiftSwap, swap.id).status == SwapStatus.approved
    assert db.session.get(Shift, mine.id).booked_person_id == people.worker2.id
    assert db.session.get(Shift, theirs.id).booked_person_id == people.worker.id
    html = get(client, page_url(people)).get_data(as_text=True)
    assert "Swap approved" in html and "No swap is waiting for a decision." in html
    # Both workers hear it, each with the visit they now have (one segment, no link).
    told = {t.to: t.body for t in sms_outbox if "Your swap with" in t.body}
    assert told == {
        people.worker.phone: "Your swap with Will is approved: you are booked Tue 5 Jan 14:00-15:00 with Ann's team. "
                             "See My shifts.",
        people.worker2.phone: "Your swap with Wendy is approved: you are booked Mon 4 Jan 14:00-15:00 with Ann's team. "
                              "See My shifts.",
    }
    assert all(segments(body) == 1 for body in told.values())


def test_refuse_leaves_the_bookings(people, app, sms_outbox):
    swap, mine, theirs = agreed_swap(people)
    client, token = log_in(app, people.arranger)
    r = post(client, f"{page_url(people)}/swaps/{swap.id}", {"csrf_token": token, "decision": "refuse"})
    assert r.status_code == 303
    assert db.session.get(ShiftSwap, swap.id).status == SwapStatus.refused
    assert db.session.get(Shift, mine.id).booked_person_id == people.worker.id
    assert db.session.get(Shift, theirs.id).booked_person_id == people.worker2.id
    assert "Swap refused" in get(client, page_url(people)).get_data(as_text=True)
    told = {t.to: t.body for t in sms_outbox if "Your swap with" in t.body}
    assert told == {people.worker.phone: "Your swap with Will was not approved, so your shifts stay as they were. "
                                         "See My shifts.",
                    people.worker2.phone: "Your swap with Wendy was not approved, so your shifts stay as they were. "
                                          "See My shifts."}


# ---------------------------------------------------------------- refused forms

def test_refused_wave_size_keeps_what_was_typed_beside_the_field(people, app):
    shift = cover_asked(people)
    client, token = log_in(app, people.leader)
    url = f"{page_url(people)}/cover/{shift.id}"
    for typed, words in (("lots", "Enter a whole number."), ("600", "Enter a number from 0 to 500.")):
        r = post(client, url, {"csrf_token": token, "wave_size": typed})
        html = r.get_data(as_text=True)
        assert r.status_code == 422, typed
        field_id = f"wave_size-cover-{shift.id}"
        assert re.search(rf'id="{field_id}"[^>]*value="{typed}"|value="{typed}"[^>]*id="{field_id}"', html), typed
        error = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</p>', html)
        assert error and error.group(1).endswith(f"</span> {words}"), typed  # that message only
        assert "There is a problem" in html and f'href="#{field_id}"' in html
        assert 'id="csrf_token"' not in html  # one form per item: no id twice on the page
    assert len(cover_offers(shift)) == 1


def test_refused_decision_names_the_field(people, app):
    swap, _, _ = agreed_swap(people)
    client, token = log_in(app, people.leader)
    r = post(client, f"{page_url(people)}/swaps/{swap.id}", {"csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(rf'id="decision-swap-{swap.id}-error"[^>]*>.*Choose whether to approve or refuse', html)
    assert db.session.get(ShiftSwap, swap.id).status == SwapStatus.agreed


def test_a_swap_decided_meanwhile_is_refused_in_words(people, app):
    swap, _, _ = agreed_swap(people)
    client, token = log_in(app, people.leader)
    url = f"{page_url(people)}/swaps/{swap.id}"
    assert post(client, url, {"csrf_token": token, "decision": "refuse"}).status_code == 303
    r = post(client, url, {"csrf_token": token, "decision": "approve"})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "There is a problem" in html and "Both workers must agree before a swap is approved." in html
    assert db.session.get(ShiftSwap, swap.id).status == SwapStatus.refused


def test_cover_no_longer_asked_is_refused_in_words(people, app):
    shift = cover_asked(people)
    # Someone took it meanwhile: Will accepted the cover offer.
    offer = cover_offers(shift)[0]
    taker = db.session.get(Person, offer.person_id)
    assert accept_offer(taker, offer.id).outcome == "booked"
    client, token = log_in(app, people.leader)
    r = post(client, f"{page_url(people)}/cover/{shift.id}", {"csrf_token": token, "wave_size": "1"})
    assert r.status_code == 409
    assert "Nobody is asking for cover for this visit any more" in r.get_data(as_text=True)
    assert len(cover_offers(shift)) == 1


# ---------------------------------------------------------------- found from the rota

@pytest.mark.parametrize("who", ["leader", "wrangler", "arranger", "offerer", "circle", "facilitator", "worker"])
def test_week_list_and_visit_pages_link_here_for_those_who_may_use_it(people, app, who):
    shift = cover_asked(people)
    client, _ = log_in(app, getattr(people, who))
    link = f'href="{page_url(people)}'
    week = get(client, f"/teams/{people.team.id}/rota?week={MONDAY.date().isoformat()}").get_data(as_text=True)
    agenda = get(client, f"/teams/{people.team.id}/rota?view=list").get_data(as_text=True)
    visit = get(client, f"/teams/{people.team.id}/rota/visits/{shift.id}").get_data(as_text=True)
    allowed = PAGE[who] == 200
    assert (link in week) == allowed and (link in agenda) == allowed, who
    assert (f'{link}#cover-{shift.id}"' in visit) == allowed, who


def test_visit_page_links_to_arrange_cover_only_when_cover_is_asked(people, app):
    shift = booked(people, MONDAY + timedelta(hours=9), people.worker)
    client, _ = log_in(app, people.leader)
    visit_url = f"/teams/{people.team.id}/rota/visits/{shift.id}"
    assert "Arrange cover" not in get(client, visit_url).get_data(as_text=True)
    request_cover(people.worker, shift.id)
    assert "Arrange cover" in get(client, visit_url).get_data(as_text=True)
    assert db.session.get(Shift, shift.id).status == ShiftStatus.booked
