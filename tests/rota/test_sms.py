"""The rota's text commands, offer texts, reminders and notices, through the SMS
domain's real path (receive_text, the signed webhook, the outbox)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import ContactChannel
from careteams.members.services import actor_for
from careteams.rota import jobs
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services.attendance import alert_missed_visits, reminder_label, send_reminders
from careteams.rota.services.common import when_text
from careteams.rota.services.offers import book_directly, expire_and_escalate, offer_shift
from careteams.rota.services.reading import next_shifts
from careteams.rota.services.shifts import cancel_shift
from careteams.sms import rules as sms_rules
from careteams.sms import services as sms
from careteams.sms.models import OutboundMessage, WebNotice
from careteams.sms.rules import TEMPLATES, DeliveryStatus, render
from tests.factories import PersonFactory
from tests.rota.conftest import MONDAY, add_member, make_shift
from tests.sms.conftest import post_signed

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
SHIFT_START = MONDAY + timedelta(hours=9)  # Mon 4 Jan 2027 09:00 in London (GMT)
_sid = iter(range(1, 10**9))


def say(world, person, body: str, now: datetime = NOW, phone: str | None = None) -> str:
    """`person` texts the co-op's number; returns our reply."""
    return sms.receive_text(f"SMTEST{next(_sid):028d}", phone or person.phone, world.coop.sms_number, body, now=now)


def offered(world, start=SHIFT_START, hours=1.0):
    shift = make_shift(world.team, start, hours)
    offers = offer_shift(actor_for(world.leader), shift.id, now=NOW)
    return shift, {o.person_id: o for o in offers}


def outbox(**where):
    db.session.flush()
    query = sa.select(OutboundMessage).order_by(OutboundMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboundMessage, key) == value)
    return db.session.scalars(query).all()


def booked_text(shift, code, team="Ann"):
    return render("booked", when=when_text(shift, "Europe/London"), team=f"{team}'s team", code=code)


# --- accepting ------------------------------------------------------------------


@pytest.mark.parametrize("word", ["Y", "YES", "ACCEPT", "y", "Accept"])
def test_y_yes_or_accept_with_a_code_books_the_shift(world, word):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    reply = say(world, world.worker, f"{word} {code}")
    assert reply == f"Booked: Mon 4 Jan 09:00-10:00 with Ann's team. Reply COVER {code} if you can't make it."
    assert shift.status == ShiftStatus.booked and shift.booked_person_id == world.worker.id


def test_the_webhook_books_by_code_and_answers_in_twiml(client, world):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    params = {"MessageSid": "SM" + "b" * 32, "AccountSid": "AC" + "0" * 32, "From": world.worker.phone,
              "To": world.coop.sms_number, "Body": f"y-{code}!"}
    response = post_signed(client, "/sms/inbound", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert [child.tag for child in root] == ["Message"]
    assert root[0].text.startswith("Booked: ") and f"COVER {code}" in root[0].text
    assert db.session.get(Shift, shift.id).booked_person_id == world.worker.id


def test_the_second_acceptance_is_told_plainly_that_the_shift_is_filled(world):
    shift, offers = offered(world)
    say(world, world.worker, f"Y {offers[world.worker.id].code}")
    reply = say(world, world.worker2, f"Y {offers[world.worker2.id].code}")
    assert reply == TEMPLATES["filled"] == "Sorry, that shift has just been filled. You are not booked for it."
    assert shift.booked_person_id == world.worker.id
    # Answering again after winning says it is theirs, not "booked" twice.
    code = offers[world.worker.id].code
    assert say(world, world.worker, f"YES {code}").startswith("That shift is already yours: Mon 4 Jan 09:00-10:00")


def test_an_expired_offer_says_so_and_books_nothing(world):
    shift, offers = offered(world)
    late = offers[world.worker.id].expires_at + timedelta(minutes=1)
    assert say(world, world.worker, f"Y {offers[world.worker.id].code}", now=late) == TEMPLATES["expired"]
    assert shift.booked_person_id is None


def test_a_bare_y_books_the_one_open_offer(world):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    assert say(world, world.worker, "Y") == booked_text(shift, code)
    assert shift.booked_person_id == world.worker.id


def test_a_bare_yes_with_several_offers_lists_the_codes_and_books_nothing(world):
    first, offers1 = offered(world)
    second, offers2 = offered(world, SHIFT_START + timedelta(days=1))
    reply = say(world, world.worker, "YES")
    # The list itself (day, time, team, the segment limit) is tested in test_sms_several_offers.py.
    assert reply.startswith(TEMPLATES["choose_offer"])
    assert f" {offers1[world.worker.id].code} Mon 4 Jan" in reply and f" {offers2[world.worker.id].code} Tue 5 Jan" in reply
    assert "nothing is booked" in reply
    assert first.booked_person_id is None and second.booked_person_id is None


def test_a_bare_y_without_offers_says_nothing_was_booked(world):
    assert say(world, world.worker, "Y") == TEMPLATES["no_offers"]


def test_a_worker_booked_elsewhere_at_that_time_is_told_they_are_not_booked(world):
    shift, offers = offered(world)
    add_member(world.other_team, world.worker)
    make_shift(world.other_team, SHIFT_START, status=ShiftStatus.booked, person=world.worker)
    assert say(world, world.worker, f"Y {offers[world.worker.id].code}") == TEMPLATES["double_booked"]
    assert shift.booked_person_id is None


# --- who may: codes belong to their worker ----------------------------------------


@pytest.mark.parametrize("who", ["leader", "wrangler", "circle", "other_worker", "facilitator", "admin", "trial"])
def test_someone_elses_code_learns_nothing_and_changes_nothing(world, who):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    person = getattr(world, who)
    # Hat wearers who are not team members or co-op members are strangers to the
    # SMS domain; either way the answer is generic.
    expected = {TEMPLATES["not_found"], TEMPLATES["unknown_sender"]} if who in ("wrangler", "circle") \
        else {TEMPLATES["not_found"]}
    for body in (f"Y {code}", f"NO {code}", f"HERE {code}", f"COVER {code}"):
        assert say(world, person, body) in expected
    assert shift.booked_person_id is None and shift.status == ShiftStatus.offered
    assert offers[world.worker.id].status == OfferStatus.open


@pytest.mark.parametrize("who", ["stranger", "other_facilitator", "unknown number"])
def test_people_outside_the_co_op_get_the_generic_reply(world, who):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    phone = "+447700900999" if who == "unknown number" else None
    person = world.stranger if phone else getattr(world, who.replace(" ", "_"))
    assert say(world, person, f"Y {code}", phone=phone) == TEMPLATES["unknown_sender"]
    assert shift.booked_person_id is None


def test_an_opted_out_worker_gets_no_answer_and_books_nothing(world):
    shift, offers = offered(world)
    assert say(world, world.worker, "STOP") == TEMPLATES["opted_out"]
    assert say(world, world.worker, f"Y {offers[world.worker.id].code}") == ""
    assert shift.booked_person_id is None


# --- declining, listing, cover, arrival --------------------------------------------


def test_no_with_a_code_declines(world):
    shift, offers = offered(world)
    offer = offers[world.worker.id]
    reply = say(world, world.worker, f"no {offer.code}")
    assert reply == "Thanks Wendy, you said no to Mon 4 Jan 09:00-10:00 with Ann's team. You are not booked."
    assert offer.status == OfferStatus.declined and shift.booked_person_id is None
    # A bare NO with no open offer left says so (with one, it declines it: test_sms_several_offers.py).
    assert say(world, world.worker, "NO") == TEMPLATES["no_offers_to_decline"]


def test_shifts_lists_the_next_five_in_the_teams_time_zone(world):
    # July: London is on summer time, so 09:00 UTC is 10:00 on the worker's clock.
    july = datetime(2027, 7, 5, 9, tzinfo=UTC)
    codes = []
    for day in range(6):
        shift = make_shift(world.team, july + timedelta(days=day))
        book_directly(actor_for(world.leader), shift.id, world.worker.id, now=NOW)
        codes.append(next_shifts(world.worker, 6, now=NOW)[-1].code)
    reply = say(world, world.worker, "SHIFTS")
    # Five shifts fit one segment (weekdays, then team names, give way as the codes'
    # lengths need: rules tests pin that down), on the worker's summer-time clock.
    assert reply.startswith("Your shifts: 5 Jul 10:00-11:00 ") and "9 Jul 10:00-11:00" in reply
    assert all(f"({code})" in reply for code in codes[:5]) and f"({codes[5]})" not in reply
    assert sms_rules.segments(reply) == 1
    assert say(world, world.worker2, "shifts") == TEMPLATES["no_shifts"]


def test_cover_by_code_keeps_the_worker_booked_and_texts_the_others(world):
    shift = make_shift(world.team, SHIFT_START)
    book_directly(actor_for(world.leader), shift.id, world.worker.id, now=NOW)
    code = next_shifts(world.worker, now=NOW)[0].code
    reply = say(world, world.worker, f"COVER {code}")
    assert reply == render("cover_requested", when="Mon 4 Jan 09:00-10:00", team="Ann's team")
    assert shift.booked_person_id == world.worker.id and shift.cover_requested_at is not None
    [cover] = [o for o in outbox(person_id=world.worker2.id) if o.kind == "rota.cover_offer"]
    offer = db.session.scalar(sa.select(Offer).where(Offer.person_id == world.worker2.id, Offer.is_cover))
    assert cover.body == f"Cover needed: Ann's team, Mon 4 Jan 09:00-10:00. Reply Y {offer.code} to take it or NO {offer.code} to say no."
    # worker2 takes it; worker is told by text that they are free.
    assert say(world, world.worker2, f"Y {offer.code}").startswith("Booked: Mon 4 Jan 09:00-10:00")
    assert shift.booked_person_id == world.worker2.id
    assert any(m.body.startswith("Will is covering your shift") for m in outbox(person_id=world.worker.id))
    # Once the shift has started it is too late to ask by text.
    assert say(world, world.worker2, f"COVER {offer.code}", now=SHIFT_START + timedelta(minutes=1)) == \
        TEMPLATES["cover_too_late"]


def test_here_marks_arrival_only_around_the_shift(world):
    shift = make_shift(world.team, SHIFT_START)
    book_directly(actor_for(world.leader), shift.id, world.worker.id, now=NOW)
    code = next_shifts(world.worker, now=NOW)[0].code
    assert say(world, world.worker, f"HERE {code}") == render("arrival_not_now", code=code)
    assert shift.arrived_at is None
    at = SHIFT_START + timedelta(minutes=2)
    assert say(world, world.worker, f"here {code}", now=at) == \
        "Thanks Wendy, your arrival for Mon 4 Jan 09:00-10:00 with Ann's team is recorded."
    assert shift.arrived_at == at
    assert alert_missed_visits(SHIFT_START + timedelta(minutes=30)) == 0


# --- offer texts ------------------------------------------------------------------


def test_each_offered_worker_gets_one_text_asking_for_y_code_from_the_co_ops_number(world):
    shift, offers = offered(world)
    texts = outbox(kind="rota.offer")
    assert sorted(m.person_id for m in texts) == sorted(offers)
    for message in texts:
        code = offers[message.person_id].code
        assert message.body == f"Ann's team: shift Mon 4 Jan 09:00-10:00. Reply Y {code} to take it or NO {code} to say no."
        assert "YES" not in message.body
        assert message.from_number == world.coop.sms_number
        assert message.dedupe_key == f"rota.offer:{offers[message.person_id].id}"
    # Re-running the clock's offer job and offering again add no second text.
    expire_and_escalate(NOW)
    offer_shift(actor_for(world.leader), shift.id, now=NOW)
    assert len(outbox(kind="rota.offer")) == len(offers)


def test_offers_to_someone_who_said_stop_become_web_notices(world):
    say(world, world.worker, "STOP")
    shift, offers = offered(world)
    assert [m.person_id for m in outbox(kind="rota.offer")] == [world.worker2.id]
    [notice] = db.session.scalars(sa.select(WebNotice).where(WebNotice.person_id == world.worker.id)).all()
    assert notice.kind == "rota.offer" and f"Y {offers[world.worker.id].code}" in notice.body


# --- notify_person ------------------------------------------------------------------


def test_notify_person_texts_sms_people_and_records_web_notices_for_the_rest(world, mail_outbox):
    texter = PersonFactory(preferred_channel=ContactChannel.sms)
    emailer = PersonFactory(preferred_channel=ContactChannel.email)
    stopped = PersonFactory(preferred_channel=ContactChannel.sms)
    sms.record_opt_out(stopped.phone, stopped, world.coop, "STOP")
    assert sms.notify_person(texter, "Hello", "test", "k1", cooperative=world.coop) == "sms"
    assert sms.notify_person(emailer, "Hello", "test", "k2", cooperative=world.coop, subject="Hi") == "web"
    assert sms.notify_person(stopped, "Hello", "test", "k3", cooperative=world.coop) == "web"
    # The same key never tells anyone twice, on any channel.
    assert [sms.notify_person(p, "Hello", "test", k) for p, k in ((texter, "k1"), (emailer, "k2"), (stopped, "k3"))] \
        == ["none"] * 3
    assert [m.person_id for m in outbox(kind="test")] == [texter.id]
    assert outbox(kind="test")[0].from_number == world.coop.sms_number
    assert sorted(n.person_id for n in db.session.scalars(sa.select(WebNotice))) == sorted([emailer.id, stopped.id])
    assert [n.body for n in sms.web_notices(emailer)] == ["Hello"]
    db.session.commit()  # emails leave after commit
    assert sorted(m.to[0] for m in mail_outbox) == sorted([emailer.email, stopped.email])
    assert not [m for m in outbox() if m.person_id == stopped.id]


def test_missed_visit_alerts_go_by_web_to_an_opted_out_circle_member(world):
    sms.record_opt_out(world.circle.phone, world.circle, world.coop, "STOP")
    shift = make_shift(world.team, SHIFT_START)
    book_directly(actor_for(world.leader), shift.id, world.worker.id, now=NOW)
    assert alert_missed_visits(SHIFT_START + timedelta(minutes=20)) == 1
    texted = {m.person_id for m in outbox(kind="rota.missed_visit")}
    assert texted == {world.leader.id, world.wrangler.id, world.facilitator.id}
    notice = db.session.scalar(sa.select(WebNotice).where(WebNotice.person_id == world.circle.id))
    assert notice.text == render("missed_visit", when="Mon 4 Jan 09:00-10:00", team="Ann's team")
    assert notice.link.endswith(f"/teams/{world.team.id}/rota/visits/{shift.id}")  # the page that deals with it
    assert all(m.status == DeliveryStatus.pending for m in outbox(kind="rota.missed_visit"))


# --- reminders ------------------------------------------------------------------------


def _booked(world, start=SHIFT_START):
    shift = make_shift(world.team, start)
    book_directly(actor_for(world.leader), shift.id, world.worker.id, now=NOW)
    return shift, next_shifts(world.worker, 10, now=NOW)[-1].code


OFFSETS = [timedelta(hours=24), timedelta(hours=2)]


def reminders():
    return outbox(kind="rota.reminder")


def test_reminders_go_once_at_24_and_2_hours(world):
    shift, code = _booked(world)
    assert send_reminders(SHIFT_START - timedelta(hours=25), OFFSETS) == 0
    assert send_reminders(SHIFT_START - timedelta(hours=23, minutes=58), OFFSETS) == 1
    assert send_reminders(SHIFT_START - timedelta(hours=23, minutes=53), OFFSETS) == 0  # a re-run
    assert send_reminders(SHIFT_START - timedelta(hours=3), OFFSETS) == 0
    assert send_reminders(SHIFT_START - timedelta(hours=1, minutes=59), OFFSETS) == 1
    assert send_reminders(SHIFT_START - timedelta(hours=1, minutes=59), OFFSETS) == 0  # again
    sent = reminders()
    assert [m.dedupe_key for m in sent] == [f"reminder:{shift.id}:24h:{world.worker.id}",
                                            f"reminder:{shift.id}:2h:{world.worker.id}"]
    assert sent[0].body == render("reminder", when="Mon 4 Jan 09:00-10:00", team="Ann's team", code=code)
    assert {m.to_number for m in sent} == {world.worker.phone}
    assert send_reminders(SHIFT_START + timedelta(minutes=1), OFFSETS) == 0  # started


def test_no_reminders_for_cancelled_shifts(world):
    shift, _ = _booked(world)
    cancel_shift(actor_for(world.leader), shift.id, "Hospital admission", now=NOW)
    assert send_reminders(SHIFT_START - timedelta(hours=23), OFFSETS) == 0
    assert send_reminders(SHIFT_START - timedelta(hours=1), OFFSETS) == 0
    assert reminders() == []


def test_a_worker_booked_after_the_reminder_point_gets_only_the_next_one(world):
    shift = make_shift(world.team, SHIFT_START)
    book_directly(actor_for(world.leader), shift.id, world.worker.id, now=SHIFT_START - timedelta(hours=10))
    assert send_reminders(SHIFT_START - timedelta(hours=9), OFFSETS) == 0
    assert send_reminders(SHIFT_START - timedelta(hours=2), OFFSETS) == 1
    assert [m.dedupe_key.split(":")[2] for m in reminders()] == ["2h"]


def test_a_clock_that_was_down_does_not_send_a_stale_reminder(world):
    _booked(world)
    assert send_reminders(SHIFT_START - timedelta(hours=1), OFFSETS) == 1
    assert send_reminders(SHIFT_START - timedelta(minutes=50), OFFSETS) == 0
    assert [m.dedupe_key.split(":")[2] for m in reminders()] == ["2h"]


def test_the_reminder_job_uses_the_configured_offsets(world, app):
    _booked(world)
    app.config["ROTA_REMINDER_HOURS"] = (48,)
    assert jobs.reminders(SHIFT_START - timedelta(hours=47)) == 1
    assert jobs.reminders(SHIFT_START - timedelta(hours=1)) == 0  # 2 hours is not configured now
    assert [m.dedupe_key.split(":")[2] for m in reminders()] == ["48h"]


def test_the_default_reminder_offsets_are_24_and_2_hours(app):
    assert tuple(app.config["ROTA_REMINDER_HOURS"]) == (24, 2)
    assert reminder_label(timedelta(minutes=90)) == "90m"


def test_an_opted_out_worker_gets_reminders_on_the_website_only(world):
    shift, _ = _booked(world)
    say(world, world.worker, "STOP")
    assert send_reminders(SHIFT_START - timedelta(hours=2), OFFSETS) == 1
    assert reminders() == []
    notice = db.session.scalar(sa.select(WebNotice).where(WebNotice.kind == "rota.reminder"))
    assert notice.person_id == world.worker.id and notice.dedupe_key == f"reminder:{shift.id}:2h:{world.worker.id}"


def test_my_notices_page_shows_only_my_own_notices(world, client, login):
    world.worker.preferred_channel = ContactChannel.email
    assert sms.notify_person(world.worker, "Reminder: Mon 4 Jan 09:00-10:00 with Ann's team.", "test", "n1") == "web"
    sms.record_opt_out(world.worker2.phone, world.worker2, world.coop, "STOP")
    sms.notify_person(world.worker2, "Nobody has taken the shift Mon 4 Jan", "test", "n2", cooperative=world.coop)
    assert client.get("/my/notices").status_code in (302, 401)  # logged out
    login(world.worker2)
    page = client.get("/my/notices").get_data(as_text=True)
    assert "Nobody has taken the shift Mon 4 Jan" in page
    assert "Reminder: Mon 4 Jan" not in page  # Wendy's notice is hers alone
