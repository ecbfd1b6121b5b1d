"""When a worker is booked on a visit, by text, on the web, directly by the team or as
cover, her other live offers whose times overlap it are withdrawn: they leave her offers
page and OFFERS, and a later Y with that code says plainly why."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, ShiftStatus
from careteams.rota.services.cover import agree_swap, decide_swap, propose_swap, request_cover
from careteams.rota.services.offers import accept_offer, book_directly, offer_shift
from careteams.rota.services.reading import my_offers
from careteams.sms.rules import TEMPLATES
from tests.rota.conftest import make_shift
from tests.rota.test_sms import NOW, SHIFT_START, offered, say


@pytest.fixture
def clash(world):
    """Offers to Wendy (and Will): the visit she will take, 09:00-10:00 Monday, one that
    overlaps it (09:30-10:30), one that only touches it (10:00-11:00) and one on Tuesday."""
    taken, taken_offers = offered(world, SHIFT_START, 1)
    overlapping, overlapping_offers = offered(world, SHIFT_START + timedelta(minutes=30), 1)
    touching, touching_offers = offered(world, SHIFT_START + timedelta(hours=1), 1)
    tuesday, tuesday_offers = offered(world, SHIFT_START + timedelta(days=1), 1)
    return SimpleNamespace(
        taken=taken, taken_offer=taken_offers[world.worker.id],
        overlapping=overlapping, overlapping_offer=overlapping_offers[world.worker.id],
        others_overlapping_offer=overlapping_offers[world.worker2.id],
        touching_offer=touching_offers[world.worker.id], tuesday_offer=tuesday_offers[world.worker.id])


def assert_clash_withdrawn(world, clash):
    db.session.flush()
    db.session.expire_all()
    assert clash.taken.status == ShiftStatus.booked and clash.taken.booked_person_id == world.worker.id
    assert clash.overlapping_offer.status == OfferStatus.withdrawn and not clash.overlapping_offer.code_live
    # Non-overlapping offers, and a team-mate's offer for the same clashing visit, stay open.
    for kept in (clash.touching_offer, clash.tuesday_offer, clash.others_overlapping_offer):
        assert kept.status == OfferStatus.open and kept.code_live
    listed = [offer.id for offer, _ in my_offers(world.worker, now=NOW)]
    assert listed == [clash.touching_offer.id, clash.tuesday_offer.id]
    offers_text = say(world, world.worker, "OFFERS")
    assert clash.overlapping_offer.code not in offers_text.replace(clash.tuesday_offer.code, "").replace(
        clash.touching_offer.code, "")
    assert "09:30-10:30" not in offers_text


def test_booked_by_text(world, clash):
    assert say(world, world.worker, f"Y {clash.taken_offer.code}").startswith("Booked: ")
    assert_clash_withdrawn(world, clash)


def test_booked_on_the_web(client, world, clash, login):
    token = login(world.worker)
    response = client.post(f"/my/offers/{clash.taken_offer.id}/accept", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get("/my/offers").get_data(as_text=True)
    assert f"/my/offers/{clash.overlapping_offer.id}/accept" not in page
    assert f"/my/offers/{clash.tuesday_offer.id}/accept" in page
    assert_clash_withdrawn(world, clash)


def test_booked_directly_by_the_team(world, clash):
    assert book_directly(actor_for(world.leader), clash.taken.id, world.worker.id, now=NOW).outcome == "booked"
    assert_clash_withdrawn(world, clash)


def test_booked_as_cover(world, clash):
    # Will holds the visit and asks for cover; Wendy takes the cover offer by text.
    wills = db.session.scalar(db.select(Offer.id).where(Offer.shift_id == clash.taken.id,
                                                        Offer.person_id == world.worker2.id))
    assert accept_offer(world.worker2, wills, now=NOW).ok
    clash.taken_offer = db.session.get(Offer, clash.taken_offer.id)
    assert clash.taken_offer.status == OfferStatus.filled
    assert request_cover(world.worker2, clash.taken.id, now=NOW).outcome == "cover_requested"
    cover_offer = db.session.scalar(db.select(Offer).where(
        Offer.shift_id == clash.taken.id, Offer.person_id == world.worker.id, Offer.is_cover))
    assert cover_offer is not None
    # Will's overlapping offer was withdrawn when he was booked: only Wendy's is checked here.
    clash.others_overlapping_offer.status = OfferStatus.open
    clash.others_overlapping_offer.code_live = True
    db.session.flush()
    assert say(world, world.worker, f"Y {cover_offer.code}").startswith("Booked: ")
    assert_clash_withdrawn(world, clash)


def test_a_later_y_on_a_withdrawn_code_is_answered_plainly(world, clash):
    say(world, world.worker, f"Y {clash.taken_offer.code}")
    reply = say(world, world.worker, f"Y {clash.overlapping_offer.code}")
    assert reply == TEMPLATES["withdrawn_clash"]
    assert "booked at that time" in reply and "not booked for it" in reply
    db.session.expire_all()
    assert clash.overlapping.booked_person_id is None
    assert clash.overlapping_offer.status == OfferStatus.withdrawn


def test_the_web_answer_to_a_withdrawn_offer_says_why(world, clash):
    say(world, world.worker, f"Y {clash.taken_offer.code}")
    result = accept_offer(world.worker, clash.overlapping_offer.id, now=NOW)
    assert not result.ok and result.reason == "clash"
    assert "booked at that time" in result.message


def test_a_bare_y_after_the_booking_lists_only_what_is_still_open(world, clash):
    say(world, world.worker, f"Y {clash.taken_offer.code}")
    reply = say(world, world.worker, "Y")
    assert clash.touching_offer.code in reply and clash.tuesday_offer.code in reply
    assert "09:30-10:30" not in reply


def test_an_offer_that_does_not_overlap_any_booking_is_untouched(world):
    monday, monday_offers = offered(world, SHIFT_START, 1)
    later = make_shift(world.team, SHIFT_START + timedelta(hours=3))
    later_offers = {o.person_id: o for o in offer_shift(actor_for(world.leader), later.id, now=NOW)}
    say(world, world.worker, f"Y {monday_offers[world.worker.id].code}")
    assert later_offers[world.worker.id].status == OfferStatus.open


def test_booked_by_an_approved_swap(world):
    # Wendy holds Monday, Will holds Tuesday; Wendy also has an offer overlapping Tuesday.
    monday = make_shift(world.team, SHIFT_START)
    tuesday = make_shift(world.team, SHIFT_START + timedelta(days=1))
    book_directly(actor_for(world.leader), monday.id, world.worker.id, now=NOW)
    book_directly(actor_for(world.leader), tuesday.id, world.worker2.id, now=NOW)
    _, overlapping = offered(world, SHIFT_START + timedelta(days=1, minutes=30))
    wendys = overlapping[world.worker.id]
    swap = propose_swap(world.worker, monday.id, tuesday.id, now=NOW)
    agree_swap(world.worker2, swap.id, True, now=NOW)
    decide_swap(actor_for(world.leader), swap.id, True, now=NOW)
    db.session.expire_all()
    assert tuesday.booked_person_id == world.worker.id
    assert wendys.status == OfferStatus.withdrawn and not wendys.code_live
    assert say(world, world.worker, f"Y {wendys.code}") == TEMPLATES["withdrawn_clash"]


def test_an_overlapping_offer_already_answered_keeps_its_answer(world, clash):
    assert say(world, world.worker, f"NO {clash.overlapping_offer.code}").startswith("Thanks ")
    say(world, world.worker, f"Y {clash.taken_offer.code}")
    db.session.expire_all()
    assert clash.overlapping_offer.status == OfferStatus.declined
    assert say(world, world.worker, f"Y {clash.overlapping_offer.code}") == TEMPLATES["said_no"]
