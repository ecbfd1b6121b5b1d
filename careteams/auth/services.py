"""Use-cases for accounts: authenticate, login sessions, one-time links, API tokens. Flush only."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for

from careteams import notify
from careteams.auth.enums import LinkPurpose, SessionEnd
from careteams.auth.models import ApiToken, LoginSession, OneTimeLink
from careteams.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from careteams.auth.rules import (
    clean_code,
    code_is_live,
    device_name,
    is_due_for_touch,
    is_idle_past,
    login_identifier,
)
from careteams.db import utcnow
from careteams.errors import NotFound, Unauthorized, ValidationError, ensure
from careteams.extensions import db
from careteams.jobs_util import run_each
from careteams.members import permissions as member_perm
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor
from careteams.members.services import create_person

TOKEN_PREFIX = "ct_"  # noqa: S105  (a label, not a secret)
# last_seen_at (sessions) and last_used_at (tokens) are written at most this often
# per row, so a busy page does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)
# Set in the session's `info` when a lookup wrote a last-seen/last-used time: the
# request hook in app.py commits it (a GET commits nothing otherwise).
TOUCHED = "auth_touched"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_by_identifier(text: str) -> tuple[str, Person | None]:
    """(kind, person) for an email or a mobile number in any format (auth.rules.login_identifier);
    the person is None when nobody has it. Raises ValueError when the text is neither."""
    kind, value = login_identifier(text)
    column = Person.email if kind == "email" else Person.phone
    return kind, db.session.scalar(sa.select(Person).where(column == value))


def authenticate(identifier: str, password: str) -> Person:
    """The person with this email or mobile number and password, or Unauthorized (same message either way)."""
    try:
        _, person = person_by_identifier(identifier)
    except ValueError:
        person = None
    ok = verify_password(person.password_hash if person else None, password)
    if not ok or person is None or not person.active:
        raise Unauthorized("That email or mobile number and password do not match an account.", code="invalid_credentials")
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
        db.session.flush()
    return person


def set_password(person: Person, password: str) -> None:
    """A new password (reset, invitation or change): every login session of the
    person ends and every API token is revoked; the caller may start a new session."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(details={"fields": {"password": [f"Use at least {MIN_LENGTH} characters."]}})
    person.password_hash = hash_password(password)
    end_all_login_sessions(person, SessionEnd.password_set)
    revoke_all_api_tokens(person)
    db.session.flush()


# --- login sessions -------------------------------------------------------------
#
# Flask-Login keeps get_id() in the session cookie (and in the "keep me logged
# in" cookie): "<person id>:<key>", where the key is a random secret of this
# session only. The server keeps its SHA-256, so ending the row ends every copy
# of either cookie.


def _touch(row: LoginSession | ApiToken, attr: str, now: datetime) -> None:
    if is_due_for_touch(getattr(row, attr), now, TOUCH_EVERY):
        setattr(row, attr, now)
        db.session.flush()
        db.session.info[TOUCHED] = True


def start_login_session(person: Person, user_agent: str | None) -> LoginSession:
    """Record a new login session; `person.get_id()` then names it (for login_user)."""
    key = secrets.token_urlsafe(32)
    row = LoginSession(person_id=person.id, key_hash=_digest(key), device=device_name(user_agent))
    db.session.add(row)
    db.session.flush()
    person.login_session_key = key
    return row


def person_for_login_session(user_id: str, now: datetime | None = None) -> Person | None:
    """The person whose live login session this Flask-Login id names, or None.

    Live: not ended, not idle longer than LOGIN_SESSION_IDLE_LIMIT, person active.
    Marks the session seen (at most once a minute)."""
    now = now or utcnow()
    person_id, _, key = user_id.partition(":")
    if not key or not person_id.isdigit():
        return None
    row = db.session.scalar(sa.select(LoginSession).where(
        LoginSession.key_hash == _digest(key), LoginSession.ended_at.is_(None)))
    if row is None or str(row.person_id) != person_id:
        return None
    if is_idle_past(row.last_seen_at, now, current_app.config["LOGIN_SESSION_IDLE_LIMIT"]):
        return None
    person = db.session.get(Person, row.person_id)
    if person is None or not person.active:
        return None
    _touch(row, "last_seen_at", now)
    person.login_session_key = key
    return person


def end_login_session(person: Person, reason: SessionEnd = SessionEnd.logout) -> None:
    """End the session the person is using now (logout); their other sessions go on."""
    key = getattr(person, "login_session_key", None)
    if not key:
        return
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.key_hash == _digest(key), LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    )
    person.login_session_key = None
    db.session.flush()


def end_all_login_sessions(person: Person, reason: SessionEnd) -> int:
    """End every live login session of the person (all devices); how many ended."""
    ended = db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.person_id == person.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    ).rowcount or 0
    person.login_session_key = None
    db.session.flush()
    return ended


# --- one-time links -----------------------------------------------------------


def _issue_link(person: Person, purpose: LinkPurpose, ttl: timedelta, created_by: Person | None) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        OneTimeLink(
            person_id=person.id,
            purpose=purpose,
            token_hash=_digest(token),
            expires_at=utcnow() + ttl,
            created_by_id=created_by.id if created_by else None,
        )
    )
    db.session.flush()
    return token


def _send_link(person: Person, subject: str, text: str, url: str, from_number: str | None = None) -> None:
    # must_reach: a link the person needs to get in is sent even to someone who chose "web only".
    notify.tell(person, f"{text} {url}", subject=subject, email_body=f"Hello {person.first_name},\n\n{text}\n\n{url}\n",
                from_number=from_number, must_reach=True)


def send_invitation(person: Person, invited_by: Person | None, cooperative_name: str, from_number: str | None = None) -> str:
    """Create a one-time invitation link and queue it to the person's preferred channel."""
    token = _issue_link(person, LinkPurpose.invite, current_app.config["INVITE_TTL"], invited_by)
    url = url_for("auth.accept_invite", token=token, _external=True)
    _send_link(person, f"You're invited to {cooperative_name}",
               f"You have been invited to {cooperative_name} on careteams. Set your password here:", url, from_number)
    return token


def _send_to(kind: str, person: Person, subject: str, text: str, email_text: str | None = None) -> None:
    """Queue a message to the address the person typed: a text to the mobile, or an email."""
    if kind == "phone":
        notify.queue(notify.Text(to=person.phone, body=text))
    else:
        notify.queue(notify.Email(to=person.email, subject=subject,
                                  body=f"Hello {person.first_name},\n\n{email_text or text}\n"))


def request_password_reset(identifier: str) -> None:
    """Queue a reset link if the email or mobile number is known (by email to an email,
    by text to a mobile number: the address typed); say nothing either way."""
    try:
        kind, person = person_by_identifier(identifier)
    except ValueError:
        return
    if person is None or not person.active:
        return
    token = _issue_link(person, LinkPurpose.reset, current_app.config["RESET_TTL"], None)
    url = url_for("auth.reset_password", token=token, _external=True)
    words = "Someone asked to reset your careteams password. If it was you, use this link within an hour:"
    _send_to(kind, person, "Reset your careteams password", f"{words} {url}", f"{words}\n\n{url}")


# --- one-time sign-in codes and links ----------------------------------------
#
# A code is 6 digits: few enough to guess offline from a plain hash, so only an
# HMAC keyed with SECRET_KEY (and the link's own token hash) is stored. Guessing
# online is bounded by SIGN_IN_CODE_TRIES wrong tries per code and the rate limits.

CODE_DIGITS = 6


def _code_digest(token_hash: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{token_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def request_sign_in(identifier: str, now: datetime | None = None) -> None:
    """Send a one-time sign-in code (and, by email, a link) if the email or mobile
    number is known and active; say nothing either way. A new code ends any earlier one."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    digest = _code_digest(_digest(token), code)  # worked out either way: the same path as far as practical
    try:
        kind, person = person_by_identifier(identifier)
    except ValueError:
        return
    if person is None or not person.active:
        return
    db.session.execute(
        sa.update(OneTimeLink)
        .where(OneTimeLink.person_id == person.id, OneTimeLink.purpose == LinkPurpose.sign_in,
               OneTimeLink.used_at.is_(None))
        .values(used_at=now)
    )
    db.session.add(OneTimeLink(person_id=person.id, purpose=LinkPurpose.sign_in, token_hash=_digest(token),
                               code_hash=digest, expires_at=now + current_app.config["SIGN_IN_CODE_TTL"]))
    db.session.flush()
    text = f"Your careteams sign-in code is {code}. It works once, for 10 minutes."
    url = url_for("auth.sign_in_link", token=token, _external=True)
    _send_to(kind, person, "Your careteams sign-in code", text,
             f"{text}\n\nOr use this link to sign in (it also works once, for 10 minutes):\n\n{url}\n\n"
             "If you did not ask to sign in, you can ignore this email.")


WRONG_CODE = "That code is wrong or has expired. Check it, or ask for a new code."


def sign_in_with_code(identifier: str, typed: str, now: datetime | None = None) -> Person:
    """Spend the live sign-in code of this email or mobile number; Unauthorized (one
    message for a wrong, expired, used or dead code, or an unknown account) otherwise.
    A wrong code counts against the live code: at SIGN_IN_CODE_TRIES it is dead."""
    now = now or utcnow()
    code = clean_code(typed, CODE_DIGITS)
    try:
        _, person = person_by_identifier(identifier)
    except ValueError:
        person = None
    link = None
    if person is not None:
        link = db.session.scalar(
            sa.select(OneTimeLink)
            .where(OneTimeLink.person_id == person.id, OneTimeLink.purpose == LinkPurpose.sign_in,
                   OneTimeLink.used_at.is_(None))
            .order_by(OneTimeLink.id.desc()).limit(1)
        )
    tries = current_app.config["SIGN_IN_CODE_TRIES"]
    if link is None or not code_is_live(False, link.expires_at, link.wrong_tries, now, tries):
        _code_digest(link.token_hash if link else "", code or "")  # the same work as a real check
        raise Unauthorized(WRONG_CODE, code="invalid_code")
    if code is None or not hmac.compare_digest(link.code_hash or "", _code_digest(link.token_hash, code)):
        # Counted in the database (not the instance), so simultaneous guesses all count.
        db.session.execute(sa.update(OneTimeLink).where(OneTimeLink.id == link.id)
                           .values(wrong_tries=OneTimeLink.wrong_tries + 1))
        db.session.flush()
        raise Unauthorized(WRONG_CODE, code="invalid_code")
    return _spend_sign_in(link, now)


def _spend_sign_in(link: OneTimeLink, now: datetime) -> Person:
    # Conditional update: of two simultaneous uses, only one finds used_at NULL.
    spent = db.session.execute(
        sa.update(OneTimeLink).where(OneTimeLink.id == link.id, OneTimeLink.used_at.is_(None),
                                     OneTimeLink.wrong_tries < current_app.config["SIGN_IN_CODE_TRIES"])
        .values(used_at=now)
    ).rowcount
    if spent != 1 or not link.person.active:
        raise Unauthorized(WRONG_CODE, code="invalid_code")
    db.session.flush()
    return link.person


def check_sign_in_link(token: str, now: datetime | None = None) -> OneTimeLink:
    """The live emailed sign-in link, or NotFound (expired, used, or its code got wrong too often)."""
    now = now or utcnow()
    link = _valid_link(token, LinkPurpose.sign_in, now)
    if not code_is_live(False, link.expires_at, link.wrong_tries, now, current_app.config["SIGN_IN_CODE_TRIES"]):
        raise NotFound("This link has expired or has already been used. Ask for a new one.", code="link_expired")
    return link


def sign_in_with_link(token: str, now: datetime | None = None) -> Person:
    """Spend an emailed sign-in link; NotFound if it cannot be used."""
    now = now or utcnow()
    link = check_sign_in_link(token, now)
    try:
        return _spend_sign_in(link, now)
    except Unauthorized:
        raise NotFound("This link has expired or has already been used. Ask for a new one.", code="link_expired") from None


def _valid_link(token: str, purpose: LinkPurpose, now: datetime | None = None) -> OneTimeLink:
    now = now or utcnow()
    link = db.session.scalar(
        sa.select(OneTimeLink).where(OneTimeLink.token_hash == _digest(token), OneTimeLink.purpose == purpose)
    )
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotFound("This link has expired or has already been used. Ask for a new one.", code="link_expired")
    return link


def check_link(token: str, purpose: LinkPurpose) -> Person:
    return _valid_link(token, purpose).person


def use_link(token: str, purpose: LinkPurpose, password: str) -> Person:
    """Spend a one-time link to set a password; the link cannot be used again."""
    link = _valid_link(token, purpose)
    set_password(link.person, password)
    # Conditional update: of two simultaneous uses, only one finds used_at NULL.
    spent = db.session.execute(
        sa.update(OneTimeLink).where(OneTimeLink.id == link.id, OneTimeLink.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount
    if spent != 1:
        raise NotFound("This link has already been used.", code="link_expired")
    link.person.active = True
    db.session.flush()
    return link.person


def purge_expired_links(now: datetime | None = None) -> int:
    """Delete one-time links that expired more than a day ago (idempotent)."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    expired = db.session.scalars(sa.select(OneTimeLink.id).where(OneTimeLink.expires_at < cutoff)).all()
    # One link at a time in its own savepoint, so one that cannot go never keeps the rest.
    return sum(run_each("auth.purge_expired_links", expired, purge_link, key=lambda i: f"link {i}").done)


def purge_link(link_id: int) -> int:
    """Delete one one-time link (the clock's purge, one item)."""
    return db.session.execute(sa.delete(OneTimeLink).where(OneTimeLink.id == link_id)).rowcount or 0


# --- API tokens ---------------------------------------------------------------


def create_api_token(person: Person, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new bearer token for `person`; the secret is returned once and never stored.

    It expires after `expires_in_days` (default: the API_TOKEN_DAYS setting)."""
    days = expires_in_days or current_app.config["API_TOKEN_DAYS"]
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(person_id=person.id, name=name, token_hash=_digest(secret), prefix=secret[:10],
                     expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    return token, secret


def person_for_api_token(secret: str, now: datetime | None = None) -> Person | None:
    """The person of a live (not revoked, not expired) token, or None. Marks it used (at most once a minute)."""
    now = now or utcnow()
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None))
    )
    if token is None or token.expires_at <= now or not token.person.active:
        return None
    _touch(token, "last_used_at", now)
    return token.person


def list_api_tokens(person: Person, now: datetime | None = None) -> list[ApiToken]:
    """The person's usable tokens (not revoked, not expired)."""
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None),
                                  ApiToken.expires_at > (now or utcnow())).order_by(ApiToken.id)
    ))


def revoke_all_api_tokens(person: Person) -> int:
    """Revoke every token of the person (a new password); how many were live."""
    return db.session.execute(
        sa.update(ApiToken).where(ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    ).rowcount or 0


def revoke_api_token(person: Person, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    # Somebody else's token is as invisible as a missing one.
    if token is None or token.person_id != person.id or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    db.session.flush()


def invite_person(actor: Actor, coop: Cooperative, data: dict) -> Person:
    """Create an account for someone and send them a one-time link to set a password."""
    ensure(member_perm.can_invite_person(actor, coop.id))
    person = create_person(data["name"], data.get("email"), data.get("phone"), preferred_channel=data["preferred_channel"])
    inviter = db.session.get(Person, actor.person_id)
    send_invitation(person, inviter, coop.name, from_number=coop.sms_number)
    return person
