"""Pure rules for accounts: where a login may send you next, session labels and times. No Flask, no database."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from careteams.members.rules import normalise_email, normalise_phone

# What a login, reset or sign-in code form says when it cannot read what was typed.
IDENTIFIER_HELP = "Enter an email address like name@example.org. For a mobile number, type it like 07700 900123."


def login_identifier(text: str | None) -> tuple[str, str]:
    """What a person typed to name their account: ("email", address) or ("phone", E.164).

    An email is anything with an "@" (lower-cased, trimmed); anything else is read as
    a phone number in any UK format (07..., +44 7..., 0044 ..., with spaces, dashes or
    brackets), normalised with `phonenumbers`. Raises ValueError with plain words when
    it is neither.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("Enter your email address or mobile number.")
    if "@" in text:
        local, _, domain = text.partition("@")
        if not local or "." not in domain or any(ch.isspace() for ch in text) or domain.startswith(".") or domain.endswith("."):
            raise ValueError(IDENTIFIER_HELP)
        return "email", normalise_email(text)
    if not any(ch.isdigit() for ch in text):
        raise ValueError(IDENTIFIER_HELP)
    try:
        return "phone", normalise_phone(text)
    except ValueError:
        raise ValueError(IDENTIFIER_HELP) from None


def clean_code(text: str | None, length: int = 6) -> str | None:
    """A typed one-time code without spaces or dashes, or None if it is not `length` digits."""
    digits = "".join(ch for ch in (text or "") if ch not in " -")
    return digits if len(digits) == length and digits.isascii() and digits.isdigit() else None


def code_is_live(used: bool, expires_at: datetime, wrong_tries: int, now: datetime, max_tries: int) -> bool:
    """A sign-in code works until it is used, it expires, or it has been got wrong `max_tries` times."""
    return not used and now < expires_at and wrong_tries < max_tries


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a same-site relative path, else None.

    Browsers forgive a lot in a Location header: they drop tabs and newlines,
    read a backslash as a slash and `//host` or `/\\host` as another site, and
    `http:/host` as a scheme. So anything with a control character, whitespace
    or a backslash is refused outright (in the value as given and once
    percent-decoded), and what is left must parse (urllib.parse.urlsplit) with
    no scheme and no host, as a path starting with one "/" only.
    """
    if not target or len(target) > 2000:
        return None
    for form in (target, unquote(target)):
        if any(unicodedata.category(ch)[0] in "CZ" or ch == "\\" for ch in form):
            return None  # control, format, separator (space) characters, backslashes
        parts = urlsplit(form)  # note: "///x" parses with an empty host, so "//" is checked on the text too
        if form.startswith("//") or parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
            return None
    return target


# (marker in the User-Agent, name shown), first match wins: Edge and Opera say "Chrome"
# too, Chrome says "Safari", so the more particular come first.
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"),
             ("CriOS/", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_name(user_agent: str | None) -> str:
    """A short label for a login session from its User-Agent ("Firefox on Android").

    Only a browser and a system from fixed lists: nothing else of the header
    (versions, build ids) is kept, so the label identifies a device to its owner
    without becoming a fingerprint.
    """
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def is_due_for_touch(last: datetime | None, now: datetime, every: timedelta) -> bool:
    """Whether a last-seen/last-used time is stale enough to write again (at most once per `every`)."""
    return last is None or now - last >= every


def is_idle_past(last_seen: datetime, now: datetime, limit: timedelta) -> bool:
    """A login session unused for longer than `limit` is over."""
    return now - last_seen > limit
