"""Pure rules for text messages: no Flask, no database.

- `parse(body)` turns what someone texted into a `Command`;
- the message templates, and what fits one GSM-7 segment;
- how long to wait before retrying a send, and how Twilio's delivery statuses map
  to ours.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import time, timedelta

# The enums live in enums.py; they stay importable from here (`rules.Verb`).
from careteams.sms.enums import DeliveryStatus, SendOutcome, Verb

# --- commands -----------------------------------------------------------------

# Verbs that other domains handle (the rota registers handlers for them).
DISPATCHED_VERBS = frozenset({Verb.accept, Verb.decline, Verb.shifts, Verb.offers, Verb.cover, Verb.here,
                              Verb.done})
# Verbs that make no sense without a shift code.
CODE_REQUIRED = frozenset({Verb.cover, Verb.here, Verb.done})

# Twilio's own opt-out and opt-in words. Twilio acts on them only when they are the
# whole message; it still forwards them to us, and we keep our own flag in step.
TWILIO_OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
TWILIO_OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
# "STOP texting me" is not a Twilio opt-out (not a single word) but its meaning is
# plain, so we honour it. CANCEL and END are ordinary words ("cancel 482"), so only
# the single word opts out.
_OPT_OUT_LEADERS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "QUIT"})

_KEYWORDS: dict[str, Verb] = {
    "Y": Verb.accept, "YES": Verb.accept, "ACCEPT": Verb.accept,
    "N": Verb.decline, "NO": Verb.decline, "DECLINE": Verb.decline,
    "SHIFTS": Verb.shifts, "SHIFT": Verb.shifts,
    "OFFERS": Verb.offers, "OFFER": Verb.offers,
    "COVER": Verb.cover,
    "HERE": Verb.here,
    "DONE": Verb.done,
    "HELP": Verb.help, "INFO": Verb.help,
}

# Letters, clock times (10:00, 9.30) and runs of digits; everything else separates.
_TOKEN = re.compile(r"[A-Z]+|\d{1,2}[:.]\d{2}|\d+")
_CODE = re.compile(r"\d{1,8}")
_CLOCK = re.compile(r"(\d{1,2})[:.]?(\d{2})")


@dataclass(frozen=True)
class Command:
    verb: Verb
    keyword: str = ""  # the word that chose the verb, upper-case ("YES", "Y"...)
    code: str | None = None  # the shift or offer code: digits only
    times: tuple[time, time] | None = None  # DONE 482 10:00-13:00
    single_word: bool = False  # the whole message was the keyword

    @property
    def is_bare_yes(self) -> bool:
        """A lone YES: Twilio's opt-in word as well as an acceptance."""
        return self.keyword == "YES" and self.single_word


def tokens(body: str) -> list[str]:
    """Upper-case words and numbers, ignoring spaces and punctuation."""
    text = unicodedata.normalize("NFKC", body or "").upper()
    return _TOKEN.findall(text)


def parse(body: str) -> Command:
    """What a text asks for. Tolerant of case, spacing and punctuation ("y-482!")."""
    words = tokens(body)
    if not words:
        return Command(Verb.unknown)
    first, rest = words[0], words[1:]
    single = not rest
    if first in TWILIO_OPT_OUT_WORDS and single:
        return Command(Verb.stop, first, single_word=True)
    if first in _OPT_OUT_LEADERS:
        return Command(Verb.stop, first)
    if first in ("CANCEL", "END"):
        return Command(Verb.cancel_hint, first)
    if first in ("START", "UNSTOP"):
        return Command(Verb.start, first, single_word=single)
    verb = _KEYWORDS.get(first)
    if verb is None:
        return Command(Verb.unknown, first)
    code = next((w for w in rest if _CODE.fullmatch(w)), None)
    times = None
    if verb == Verb.done and code is not None:
        times = parse_times(rest[rest.index(code) + 1:])
    return Command(verb, first, code, times, single_word=single)


def parse_times(words: list[str]) -> tuple[time, time] | None:
    """Two clock times (10:00 13:00, 1000 1300, 9.30 to 13.00), or None."""
    clocks = []
    for word in words:
        if word == "TO":
            continue
        found = _parse_clock(word)
        if found is None:
            return None
        clocks.append(found)
    if len(clocks) != 2:
        return None
    return clocks[0], clocks[1]


def _parse_clock(word: str) -> time | None:
    match = _CLOCK.fullmatch(word)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


# --- message templates --------------------------------------------------------

# Every text the product sends is built from one of these. Values are limited to
# the placeholders below (first names, team display names, times and codes), so
# no template can carry health or support-plan details.
FIELD_LIMITS = {
    "first_name": 20,
    "team": 30,
    "cooperative": 30,
    "when": 28,  # "Tue 3 Dec 10:00-13:00"
    "code": 8,
    "feature": 24,
    "keyword": 8,
    "codes": 40,  # "482, 913, 207"
}

TEMPLATES = {
    "help": "Texts: Y 482 take a shift, NO 482 say no, OFFERS your offers, SHIFTS your shifts, "
            "COVER 482 need cover, HERE 482 arrived, DONE 482 finished. STOP ends texts.",
    "unknown_sender": "Sorry, we don't recognise this number. Please contact your co-op to update your details.",
    "opted_out": "You won't get any more texts from this number. Reply START to get them again.",
    "opted_in": "You'll get texts from this number again. Reply HELP for the commands or STOP to end them.",
    "opted_out_help": "You have turned texts off. Reply START to get them again. Your co-op can also help.",
    "not_available": "Sorry, {feature} by text isn't available yet. Please use the website. Reply HELP for help.",
    "missing_code": "Please add the shift code, for example {keyword} 482.",
    "cancel_hint": "To ask for cover for a shift, reply COVER and the shift code, for example COVER 482.",
    "not_found": "Sorry, that code doesn't match anything you can do. Reply SHIFTS to see your shifts.",
    "try_again": "Sorry, something changed while we were answering. Please try again in a minute.",
    # For the rota's handlers and reminders (definitive answers, never ambiguous).
    "offer": "{team}: shift {when}. Reply Y {code} to take it or NO {code} to say no.",
    "booked": "Booked: {when} with {team}. Reply COVER {code} if you can't make it.",
    "filled": "Sorry, that shift has just been filled. You are not booked for it.",
    "expired": "That offer has expired. You are not booked for it.",
    "said_no": "You said no to that one, so you are not booked for it. Reply SHIFTS to see your shifts.",
    "visit_cancelled": "That visit was cancelled, so you are not booked for it. Reply SHIFTS to see your shifts.",
    "declined": "Thanks {first_name}, you said no to {when} with {team}. You are not booked.",
    "reminder": "Reminder: {when} with {team}. Reply HERE {code} when you arrive, COVER {code} if you can't make it.",
    "reminder_plain": "Reminder: {when} with {team}.",
    "cover_offer": "Cover needed: {team}, {when}. Reply Y {code} to take it or NO {code} to say no.",
    # Headers of `offer_list` (the offers follow: code, day and time, team).
    "choose_offer": "Several offers, so nothing is booked yet. Reply Y and the code:",
    "choose_decline": "Several offers, so you have not said no to any. Reply NO and the code:",
    "offers_list": "Your offers (reply Y and the code to take one):",
    "no_offers": "You have no open shift offers, so nothing was booked. Reply SHIFTS to see your shifts.",
    "no_offers_to_decline": "You have no open shift offers, so there is nothing to say no to.",
    "offers_none": "You have no open shift offers. Reply SHIFTS to see your shifts.",
    "withdrawn_clash": "That offer was withdrawn because you are booked at that time, so you are not booked for it. "
                       "Reply SHIFTS to see your shifts.",
    "already_yours": "That shift is already yours: {when} with {team}. Reply COVER {code} if you can't make it.",
    "double_booked": "Sorry, you are already booked at that time, so you are not booked for this shift.",
    "cannot_take": "Sorry, you can't take that shift, so you are not booked for it. Please ask your team.",
    "no_shifts": "You have no shifts booked. Reply HELP for the commands.",
    "cover_requested": "We're looking for cover for {when} with {team}. You stay booked until someone takes it.",
    "cover_too_late": "That shift has already started, so cover can't be asked for by text. Please call your team.",
    "arrived": "Thanks {first_name}, your arrival for {when} with {team} is recorded.",
    "arrival_not_now": "You can reply HERE {code} from 2 hours before the shift until it ends.",
    # Notices from the rota (texted to people who prefer texts, else on the website and by email).
    "booked_by_team": "You are booked: {when} with {team}. Reply COVER {code} if you can't make it.",
    "cover_found": "{first_name} is covering your shift {when} with {team}. You are no longer booked for it.",
    "cancelled": "Your shift {when} with {team} is cancelled. You are not booked for it.",
    "unbooked": "{when} with {team} is no longer booked for you: the shift changed or you left the team.",
    "swap_proposed": "{first_name} asks to swap a shift with you. Please answer on the website.",
    "swap_approved": "Your swap with {first_name} is approved: you are booked {when} with {team}. See My shifts.",
    "swap_refused": "Your swap with {first_name} was not approved, so your shifts stay as they were. See My shifts.",
    "not_filled_circle": "Nobody has taken the shift {when} with {team} yet. Please check the rota.",
    "not_filled_facilitators": "The shift {when} with {team} is still not filled. Please check the rota.",
    "missed_visit": "Nobody has marked arrival for the visit {when} with {team}. Please check all is well.",
    # To the leader when a facilitator acts on a visit the rota passed to them.
    "escalated_offered": "Nobody took {when} with {team}, so a facilitator offered it to the co-op's "
                         "workers. We'll say who takes it.",
    "escalated_booked": "{first_name}, a worker of the co-op, took the shift {when} with {team}.",
}

_PLACEHOLDER = re.compile(r"{(\w+)}")


def placeholders(name: str) -> set[str]:
    return set(_PLACEHOLDER.findall(TEMPLATES[name]))


def render(name: str, **values: object) -> str:
    """Fill a template, cutting each value to its limit so the text stays short."""
    clipped = {}
    for key, value in values.items():
        text = " ".join(str(value).split())
        limit = FIELD_LIMITS.get(key)
        if limit is None:
            raise KeyError(f"{key!r} is not a field texts may carry")
        clipped[key] = text[:limit].rstrip()
    return TEMPLATES[name].format(**clipped)


def team_label(display_name: str) -> str:
    """ "Ann's team": the team's display name, clipped so the label fits its field."""
    name = " ".join(str(display_name).split())[:FIELD_LIMITS["team"] - len("'s team")].rstrip()
    return f"{name}'s team"


SHIFT_LIST_PREFIX = "Your shifts: "


def shift_list(entries: list[tuple[str, str, str | None]], limit: int = 160) -> str:
    """Booked shifts as one short text: (when, team display name, code) each.

    Team names are shortened, then the weekdays dropped, then the team names, then the last shifts
    left off (with "+N more"), so that the list fits one segment of `limit` characters.
    """
    def build(items, width, weekday, more):
        parts = []
        for when, team, code in items:
            when = when[:FIELD_LIMITS["when"]]
            if not weekday:
                when = when.split(" ", 1)[-1]  # "Tue 3 Dec 10:00-13:00" -> "3 Dec 10:00-13:00"
            name = " ".join(str(team).split())[:width].rstrip() if width else ""
            parts.append(" ".join(p for p in (when, name, f"({code})" if code else "") if p))
        text = SHIFT_LIST_PREFIX + "; ".join(parts) + "."
        return text + (f" +{more} more on the website." if more else "")

    for count in range(len(entries), 0, -1):
        more = len(entries) - count
        for width, weekday in ((20, True), (12, True), (20, False), (12, False), (8, False), (0, False)):
            text = build(entries[:count], width, weekday, more)
            if gsm7_length(text) <= limit:
                return text
    return build(entries[:1], 0, False, len(entries) - 1)


OFFER_LIST_MORE = " +{more} more on the web."


def offer_list(header: str, entries: list[tuple[str, str, str]], limit: int = 160) -> str:
    """Open offers as one short text after `header`: (code, when, team display name) each,
    soonest first. Each listed offer keeps its code, day, time and team; team names are
    spelt in GSM-7 ("Zoë" is "Zoe": one character outside it would make the text UCS-2, 70
    characters a segment) and shortened first, then the last offers left off (with "+N more
    on the web"), so the text fits one segment of `limit` characters."""
    def build(items, width, more):
        parts = []
        for code, when, team in items:
            name = " ".join(gsm7_fold(team).split())[:width].rstrip()
            parts.append(" ".join(p for p in (code[:FIELD_LIMITS["code"]], when[:FIELD_LIMITS["when"]], name) if p))
        text = f"{header} " + "; ".join(parts) + "."
        return text + (OFFER_LIST_MORE.format(more=more) if more else "")

    for count in range(len(entries), 0, -1):
        for width in (20, 12, 8):
            text = build(entries[:count], width, len(entries) - count)
            if is_gsm7(text) and gsm7_length(text) <= limit:
                return text
    return build(entries[:1], 8, len(entries) - 1)


# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


_GSM7_LOOKALIKES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                  "\u2013": "-", "\u2014": "-"})


def gsm7_fold(text: str) -> str:
    """`text` in GSM-7: curly quotes and dashes made plain, accents it lacks dropped
    ("Zoë" -> "Zoe"), anything else left out."""
    out = []
    for char in str(text).translate(_GSM7_LOOKALIKES):
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
            continue
        out.extend(c for c in unicodedata.normalize("NFKD", char) if c in GSM7_BASIC)
    return "".join(out)


def gsm7_length(text: str) -> int:
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def segments(text: str) -> int:
    """How many SMS segments `text` costs (GSM-7 where it can, else UCS-2)."""
    if is_gsm7(text):
        length = gsm7_length(text)
        return 1 if length <= 160 else math.ceil(length / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def worst_case_values(name: str) -> dict[str, str]:
    """The longest values a template can be filled with (for the length tests)."""
    fill = {key: (string.ascii_letters * 2)[:limit] for key, limit in FIELD_LIMITS.items()}
    return {key: fill[key] for key in placeholders(name)}


# --- sending ------------------------------------------------------------------

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# A claimed message whose sender vanished mid-request may or may not have gone:
# after this long it is marked unknown (for the status callback to settle), never resent.
CLAIM_TIMEOUT = timedelta(minutes=10)


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: doubling, capped."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


# Twilio errors that say the message was refused before it was accepted and that
# another try may succeed.
RETRYABLE_HTTP_STATUSES = frozenset({429, 503})
OPTED_OUT_ERROR = 21610


def outcome_for_http_error(status: int) -> SendOutcome:
    """What an HTTP error from Twilio's API means for this message."""
    if status in RETRYABLE_HTTP_STATUSES:
        return SendOutcome.retry
    if status >= 500:
        # A 500/502/504 may come after Twilio queued the message.
        return SendOutcome.unknown
    return SendOutcome.failed


FINAL_STATUSES = frozenset({DeliveryStatus.delivered, DeliveryStatus.undelivered, DeliveryStatus.failed,
                            DeliveryStatus.skipped})

_TWILIO_STATUS = {
    "accepted": DeliveryStatus.queued,
    "scheduled": DeliveryStatus.queued,
    "queued": DeliveryStatus.queued,
    "sending": DeliveryStatus.queued,
    "sent": DeliveryStatus.sent,
    "delivered": DeliveryStatus.delivered,
    "read": DeliveryStatus.delivered,
    "undelivered": DeliveryStatus.undelivered,
    "failed": DeliveryStatus.failed,
    "canceled": DeliveryStatus.failed,
}

# Callbacks can arrive out of order; a status only ever moves forward.
_RANK = {
    DeliveryStatus.pending: 0,
    DeliveryStatus.claimed: 0,
    DeliveryStatus.unknown: 0,
    DeliveryStatus.queued: 1,
    DeliveryStatus.sent: 2,
    DeliveryStatus.delivered: 3,
    DeliveryStatus.undelivered: 3,
    DeliveryStatus.failed: 3,
    DeliveryStatus.skipped: 3,
}


def status_from_twilio(value: str | None) -> DeliveryStatus | None:
    return _TWILIO_STATUS.get((value or "").strip().lower())


def next_status(current: DeliveryStatus, reported: DeliveryStatus) -> DeliveryStatus:
    """The status after a callback reports `reported`: never backwards, never past final."""
    if current in FINAL_STATUSES or current == DeliveryStatus.pending:
        # pending: not sent yet, so a callback for it is stale or forged.
        return current
    return reported if _RANK[reported] > _RANK[current] else current
