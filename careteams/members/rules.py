"""Pure rules for people and the register: no Flask, no database."""

from __future__ import annotations

import phonenumbers

from careteams.members.enums import MemberClass, StaffRoleName

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
