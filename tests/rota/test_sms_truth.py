"""Text replies that tell the truth (issue 13), on SQLite and PostgreSQL alike.

Every reply is computed from the committed outcome (who holds the shift now), never
from which request won a race; the number a text was sent to picks the co-op, and
opt-out is per sender number. The concurrent versions (real threads on PostgreSQL)
are in tests/sms/test_truth_concurrency.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import Cooperative
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services.common import when_text
from careteams.rota.services.offers import offer_shift
from careteams.rota.services.shifts import cancel_shift
from careteams.sms import services as sms
from careteams.sms.models import OutboundMessage
from careteams.sms.rules import DeliveryStatus, render
from tests.rota.conftest import MONDAY, add_member, make_shift, make_team

from .test_sms import NOW, SHIFT_START, booked_text, offered

_sid = iter(range(1, 10**9))


def text(person, to: str, body: str, now: datetime = NOW) -> str:
    """`person` texts the number `to`; returns our reply."""
    return sms.receive_text(f"SMTRUTH{next(_sid):027d}", person.phone, to, body, now=now)


def already_yours(shift, code: str) -> str:
    return render("already_yours", when=when_text(shift, "Europe/London"), team="Ann's team", code=code)


# --- double Y: the second reply is read from what is committed ----------------------


def test_a_second_y_that_read_the_offer_before_the_first_committed_says_already_yours(world):
    """The race, made deterministic: the second `Y 482` loaded the offer (still open) and
    the shift (still free) before the first `Y 482` committed the booking. It must say
    "already yours", leave her offer accepted, and her code must keep working."""
    shift, offers = offered(world)
    offer = offers[world.worker.id]
    code, coop_number = offer.code, world.coop.sms_number
    assert offer.status == OfferStatus.open and shift.booked_person_id is None  # what the 2nd request saw
    # The first request's booking, committed by another transaction behind this session's back.
    db.session.execute(sa.update(Shift).where(Shift.id == shift.id)
                       .values(status=ShiftStatus.booked, booked_person_id=world.worker.id, booked_at=NOW)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Offer).where(Offer.id == offer.id)
                       .values(status=OfferStatus.accepted, answered_at=NOW)
                       .execution_options(synchronize_session=False))

    reply = text(world.worker, coop_number, f"Y {code}")

    assert reply == already_yours(shift, code)
    db.session.expire_all()
    offer = db.session.get(Offer, offer.id)
    assert offer.status == OfferStatus.accepted and offer.code_live
    assert f"({code})" in text(world.worker, coop_number, "SHIFTS")
    assert text(world.worker, coop_number, f"COVER {code}").startswith("We're looking for cover")
    assert text(world.worker, coop_number, f"HERE {code}", now=SHIFT_START).startswith("Thanks ")


def test_y_twice_in_a_row_books_once_and_the_second_says_already_yours(world):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    assert text(world.worker, world.coop.sms_number, f"Y {code}") == booked_text(shift, code)
    assert text(world.worker, world.coop.sms_number, f"Y {code}") == already_yours(shift, code)
    assert offers[world.worker.id].status == OfferStatus.accepted and offers[world.worker.id].code_live


# --- NO then Y, and Y for a cancelled visit -----------------------------------------


def test_no_then_y_says_you_said_no(world):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    assert text(world.worker, world.coop.sms_number, f"NO {code}").startswith("Thanks Wendy, you said no")
    reply = text(world.worker, world.coop.sms_number, f"Y {code}")
    assert reply == render("said_no")
    assert reply.startswith("You said no to that one")
    assert shift.booked_person_id is None
    assert text(world.worker, world.coop.sms_number, f"NO {code}") == render("said_no")


def test_y_for_a_cancelled_visit_says_it_was_cancelled(world):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    cancel_shift(actor_for(world.leader), shift.id, "hospital", now=NOW)
    reply = text(world.worker, world.coop.sms_number, f"Y {code}")
    assert reply == render("visit_cancelled")
    assert reply.startswith("That visit was cancelled")
    assert shift.status == ShiftStatus.cancelled and shift.booked_person_id is None


def test_y_from_the_booked_worker_after_her_visit_was_cancelled_says_it_was_cancelled(world):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    assert text(world.worker, world.coop.sms_number, f"Y {code}") == booked_text(shift, code)
    cancel_shift(actor_for(world.leader), shift.id, "hospital", now=NOW)
    assert text(world.worker, world.coop.sms_number, f"Y {code}") == render("visit_cancelled")


def test_y_for_a_shift_someone_else_took_still_says_filled(world):
    shift, offers = offered(world)
    assert text(world.worker2, world.coop.sms_number, f"Y {offers[world.worker2.id].code}").startswith("Booked: ")
    assert text(world.worker, world.coop.sms_number, f"Y {offers[world.worker.id].code}") == render("filled")


def test_every_new_reply_fits_one_gsm7_segment_and_names_no_health_details():
    for name in ("said_no", "visit_cancelled"):
        body = render(name)
        assert len(body) <= 160 and body.isascii()
        assert "hospital" not in body.lower()


# --- the number texted picks the co-op ------------------------------------------------


def _second_coop(world) -> Cooperative:
    """Wendy also works in another co-op (a team there), which has its own number."""
    other = world.other_coop
    add_member(make_team(other, name="Bea"), world.worker)
    return other


def test_a_code_texted_to_another_coops_number_books_nothing(world):
    other = _second_coop(world)
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    assert text(world.worker, other.sms_number, f"Y {code}") == render("not_found")
    assert text(world.worker, other.sms_number, f"NO {code}") == render("not_found")
    assert shift.booked_person_id is None and offers[world.worker.id].status == OfferStatus.open
    # A bare Y to the other co-op does not book (or list) this co-op's offer.
    assert text(world.worker, other.sms_number, "Y") == render("no_offers")
    assert shift.booked_person_id is None
    # To the right number it works.
    assert text(world.worker, world.coop.sms_number, f"Y {code}") == booked_text(shift, code)


def test_shifts_cover_and_here_act_only_on_the_texted_coops_shifts(world):
    other = _second_coop(world)
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    text(world.worker, world.coop.sms_number, f"Y {code}")
    assert text(world.worker, other.sms_number, "SHIFTS") == render("no_shifts")
    assert f"({code})" in text(world.worker, world.coop.sms_number, "SHIFTS")
    assert text(world.worker, other.sms_number, f"COVER {code}") == render("not_found")
    assert shift.cover_requested_at is None
    assert text(world.worker, other.sms_number, f"HERE {code}", now=SHIFT_START) == render("not_found")
    assert shift.arrived_at is None
    assert text(world.worker, other.sms_number, f"DONE {code}", now=SHIFT_START + timedelta(hours=2)) \
        == render("not_found")


def test_stop_to_one_coops_number_leaves_the_other_coops_texts_alone(world):
    other = _second_coop(world)
    assert text(world.worker, world.coop.sms_number, "STOP") == render("opted_out")
    # Co-op A's number is silent for her; co-op B's still texts her, and she can still use it.
    assert sms.notify_person(world.worker, "from A", "test", cooperative=world.coop) == "web"
    assert sms.notify_person(world.worker, "from B", "test", cooperative=other) == "sms"
    assert text(world.worker, other.sms_number, "SHIFTS") == render("no_shifts")
    assert text(world.worker, world.coop.sms_number, "SHIFTS") == ""  # opted out there
    rows = db.session.execute(sa.select(OutboundMessage.body, OutboundMessage.from_number)
                              .where(OutboundMessage.person_id == world.worker.id)).all()
    assert rows == [("from B", other.sms_number)]
    # START to co-op A's number brings A back.
    assert text(world.worker, world.coop.sms_number, "START") == render("opted_in")
    assert sms.notify_person(world.worker, "from A again", "test", cooperative=world.coop) == "sms"


def test_stop_to_one_number_skips_only_the_texts_waiting_to_go_from_it(world):
    other = _second_coop(world)
    from_a = sms.enqueue(world.coop, world.worker, "from A", "test")
    from_b = sms.enqueue(other, world.worker, "from B", "test")
    text(world.worker, world.coop.sms_number, "STOP")
    db.session.refresh(from_a)
    db.session.refresh(from_b)
    assert from_a.status == DeliveryStatus.skipped and from_b.status == DeliveryStatus.pending


def test_offers_in_two_coops_are_listed_per_number(world):
    other = _second_coop(world)
    shift_a, offers_a = offered(world)
    team_b = make_team(other, world.leader, name="Cy")
    add_member(team_b, world.worker)
    shift_b = make_shift(team_b, MONDAY + timedelta(days=1, hours=9))
    offers_b = {o.person_id: o for o in offer_shift(actor_for(world.leader), shift_b.id, now=NOW)}
    code_b = offers_b[world.worker.id].code
    # One open offer per co-op: a bare Y to each number books that co-op's one.
    assert text(world.worker, other.sms_number, "Y").startswith("Booked: ")
    assert shift_b.booked_person_id == world.worker.id and shift_a.booked_person_id is None
    assert f"({code_b})" in text(world.worker, other.sms_number, "SHIFTS")
    assert text(world.worker, world.coop.sms_number, "Y") == booked_text(shift_a, offers_a[world.worker.id].code)
