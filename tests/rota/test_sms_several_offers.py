"""Texts with several offers: a bare Y or NO books or declines nothing and lists them
(code, day, time and team, the soonest that fit one segment, then "more on the web"),
OFFERS lists the same way, and N is NO."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, ShiftKind, ShiftStatus
from careteams.rota.services.common import when_text
from careteams.rota.services.offers import offer_shift
from careteams.sms import rules as sms_rules
from careteams.sms.rules import TEMPLATES, Verb, parse, render
from tests.rota.conftest import add_member, make_shift, make_team
from tests.rota.test_sms import NOW, SHIFT_START, offered, say
from tests.sms.conftest import post_signed

LONDON = "Europe/London"


def entry(shift, code, team="Ann") -> str:
    """How one offer reads in a list: code, day and time, team."""
    return f"{code} {when_text(shift, LONDON)} {team}"


def several(world, count, hours_apart=24):
    """`count` offers to the worker, a day apart (soonest first): [(shift, code)]."""
    out = []
    for n in range(count):
        shift, offers = offered(world, SHIFT_START + timedelta(hours=hours_apart * n))
        out.append((shift, offers[world.worker.id].code))
    return out


def statuses(world):
    db.session.flush()
    return {o.code: o.status for o in db.session.query(Offer).filter(Offer.person_id == world.worker.id)}


# --- parsing and help -----------------------------------------------------------------


@pytest.mark.parametrize("body, verb, code", [
    ("N 482", Verb.decline, "482"),
    ("n482", Verb.decline, "482"),
    ("n, 482!", Verb.decline, "482"),
    ("N", Verb.decline, None),
    ("OFFERS", "offers", None),
    ("offers?", "offers", None),
    ("Offer", "offers", None),
])
def test_n_is_no_and_offers_is_a_command(body, verb, code):
    command = parse(body)
    assert (command.verb, command.code) == (verb, code)


def test_help_mentions_offers_and_n_and_fits_one_segment(world):
    reply = say(world, world.worker, "HELP")
    assert "OFFERS" in reply and "NO 482" in reply
    assert sms_rules.segments(reply) == 1


# --- a bare Y ---------------------------------------------------------------------------


def test_a_bare_y_with_one_offer_books_it(world):
    [(shift, code)] = several(world, 1)
    reply = say(world, world.worker, "Y")
    assert reply.startswith("Booked: Mon 4 Jan 09:00-10:00 with Ann's team.") and f"COVER {code}" in reply
    assert shift.booked_person_id == world.worker.id


def test_a_bare_y_with_several_offers_books_nothing_and_lists_day_time_and_team(world):
    offers = several(world, 2)
    reply = say(world, world.worker, "Y")
    assert reply == (f"{TEMPLATES['choose_offer']} {entry(*offers[0])}; {entry(*offers[1])}.")
    assert "nothing is booked" in reply
    assert "Mon 4 Jan 09:00-10:00" in reply and "Tue 5 Jan 09:00-10:00" in reply
    assert all(shift.booked_person_id is None for shift, _ in offers)
    assert set(statuses(world).values()) == {OfferStatus.open}


def test_the_list_names_the_team_only_never_the_kind_or_notes(world):
    shift, offers = offered(world)
    shift.kind, shift.notes = ShiftKind.personal_care, "Insulin at 9, catheter care"
    offered(world, SHIFT_START + timedelta(days=1))
    reply = say(world, world.worker, "Y")
    assert "Insulin" not in reply and "personal" not in reply.lower() and "Ann" in reply


def test_a_bare_y_lists_the_soonest_that_fit_one_segment_and_says_more_on_the_web(world):
    offers = several(world, 6)
    reply = say(world, world.worker, "YES")
    assert sms_rules.gsm7_length(reply) <= 160 and sms_rules.segments(reply) == 1
    listed = [code for _, code in offers if f"{code} " in reply.removeprefix(TEMPLATES["choose_offer"])]
    assert listed == [code for _, code in offers[:len(listed)]]  # the soonest, in order
    assert 1 <= len(listed) < 6
    assert reply.endswith(f"+{6 - len(listed)} more on the web.")
    assert all(shift.booked_person_id is None for shift, _ in offers)


def test_the_segment_limit_holds_with_the_longest_team_names(world):
    long_team = make_team(world.coop, name="Bartholomew-Fitzwilliam Smythe")
    add_member(long_team, world.worker)
    for n in range(5):
        shift = make_shift(long_team, SHIFT_START + timedelta(days=10 + n, hours=1), 3)
        offer_shift(actor_for(long_team.leader), shift.id, now=NOW)
    reply = say(world, world.worker, "OFFERS")
    assert sms_rules.gsm7_length(reply) <= 160 and reply.endswith("more on the web.")
    assert "Bartholomew" in reply and "Thu 14 Jan 10:00-13:00" in reply


# --- OFFERS -----------------------------------------------------------------------------


def test_offers_with_none_says_so(world):
    assert say(world, world.worker, "OFFERS") == TEMPLATES["offers_none"]


def test_offers_with_one_lists_it_and_books_nothing(world):
    [(shift, code)] = several(world, 1)
    assert say(world, world.worker, "OFFERS") == f"{TEMPLATES['offers_list']} {entry(shift, code)}."
    assert shift.booked_person_id is None


def test_offers_with_many_lists_the_soonest_in_one_segment(world):
    offers = several(world, 7)
    reply = say(world, world.worker, "offers")
    assert reply.startswith(TEMPLATES["offers_list"] + " " + entry(*offers[0]))
    assert sms_rules.segments(reply) == 1 and "more on the web" in reply
    assert statuses(world) == {code: OfferStatus.open for _, code in offers}


def test_offers_leaves_out_answered_offers(world):
    offers = several(world, 3)
    say(world, world.worker, f"NO {offers[1][1]}")
    reply = say(world, world.worker, "OFFERS")
    assert reply == f"{TEMPLATES['offers_list']} {entry(*offers[0])}; {entry(*offers[2])}."


# --- N and a bare NO --------------------------------------------------------------------


@pytest.mark.parametrize("word", ["N", "n", "NO"])
def test_n_with_a_code_declines_like_no(world, word):
    shift, offers = offered(world)
    code = offers[world.worker.id].code
    reply = say(world, world.worker, f"{word} {code}")
    assert reply == render("declined", first_name=world.worker.first_name, when=when_text(shift, LONDON),
                           team="Ann's team")
    assert statuses(world)[code] == OfferStatus.declined and shift.booked_person_id is None


@pytest.mark.parametrize("word", ["N", "NO"])
def test_a_bare_n_with_one_offer_declines_it(world, word):
    [(shift, code)] = several(world, 1)
    assert say(world, world.worker, word).startswith(f"Thanks {world.worker.first_name}, you said no to")
    assert statuses(world)[code] == OfferStatus.declined


@pytest.mark.parametrize("word", ["N", "NO"])
def test_a_bare_n_with_several_offers_declines_nothing_and_lists_them(world, word):
    offers = several(world, 2)
    reply = say(world, world.worker, word)
    assert reply == f"{TEMPLATES['choose_decline']} {entry(*offers[0])}; {entry(*offers[1])}."
    assert set(statuses(world).values()) == {OfferStatus.open}


def test_a_bare_n_without_offers_says_there_is_nothing_to_say_no_to(world):
    assert say(world, world.worker, "N") == TEMPLATES["no_offers_to_decline"]


# --- through the signed webhook ---------------------------------------------------------


def webhook_reply(client, world, body, sid):
    params = {"MessageSid": "SM" + sid * 32, "AccountSid": "AC" + "0" * 32, "From": world.worker.phone,
              "To": world.coop.sms_number, "Body": body}
    response = post_signed(client, "/sms/inbound", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    return root[0].text


def test_the_webhook_answers_offers_bare_y_and_n_482(client, world):
    offers = several(world, 2)
    listing = webhook_reply(client, world, "Offers", "c")
    assert listing == f"{TEMPLATES['offers_list']} {entry(*offers[0])}; {entry(*offers[1])}."
    assert webhook_reply(client, world, "y", "d").startswith(TEMPLATES["choose_offer"])
    assert webhook_reply(client, world, f"n {offers[0][1]}", "e").startswith("Thanks ")
    booked = webhook_reply(client, world, "Y", "f")  # one offer left: a bare Y books it
    assert booked.startswith("Booked: Tue 5 Jan 09:00-10:00 with Ann's team.")
    db.session.expire_all()
    assert offers[1][0].status == ShiftStatus.booked and offers[1][0].booked_person_id == world.worker.id
    assert offers[0][0].booked_person_id is None


def test_a_team_name_outside_gsm7_is_spelt_in_it_so_the_list_stays_one_segment(world):
    # One "ë" would make the whole text UCS-2, where a segment holds only 70 characters.
    world.team.display_name = "Zoë"
    offers = several(world, 2)
    reply = say(world, world.worker, "OFFERS")
    assert reply == f"{TEMPLATES['offers_list']} {entry(*offers[0], team='Zoe')}; {entry(*offers[1], team='Zoe')}."
    assert sms_rules.is_gsm7(reply) and sms_rules.segments(reply) == 1


@pytest.mark.parametrize("header", ["choose_offer", "choose_decline", "offers_list"])
@pytest.mark.parametrize("count", [1, 2, 5, 12])
def test_offer_lists_fit_one_segment_at_worst_case_and_keep_every_listed_team(header, count):
    entries = [(f"{n % 10}234", "Wed 30 Dec 10:00-13:00", "W" * 30) for n in range(count)]
    text = sms_rules.offer_list(TEMPLATES[header], entries)
    assert sms_rules.segments(text) == 1 and sms_rules.gsm7_length(text) <= 160
    body = text.removeprefix(TEMPLATES[header] + " ").split(" +")[0]
    listed = body.rstrip(".").split("; ")
    assert all(item.endswith("W" * 8) and "Wed 30 Dec 10:00-13:00" in item for item in listed)
    assert ("more on the web" in text) == (len(listed) < count)
