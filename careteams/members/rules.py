"""Pure rules for people and the register: no Flask, no database."""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Protocol

import phonenumbers

from careteams.members.enums import ContactChannel, MemberClass, MembershipStatus, StaffRoleName

DEFAULT_REGION = "GB"


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164, or raise ValueError with a message for a person."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number, for example 07700 900123 or +44 7700 900123.") from None
    if not (phonenumbers.is_valid_number(number) or _is_fictional_uk_mobile(number)):
        raise ValueError("That is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_fictional_uk_mobile(number: phonenumbers.PhoneNumber) -> bool:
    # Ofcom reserves 07700 900000-900999 for drama and testing; libphonenumber
    # calls them invalid, but the demo, docs and tests need numbers that can
    # never reach a real person.
    return number.country_code == 44 and str(number.national_number).startswith("7700900") and len(str(number.national_number)) == 10


def normalise_email(raw: str) -> str:
    # Addresses are compared case-insensitively in practice; store them lower-case.
    return raw.strip().lower()


STAFF_ROLE_LABELS = {
    StaffRoleName.facilitator: "Facilitator",
    StaffRoleName.secretary: "Secretary",
    StaffRoleName.admin: "Co-op admin",
}

MEMBER_CLASS_LABELS = {
    MemberClass.supported: "Supported member",
    MemberClass.worker: "Worker member",
    MemberClass.advocate: "Advocate member",
    MemberClass.investor: "Investor member",
}


MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.applicant: "Applicant",
    MembershipStatus.active: "Member",
    MembershipStatus.left: "Left",
}


# --- the register ----------------------------------------------------------------

# The steps a membership may take: an applicant is admitted; a member leaves; someone
# who left may be admitted again (rejoin). Nothing goes back to "applicant", and an
# applicant has not joined, so cannot leave.
MEMBERSHIP_STEPS: dict[MembershipStatus, frozenset[MembershipStatus]] = {
    MembershipStatus.applicant: frozenset({MembershipStatus.active}),
    MembershipStatus.active: frozenset({MembershipStatus.left}),
    MembershipStatus.left: frozenset({MembershipStatus.active}),
}


def status_step_refusal(current: MembershipStatus, new: MembershipStatus) -> str | None:
    """Plain words when a membership may not go from `current` to `new`, else None."""
    if new in MEMBERSHIP_STEPS[current]:
        return None
    if new == current == MembershipStatus.active:
        return "This person is already a member: they cannot be admitted twice."
    if new == current == MembershipStatus.left:
        return "This person has left; rejoin them first."
    if new == current:
        return None  # an applicant stays an applicant: nothing to do
    if current == MembershipStatus.applicant:
        return "This person is still an applicant: they have not joined, so they cannot leave."
    return "A member who has been admitted cannot become an applicant again."


def _day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def joining_date_refusal(joined_on: date, today: date, founded_on: date | None = None,
                         left_on: date | None = None) -> str | None:
    """Plain words when `joined_on` cannot be a joining date (or, for someone who left
    on `left_on`, a rejoining date), else None."""
    if joined_on > today:
        return "The joining date cannot be in the future."
    if founded_on is not None and joined_on < founded_on:
        return f"That date is before the co-op started ({_day_words(founded_on)})."
    if left_on is not None and joined_on < left_on:
        return f"They left on {_day_words(left_on)}: they can rejoin only from that day on."
    return None


def leaving_date_refusal(left_on: date, joined_on: date | None, today: date) -> str | None:
    """Plain words when `left_on` cannot be a leaving date, else None: not ahead, not before joining."""
    if left_on > today:
        return "The leaving date cannot be in the future."
    if joined_on is not None and left_on < joined_on:
        return f"They cannot leave before they joined ({_day_words(joined_on)})."
    return None


_POUNDS = re.compile(r"(?P<pounds>\d{1,7})(?:\.(?P<pence>\d{1,2}))?")


def parse_pounds(text: str) -> int:
    """An amount typed in pounds ("£1.00", "1", "2.5", "£1,000") as pence; ValueError in plain words."""
    raw = (text or "").strip().replace(",", "")
    raw = raw.removeprefix("£").strip()
    found = _POUNDS.fullmatch(raw)
    if found is None:
        raise ValueError("Enter an amount in pounds, like 1.00 or £5.")
    return int(found["pounds"]) * 100 + int((found["pence"] or "0").ljust(2, "0"))


def format_pounds(pence: int) -> str:
    """Pence as pounds: 100 -> "£1.00", 123456 -> "£1,234.56"."""
    return f"£{pence // 100:,}.{pence % 100:02d}"


# How far ahead a visit, a timesheet or a pay period may plausibly be. Anything
# beyond is a typing mistake (2062 for 2026), not a plan, and a date at the
# calendar's edge (9999-12-31) would otherwise overflow date arithmetic later.
BUSINESS_YEARS_AHEAD = 5


def business_window(founded_on: date, today: date) -> tuple[date, date]:
    """The dates a co-op's visits, timesheets and pay periods may fall on: from the
    day the co-op was founded (in its own zone) to BUSINESS_YEARS_AHEAD years ahead."""
    try:
        last = today.replace(year=today.year + BUSINESS_YEARS_AHEAD)
    except ValueError:  # 29 February
        last = today.replace(year=today.year + BUSINESS_YEARS_AHEAD, day=28)
    return founded_on, last


def outside_business_window(day: date, founded_on: date, today: date) -> str | None:
    """A plain-words reason when `day` is outside the co-op's business window, else None."""
    first, last = business_window(founded_on, today)
    if day < first:
        return f"That date is before the co-op started ({first:%d %B %Y})."
    if day > last:
        return f"That date is more than {BUSINESS_YEARS_AHEAD} years ahead (after {last:%d %B %Y})."
    return None


# --- how to reach a person -------------------------------------------------------


class Reach(enum.StrEnum):
    """How a notice reaches a person: a text, an email, or only a notice on the website."""

    text = "text"
    email = "email"
    web = "web"


class Reachable(Protocol):
    preferred_channel: ContactChannel
    web_only: bool
    email: str | None
    phone: str | None


def reach_by(person: Reachable, *, must_reach: bool = False) -> Reach:
    """How to tell `person` something, honouring "how to reach me" (My account).

    Web only means notices on the site and nothing sent, unless `must_reach`
    (an invitation, a password reset, a sign-in code: a link the person must get
    and cannot read on a site they cannot get into). Otherwise the channel they
    prefer, falling back to the other one they have; with neither, the website.
    """
    if person.web_only and not must_reach:
        return Reach.web
    if person.preferred_channel == ContactChannel.sms and person.phone:
        return Reach.text
    if person.email:
        return Reach.email
    if person.phone:
        return Reach.text
    return Reach.web
