"""The pure rules: parsing texts, templates that fit one segment, retries and statuses."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from careteams.sms import rules
from careteams.sms.rules import DeliveryStatus as S
from careteams.sms.rules import SendOutcome, Verb, parse


@pytest.mark.parametrize("body, verb, code", [
    ("Y 482", Verb.accept, "482"),
    ("y482", Verb.accept, "482"),
    ("  yes   482 ", Verb.accept, "482"),
    ("Yes, 482!", Verb.accept, "482"),
    ("ACCEPT #482", Verb.accept, "482"),
    ("accept-482.", Verb.accept, "482"),
    ("Y", Verb.accept, None),
    ("yes", Verb.accept, None),
    ("Yes please", Verb.accept, None),
    ("NO 482", Verb.decline, "482"),
    ("no, 482", Verb.decline, "482"),
    ("decline 482", Verb.decline, "482"),
    ("SHIFTS", Verb.shifts, None),
    ("shifts?", Verb.shifts, None),
    ("Cover 482", Verb.cover, "482"),
    ("here 482", Verb.here, "482"),
    ("HERE: 482", Verb.here, "482"),
    ("done 482", Verb.done, "482"),
    ("help", Verb.help, None),
    ("Help!", Verb.help, None),
    ("info", Verb.help, None),
    ("what time is it", Verb.unknown, None),
    ("", Verb.unknown, None),
    ("!!!", Verb.unknown, None),
    ("482", Verb.unknown, None),
])
def test_parse_commands(body, verb, code):
    command = parse(body)
    assert (command.verb, command.code) == (verb, code)


@pytest.mark.parametrize("body", ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "CANCEL", "end", "QUIT",
                                  "STOP texting me", "quit please"])
def test_opt_out_words(body):
    assert parse(body).verb == Verb.stop


@pytest.mark.parametrize("body", ["CANCEL 482", "cancel my shift", "END 482"])
def test_cancel_with_more_words_is_not_an_opt_out(body):
    # Twilio only opts out on the single word; "cancel 482" is someone wanting cover.
    assert parse(body).verb == Verb.cancel_hint


@pytest.mark.parametrize("body", ["START", "start", "UNSTOP", "Unstop!"])
def test_opt_in_words(body):
    assert parse(body).verb == Verb.start


def test_bare_yes_is_recognised_as_twilio_opt_in_word_but_y_is_not():
    assert parse("YES").is_bare_yes
    assert parse(" yes! ").is_bare_yes
    assert not parse("Y").is_bare_yes
    assert not parse("YES 482").is_bare_yes
    assert not parse("accept").is_bare_yes


@pytest.mark.parametrize("body, times", [
    ("DONE 482 10:00-13:00", (time(10), time(13))),
    ("done 482 10:00 - 13:30", (time(10), time(13, 30))),
    ("Done 482 9.30 to 13.00", (time(9, 30), time(13))),
    ("done 482 0930-1300", (time(9, 30), time(13))),
    ("done 482", None),
    ("done 482 10:00", None),
    ("done 482 25:00-26:00", None),
    ("done 482 10:00-13:00-14:00", None),
])
def test_done_with_times(body, times):
    command = parse(body)
    assert command.verb == Verb.done and command.code == "482"
    assert command.times == times


def test_parse_takes_the_first_code():
    assert parse("Y 482 483").code == "482"


@pytest.mark.parametrize("name", sorted(rules.TEMPLATES))
def test_every_template_fits_one_gsm7_segment_at_worst_case_lengths(name):
    text = rules.render(name, **rules.worst_case_values(name))
    assert rules.is_gsm7(text), f"{name} has characters outside GSM-7"
    assert rules.gsm7_length(text) <= 160, f"{name} is {rules.gsm7_length(text)} characters"
    assert rules.segments(text) == 1


@pytest.mark.parametrize("name", sorted(rules.TEMPLATES))
def test_templates_carry_only_names_times_and_codes(name):
    # No template has a slot for notes, plans or anything a health detail could ride in.
    assert rules.placeholders(name) <= {"first_name", "team", "cooperative", "when", "code", "codes", "feature",
                                        "keyword"}


def test_render_clips_long_values_and_refuses_unknown_fields():
    text = rules.render("booked", when="Tue 3 Dec 10:00-13:00", team="A" * 200, code="482")
    assert "A" * 30 in text and "A" * 31 not in text
    with pytest.raises(KeyError):
        rules.render("booked", when="x", team="y", code="1", notes="diabetic")


def test_rota_replies_are_definitive_about_the_booking():
    # A worker must never be left thinking they have a shift they do not.
    for name in ("filled", "expired", "declined", "double_booked", "cannot_take", "no_offers", "choose_offer"):
        text = rules.TEMPLATES[name]
        assert "not booked" in text or "nothing is booked" in text or "nothing was booked" in text, name
    assert rules.render("booked", when="Tue 3 Dec 10:00-13:00", team=rules.team_label("Ann"), code="482") == \
        "Booked: Tue 3 Dec 10:00-13:00 with Ann's team. Reply COVER 482 if you can't make it."
    # Offer texts ask for "Y 482", never a lone YES (Twilio's opt-in word).
    for name in ("offer", "cover_offer"):
        text = rules.render(name, when="Tue 3 Dec 10:00-13:00", team="Ann's team", code="482")
        assert "Y 482" in text and "YES" not in text


def test_team_label_fits_its_field_with_the_suffix():
    assert rules.team_label("Ann") == "Ann's team"
    label = rules.team_label("A" * 100)
    assert label.endswith("'s team") and len(label) == rules.FIELD_LIMITS["team"]


WHEN = "Tue 30 Dec 10:00-13:00"


def test_shift_list_fits_one_segment_at_worst_case():
    # Five shifts, the longest team names and four-digit codes.
    entries = [(WHEN, "A" * 30, f"{n}234") for n in range(5)]
    text = rules.shift_list(entries)
    assert rules.segments(text) == 1 and rules.gsm7_length(text) <= 160
    assert text.startswith(rules.SHIFT_LIST_PREFIX)
    # Every shift is still there with its code; the team names gave way first.
    assert all(f"({n}234)" in text for n in range(5))


def test_shift_list_keeps_team_names_when_there_is_room():
    text = rules.shift_list([(WHEN, "Ann", "482"), ("Thu 1 Jan 09:00-10:00", "Bill", "913")])
    assert text == "Your shifts: Tue 30 Dec 10:00-13:00 Ann (482); Thu 1 Jan 09:00-10:00 Bill (913)."


def test_shift_list_leaves_shifts_off_rather_than_overflow():
    entries = [(WHEN, "A" * 30, f"{n}234") for n in range(8)]
    text = rules.shift_list(entries)
    assert rules.gsm7_length(text) <= 160
    shown = sum(f"({n}234)" in text for n in range(8))
    assert 0 < shown < 8 and f"+{8 - shown} more" in text


def test_segments_counts_gsm7_extension_characters_twice_and_unicode_as_ucs2():
    assert rules.segments("a" * 160) == 1
    assert rules.segments("a" * 161) == 2
    assert rules.segments("€" * 80) == 1 and rules.segments("€" * 81) == 2
    assert rules.segments("’" + "a" * 69) == 1
    assert rules.segments("’" + "a" * 70) == 2
    assert not rules.is_gsm7("Zoë’s team")


def test_retry_delay_doubles_and_is_capped():
    assert rules.retry_delay(1) == timedelta(seconds=30)
    assert rules.retry_delay(2) == timedelta(seconds=60)
    assert rules.retry_delay(3) == timedelta(seconds=120)
    assert rules.retry_delay(30) == timedelta(hours=1)


@pytest.mark.parametrize("status, outcome", [
    (429, SendOutcome.retry), (503, SendOutcome.retry),
    (500, SendOutcome.unknown), (502, SendOutcome.unknown), (504, SendOutcome.unknown),
    (400, SendOutcome.failed), (401, SendOutcome.failed), (404, SendOutcome.failed),
])
def test_http_errors_retry_only_where_twilio_cannot_have_accepted(status, outcome):
    assert rules.outcome_for_http_error(status) == outcome


@pytest.mark.parametrize("current, reported, expected", [
    (S.queued, S.sent, S.sent),
    (S.sent, S.delivered, S.delivered),
    (S.delivered, S.sent, S.delivered),  # late callback: never backwards
    (S.sent, S.queued, S.sent),
    (S.unknown, S.delivered, S.delivered),  # a callback settles an unknown send
    (S.unknown, S.queued, S.queued),
    (S.claimed, S.sent, S.sent),
    (S.failed, S.delivered, S.failed),  # final is final
    (S.skipped, S.delivered, S.skipped),
    (S.pending, S.delivered, S.pending),  # never sent: the callback is stale or forged
])
def test_next_status(current, reported, expected):
    assert rules.next_status(current, reported) == expected


def test_twilio_statuses_map_to_ours():
    assert rules.status_from_twilio("accepted") == S.queued
    assert rules.status_from_twilio("Delivered") == S.delivered
    assert rules.status_from_twilio("canceled") == S.failed
    assert rules.status_from_twilio("nonsense") is None
    assert rules.status_from_twilio(None) is None
