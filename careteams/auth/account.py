"""My account: a person's own name, contact details, how to reach them, password,
sign-in methods, login sessions and API tokens. Use cases; flush only.

A new email address or mobile number takes effect only when the 6-digit code sent
TO IT is typed in (auth.models.ContactChange). Everything here acts on the person
making the request and nobody else: another person's session or token is as
invisible as a missing one (404).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError as MarshmallowValidationError
from marshmallow import validate

from careteams import notify
from careteams.auth.enums import ContactKind, SessionEnd
from careteams.auth.models import ContactChange, LoginSession
from careteams.auth.passwords import verify_password
from careteams.auth.rules import is_idle_past
from careteams.auth.services import set_password
from careteams.db import utcnow
from careteams.errors import NotFound, ValidationError
from careteams.extensions import db
from careteams.members.enums import ContactChannel
from careteams.members.models import Person
from careteams.members.rules import Reach, normalise_email, normalise_phone

CODE_TTL = timedelta(minutes=15)
MAX_TRIES = 5  # wrong codes before the change is dropped and a new code is needed
NAME_MAX = 200

FIELD_OF = {ContactKind.email: "email", ContactKind.phone: "phone"}
WORDS_OF = {ContactKind.email: "email address", ContactKind.phone: "mobile number"}


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


class WrongCode(ValidationError):
    """A wrong, expired or used-up code. The page commits before showing it, so
    the count of tries (or the dropped change) is kept: refusing must not undo it."""


# --- name ---------------------------------------------------------------------


def change_name(person: Person, name: str) -> None:
    """The name the co-op and the team see."""
    name = (name or "").strip()
    if not name:
        raise _refuse("name", "Enter your name.")
    if len(name) > NAME_MAX:
        raise _refuse("name", f"Enter {NAME_MAX} characters or fewer.")
    person.name = name
    db.session.flush()


# --- email and mobile, changed only with a code sent to the new one ---------------


def _code_hash(change_person_id: int, kind: ContactKind, value: str, code: str) -> str:
    # Keyed with the app's secret: six digits alone would be guessed from a leaked hash.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{change_person_id}:{kind}:{value}:{code}".encode(), hashlib.sha256).hexdigest()


def _normalised(kind: ContactKind, raw: str) -> str:
    raw = (raw or "").strip()
    if kind == ContactKind.email:
        if not raw:
            raise _refuse("email", "Enter your new email address.")
        try:
            validate.Email()(raw)
        except MarshmallowValidationError:
            raise _refuse("email", "Enter an email address like name@example.org.") from None
        if len(raw) > 254:
            raise _refuse("email", "Enter 254 characters or fewer.")
        return normalise_email(raw)
    if not raw:
        raise _refuse("phone", "Enter your new mobile number.")
    try:
        return normalise_phone(raw)
    except ValueError as exc:
        raise _refuse("phone", str(exc)) from None


def pending_change(person: Person, kind: ContactKind) -> ContactChange | None:
    """The person's change of this kind waiting for its code, if any (expired ones too)."""
    return db.session.scalar(sa.select(ContactChange).where(
        ContactChange.person_id == person.id, ContactChange.kind == kind))


def request_contact_change(person: Person, kind: ContactKind, raw: str, now: datetime | None = None) -> ContactChange:
    """Send a 6-digit code to a new email address or mobile number; it takes effect
    when the code is typed in (confirm_contact_change). Asking again replaces the code.

    When the new one already belongs to another account, that address gets a
    note instead of a code and this page looks the same: nobody learns from it
    whether an account exists."""
    now = now or utcnow()
    value = _normalised(kind, raw)
    field = FIELD_OF[kind]
    if getattr(person, field) == value:
        raise _refuse(field, f"That is already your {WORDS_OF[kind]}.")
    taken = db.session.scalar(sa.select(Person.id).where(getattr(Person, field) == value, Person.id != person.id))
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.execute(sa.delete(ContactChange).where(ContactChange.person_id == person.id, ContactChange.kind == kind))
    change = ContactChange(person_id=person.id, kind=kind, new_value=value, created_at=now,
                           expires_at=now + CODE_TTL, tries=0,
                           # for a taken address the hash matches no code anybody was sent
                           code_hash=_code_hash(person.id, kind, value, secrets.token_hex(16) if taken else code))
    db.session.add(change)
    db.session.flush()
    minutes = int(CODE_TTL.total_seconds() // 60)
    if kind == ContactKind.phone:
        body = (f"Your careteams code is {code}. It works for {minutes} minutes. If you did not ask for it, ignore this text."
                if not taken else "Someone asked to use this number on careteams, but it already belongs to an account. If it was you, log in with it instead.")
        notify.queue(notify.Text(to=value, body=body, kind="account_code"))
    else:
        body = (f"Hello,\n\nYour careteams code is {code}. Type it on the My account page within {minutes} minutes "
                "to use this email address. If you did not ask for it, ignore this email.\n"
                if not taken else "Hello,\n\nSomeone asked to use this email address on careteams, but it already "
                "belongs to an account. If it was you, log in with it instead. Otherwise ignore this email.\n")
        notify.queue(notify.Email(to=value, subject="Your careteams code", body=body))
    return change


def confirm_contact_change(person: Person, kind: ContactKind, code: str, now: datetime | None = None) -> str:
    """Type in the code sent to the new email or mobile: it becomes the person's. The new value.

    Raises WrongCode (field "code") for no code asked for, an expired code, a wrong
    code (counted), or too many wrong codes (the change is dropped)."""
    now = now or utcnow()
    code = "".join((code or "").split())
    change = pending_change(person, kind)
    if change is None:
        raise WrongCode(details={"fields": {"code": [f"Ask for a code first: enter your new {WORDS_OF[kind]} and send it."]}})
    if change.expires_at <= now:
        db.session.delete(change)
        db.session.flush()
        raise WrongCode(details={"fields": {"code": ["That code has expired. Ask for a new one."]}})
    if not (code.isdigit() and len(code) == 6):
        raise WrongCode(details={"fields": {"code": ["Enter the 6 digits of the code, for example 123456."]}})
    if not hmac.compare_digest(change.code_hash, _code_hash(person.id, kind, change.new_value, code)):
        change.tries += 1
        if change.tries >= MAX_TRIES:
            db.session.delete(change)
            db.session.flush()
            raise WrongCode(details={"fields": {"code": ["That code is wrong, and that was the last try. Ask for a new code."]}})
        db.session.flush()
        left = MAX_TRIES - change.tries
        raise WrongCode(details={"fields": {"code": [f"That code is wrong. You can try {left} more time{'s' if left != 1 else ''}."]}})
    field = FIELD_OF[kind]
    old, value = getattr(person, field), change.new_value
    if db.session.scalar(sa.select(Person.id).where(getattr(Person, field) == value, Person.id != person.id)):
        db.session.delete(change)  # taken since the code was sent
        db.session.flush()
        raise WrongCode(details={"fields": {"code": ["That code can no longer be used. Ask for a new one."]}})
    db.session.delete(change)
    setattr(person, field, value)
    db.session.flush()
    tell_old_contact(person, kind, old, value)
    return value


def tell_old_contact(person: Person, kind: ContactKind, old: str | None, value: str | None,
                     by_cooperative: str | None = None) -> None:
    """Tell the OLD email address or mobile number that it no longer signs in to the
    account (the person's own change, or an admin's of `by_cooperative`)."""
    if not old:
        return
    who = f" by an admin of {by_cooperative}" if by_cooperative else ""
    doubt = ("If you did not ask for this, tell your co-op straight away." if by_cooperative
             else "If you did not do this, tell your co-op straight away.")
    if kind == ContactKind.email:
        now = f"changed to {value}" if value else "removed"
        notify.queue(notify.Email(to=old, subject="Your careteams email address was changed", body=(
            f"Hello {person.first_name},\n\nThe email address of your careteams account was {now}{who}. {doubt}\n")))
    else:
        notify.queue(notify.Text(to=old, kind="account_code", body=(
            f"The mobile number of your careteams account was changed{who}. {doubt}")))


def cancel_contact_change(person: Person, kind: ContactKind) -> None:
    """Forget a change waiting for its code."""
    db.session.execute(sa.delete(ContactChange).where(ContactChange.person_id == person.id, ContactChange.kind == kind))
    db.session.flush()


# --- how to reach me ----------------------------------------------------------------


def current_reach(person: Person) -> Reach:
    """The choice as the person made it (not the fallback reach_by may take)."""
    if person.web_only:
        return Reach.web
    return Reach.text if person.preferred_channel == ContactChannel.sms else Reach.email


def set_reach(person: Person, choice: Reach) -> None:
    """Text, email, or web only (notices on the site): honoured by members.rules.reach_by."""
    if choice == Reach.text and not person.phone:
        raise _refuse("reach", "Add a mobile number first to get texts.")
    if choice == Reach.email and not person.email:
        raise _refuse("reach", "Add an email address first to get emails.")
    person.web_only = choice == Reach.web
    if choice != Reach.web:
        person.preferred_channel = ContactChannel.sms if choice == Reach.text else ContactChannel.email
    db.session.flush()


# --- password -----------------------------------------------------------------------


def change_password(person: Person, current: str, new: str) -> None:
    """A new password, given the current one. Every login session ends (the page starts
    a new one for this browser) and every API token is revoked (auth.services.set_password)."""
    if not verify_password(person.password_hash, current or ""):
        raise _refuse("current", "That is not your current password.")
    set_password(person, new)


# --- sign-in methods: a hook other pieces extend ---------------------------------------


@dataclass(frozen=True)
class SignInMethod:
    """One way the person can sign in, for the list on My account."""

    key: str  # "password", "email", "phone", "totp", "one_time_code"...
    label: str  # "Password"
    detail: str  # "Set", "a••••@example.org"
    manage_endpoint: str | None = None  # where to change it (url_for name), if anywhere


SignInMethodSource = Callable[[Person], list[SignInMethod]]
_SOURCES: list[SignInMethodSource] = []


def sign_in_method_source(source: SignInMethodSource) -> SignInMethodSource:
    """Decorator: add a source of sign-in methods (a second factor, one-time codes...)."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


@sign_in_method_source
def _built_in(person: Person) -> list[SignInMethod]:
    methods = [SignInMethod("password", "Password", "Set" if person.password_hash else "Not set yet",
                            "auth.account.password")]
    if person.email:
        methods.append(SignInMethod("email", "Email address", person.email, "auth.account.email"))
    if person.phone:
        methods.append(SignInMethod("phone", "Mobile number", person.phone, "auth.account.phone"))
    if person.email or person.phone:
        # No password needed: the sign-in page sends a code (and, by email, a link) that works once.
        methods.append(SignInMethod("one_time_code", "A one-time sign-in code",
                                    "By text or email, from the sign-in page", "auth.ask_code"))
    return methods


def sign_in_methods(person: Person) -> list[SignInMethod]:
    """Every way this person can sign in, from every registered source, in order."""
    return [method for source in _SOURCES for method in source(person)]


# --- my login sessions ------------------------------------------------------------------


def _live(person: Person, now: datetime):
    idle = current_app.config["LOGIN_SESSION_IDLE_LIMIT"]
    rows = db.session.scalars(sa.select(LoginSession).where(
        LoginSession.person_id == person.id, LoginSession.ended_at.is_(None)).order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()))
    return [row for row in rows if not is_idle_past(row.last_seen_at, now, idle)]


def current_session_id(person: Person) -> int | None:
    """The id of the login session this request came through (None for an API token)."""
    key = getattr(person, "login_session_key", None)
    if not key:
        return None
    return db.session.scalar(sa.select(LoginSession.id).where(LoginSession.key_hash == hashlib.sha256(key.encode()).hexdigest()))


def my_sessions(person: Person, now: datetime | None = None) -> list[LoginSession]:
    """The person's live login sessions, most recently used first."""
    return _live(person, now or utcnow())


def end_my_session(person: Person, session_id: int) -> None:
    """Sign out one of the person's own sessions (another device); 404 for anyone else's."""
    row = db.session.get(LoginSession, session_id)
    if row is None or row.person_id != person.id or row.ended_at is not None:
        raise NotFound("No such session.")
    row.ended_at = utcnow()
    row.ended_reason = SessionEnd.logout
    db.session.flush()


def end_other_sessions(person: Person) -> int:
    """Sign out everywhere else: every live session but the one in use; how many ended."""
    keep = current_session_id(person)
    query = sa.update(LoginSession).where(LoginSession.person_id == person.id, LoginSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.id != keep)
    ended = db.session.execute(query.values(ended_at=utcnow(), ended_reason=SessionEnd.logout)).rowcount or 0
    db.session.flush()
    return ended
