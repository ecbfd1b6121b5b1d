"""Use-cases for text messages: the outbox, delivery statuses, opt-out and replies
to inbound texts. Services flush; the caller (view, job, CLI command) commits."""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from careteams.db import utcnow
from careteams.delivery import Email, is_quiet, queue_email
from careteams.errors import AppError, Conflict
from careteams.extensions import db
from careteams.members.models import (
    Cooperative,
    Membership,
    MembershipStatus,
    Person,
    StaffRole,
)
from careteams.members.rules import DEFAULT_REGION, Reach, reach_by
from careteams.members.services import cooperative_for_number
from careteams.sms import rules
from careteams.sms.commands import FEATURE_NAMES, SmsContext, code_in_other_cooperative, handler_for
from careteams.sms.enums import ANY_SENDER
from careteams.sms.gateway import GatewayError, SentText
from careteams.sms.models import InboundMessage, OutboundMessage, SmsOptOut, WebNotice
from careteams.sms.rules import CODE_REQUIRED, DeliveryStatus, SendOutcome, Verb, render
from careteams.teams.enums import TeamMemberStatus
from careteams.teams.models import Team, TeamMember

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4096)
def _parse(number: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number or "", DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    # "Possible" rather than "valid": numbers were validated when entered, and
    # Ofcom's drama range (07700 900xxx, used by the demo) is possible but not valid.
    return parsed if phonenumbers.is_possible_number(parsed) else None


@functools.lru_cache(maxsize=4096)
def _e164(number: str | None) -> str:
    """E.164 where the number can be one; otherwise as given, trimmed (it is only compared).
    Pure (the number and a fixed region), so remembered: every inbound text asks it thrice."""
    parsed = _parse(number)
    if parsed is None:
        return (number or "").strip()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _is_valid(number: str) -> bool:
    return _parse(number) is not None


def person_for_phone(number: str) -> Person | None:
    """The person whose (E.164) phone number this is."""
    return db.session.scalar(sa.select(Person).where(Person.phone == _e164(number)))


# --- opt-out ------------------------------------------------------------------
#
# Per sender number, as Twilio's own opt-out is: STOP sent to co-op A's number stops
# texts from that number only; co-op B's number keeps texting. A text that names no
# sender goes from the fallback number (TWILIO_FROM_NUMBER), which is a sender like any.


def sender_key(from_number: str | None) -> str:
    """The number a text goes from (or a STOP was sent to), as opt-outs record it."""
    number = from_number or current_app.config.get("TWILIO_FROM_NUMBER") or ""
    return _e164(number) if number else ""


def _opt_out_rows(number: str | None, person: Person | None, sender: str | None):
    """The opt-outs that silence `number`/`person` on texts from `sender` (None: no rows)."""
    clauses = []
    if number:
        clauses.append(SmsOptOut.phone == _e164(number))
    if person is not None and person.id is not None:
        clauses.append(SmsOptOut.person_id == person.id)
    if not clauses:
        return None
    return sa.and_(sa.or_(*clauses), SmsOptOut.sender_number.in_([sender_key(sender), ANY_SENDER]))


def is_opted_out(number: str | None, person: Person | None = None, sender: str | None = None) -> bool:
    """Whether texts to this number (or this person) from `sender` are switched off
    (`sender` None: the fallback number)."""
    rows = _opt_out_rows(number, person, sender)
    if rows is None:
        return False
    return db.session.scalar(sa.select(SmsOptOut.id).where(rows).limit(1)) is not None


def record_opt_out(number: str, person: Person | None, cooperative: Cooperative | None, keyword: str,
                   now: datetime | None = None, *, sender_number: str | None = None) -> None:
    """Stop texting this number and this person from one of our numbers (STOP, or Twilio's
    21610). `sender_number`: the number the STOP was sent to (default: the co-op's number,
    else the fallback sender). Idempotent."""
    sender = sender_number or (cooperative.sms_number if cooperative else None)
    if not is_opted_out(number, person, sender):
        try:
            with db.session.begin_nested():
                db.session.add(SmsOptOut(phone=_e164(number), sender_number=sender_key(sender),
                                         person_id=person.id if person else None,
                                         cooperative_id=cooperative.id if cooperative else None,
                                         keyword=keyword[:20], opted_out_at=now or utcnow()))
                db.session.flush()
        except IntegrityError:
            pass  # recorded at the same moment by another request: the effect is the same
    # Texts already waiting from that number must not go either.
    addressed = [OutboundMessage.to_number == _e164(number)]
    if person is not None:
        addressed.append(OutboundMessage.person_id == person.id)
    db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.status == DeliveryStatus.pending, sa.or_(*addressed), _sent_from(sender))
        .values(status=DeliveryStatus.skipped, error_message="opted out", status_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


def _sent_from(sender: str | None):
    """Outbound rows that go from `sender` (rows without a sender go from the fallback)."""
    key = sender_key(sender)
    same = OutboundMessage.from_number == key
    if key == sender_key(None):
        return sa.or_(same, OutboundMessage.from_number.is_(None))
    return same


def clear_opt_out(number: str, person: Person | None, sender_number: str | None = None) -> None:
    """START (or UNSTOP, or a lone YES) sent to `sender_number`: texts may go to this
    number and person from that number again (and from every number, for an opt-out
    recorded before opt-outs were per number)."""
    rows = _opt_out_rows(number, person, sender_number)
    db.session.execute(sa.delete(SmsOptOut).where(rows).execution_options(synchronize_session=False))
    db.session.flush()


# --- the outbox ---------------------------------------------------------------


def enqueue(cooperative: Cooperative | None, person_or_number: Person | str, body: str, kind: str,
            dedupe_key: str | None = None, from_number: str | None = None) -> OutboundMessage | None:
    """Queue a text in the current transaction; the sender job sends it after commit.

    With a `dedupe_key`, the same key never queues a second text (re-runs, a second
    clock). Returns the row (the earlier one for a repeated key), or None when there
    is no number to text.
    """
    if is_quiet():
        return None
    if cooperative is None and from_number:
        cooperative = cooperative_for_number(from_number)  # the number a co-op texts from names it
    if isinstance(person_or_number, Person):
        person = person_or_number
        number = person.phone
    else:
        number = person_or_number
        person = person_for_phone(person_or_number)
    if not number:
        return None
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    sender = from_number or (cooperative.sms_number if cooperative else None)
    message = OutboundMessage(
        cooperative_id=cooperative.id if cooperative else None, person_id=person.id if person else None,
        to_number=_e164(number), from_number=_e164(sender) if sender else None, body=body, kind=kind[:40], dedupe_key=dedupe_key,
        status=DeliveryStatus.pending, next_attempt_at=utcnow(),
    )
    if not _is_valid(number):
        # Numbers are checked when entered; one that slipped through is kept, visibly failed.
        message.to_number = number.strip()[:20]
        message.status = DeliveryStatus.failed
        message.error_message = "not a valid phone number"
    elif is_opted_out(number, person, sender):
        # Kept, visibly, so nobody wonders why the text never came.
        message.status = DeliveryStatus.skipped
        message.error_message = "opted out"
    try:
        with db.session.begin_nested():
            db.session.add(message)
            db.session.flush()
    except IntegrityError:
        # Another transaction queued the same key first.
        existing = db.session.scalar(sa.select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key))
        if existing is None:
            raise
        return existing
    return message


def notify_person(person: Person, body: str, kind: str, dedupe_key: str | None = None, *,
                  cooperative: Cooperative | None = None, subject: str | None = None,
                  link: str | None = None) -> str:
    """Tell one person something: by text if they prefer texts and have not opted out,
    otherwise as a notice on the website (and by email when they have one).

    `link`, the page that deals with it, goes with the notice and the email, never in a
    text (texts name the page in words and stay one segment).

    Returns the channel used: "sms", "web", or "none" (a repeated `dedupe_key`).
    While someone is opted out nothing is texted to them: the website takes over.
    """
    if dedupe_key is not None and (
            db.session.scalar(sa.select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key)) is not None
            or db.session.scalar(sa.select(WebNotice.id).where(WebNotice.dedupe_key == dedupe_key)) is not None):
        return "none"
    # "How to reach me" (My account): text, email, or web only (members.rules.reach_by).
    reach = reach_by(person)
    sender = cooperative.sms_number if cooperative else None
    if reach == Reach.text and _is_valid(person.phone) and not is_opted_out(person.phone, person, sender):
        enqueue(cooperative, person, body, kind, dedupe_key=dedupe_key)
        return "sms"
    if not add_web_notice(person, body, kind, dedupe_key, cooperative=cooperative, link=link):
        return "none"  # recorded at the same moment by another run
    if person.email and reach != Reach.web:
        queue_email(Email(to=person.email, subject=subject or "A message from your co-op",
                          body=f"{body}\n\nOpen the page: {link}" if link else body))
    return "web"


def add_web_notice(person: Person, body: str, kind: str, dedupe_key: str | None = None, *,
                   cooperative: Cooperative | None = None, link: str | None = None) -> WebNotice | None:
    """A notice on the website (My notices) for the person; None when a notice with the
    same `dedupe_key` was recorded at the same moment by another run."""
    notice = WebNotice(person_id=person.id, cooperative_id=cooperative.id if cooperative else None,
                       kind=kind[:40], body=WebNotice.with_link(body, link), dedupe_key=dedupe_key, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(notice)
            db.session.flush()
    except IntegrityError:
        return None
    return notice


def web_notices(person: Person, limit: int = 50) -> list[WebNotice]:
    """The person's latest notices on the website, newest first."""
    return list(db.session.scalars(sa.select(WebNotice).where(WebNotice.person_id == person.id)
                                   .order_by(WebNotice.id.desc()).limit(limit)))


def claim_outbound(now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due messages for this sender; each goes to one sender only.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED, so parallel
    senders take different rows instead of waiting; SQLite has one writer at a time
    (SQLAlchemy leaves the clause out there). The claim token makes the result exact
    either way. The caller commits before sending.
    """
    due = db.session.scalars(
        sa.select(OutboundMessage.id)
        .where(OutboundMessage.status == DeliveryStatus.pending, OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return []
    token = uuid.uuid4().hex
    db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id.in_(due), OutboundMessage.status == DeliveryStatus.pending)
        .values(status=DeliveryStatus.claimed, claim_token=token, claimed_at=now,
                attempts=OutboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return list(db.session.scalars(
        sa.select(OutboundMessage.id).where(OutboundMessage.claim_token == token).order_by(OutboundMessage.id)))


def settle_stale_claims(now: datetime) -> int:
    """Claims whose sender vanished mid-send: unknown (never resent blindly)."""
    result = db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.status == DeliveryStatus.claimed,
               OutboundMessage.claimed_at < now - rules.CLAIM_TIMEOUT)
        .values(status=DeliveryStatus.unknown, error_message="sender stopped while sending", status_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result.rowcount or 0


def status_callback_url(message_id: int) -> str | None:
    """The public URL Twilio reports delivery to (needs PUBLIC_BASE_URL)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    return f"{base.rstrip('/')}/sms/status?outbound={message_id}"


@dataclass
class _Attempt:
    called: bool = False  # the gateway was asked to send
    sent: SentText | None = None  # ... and accepted it


def send_claimed(message_id: int, gateway, now: datetime) -> str:
    """Send one claimed message through the gateway and record what happened.

    Returns the outcome: accepted, retry, unknown, failed or skipped. Never raises for
    one message's trouble (a clashing provider id, a bug in recording): the message is
    settled on its own, so a failed send never strands the rest of a claimed batch.
    """
    attempt = _Attempt()
    try:
        with db.session.begin_nested():
            return _send_claimed(message_id, gateway, now, attempt)
    except Exception as exc:
        log.exception("could not send or record text %s", message_id)
        why = type(exc).__name__
        if not attempt.called:
            # It never left us: back in the queue, like any retry (the attempt counts).
            attempts = db.session.scalar(sa.select(OutboundMessage.attempts).where(OutboundMessage.id == message_id))
            if (attempts or 0) >= rules.MAX_ATTEMPTS:
                _finish(message_id, DeliveryStatus.failed, now, error_message=f"gave up: {why}")
                return "failed"
            _finish(message_id, DeliveryStatus.pending, now, error_message=f"not sent: {why}",
                    next_attempt_at=now + rules.retry_delay(attempts or 1))
            return "retry"
        if attempt.sent is not None:
            # The provider took it; only recording its id failed. Never resend.
            _finish(message_id, DeliveryStatus.queued, now, sent_at=now,
                    error_message=f"sent, but its id could not be recorded: {why}")
            return "accepted"
        _finish(message_id, DeliveryStatus.unknown, now, error_message=f"unexpected error: {why}")
        return "unknown"


def _send_claimed(message_id: int, gateway, now: datetime, attempt: _Attempt) -> str:
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.status != DeliveryStatus.claimed:
        return "skipped"
    person = db.session.get(Person, message.person_id) if message.person_id else None
    if is_opted_out(message.to_number, person, message.from_number):
        _finish(message.id, DeliveryStatus.skipped, now, error_message="opted out")
        return "skipped"
    to, body, sender, attempts = message.to_number, message.body, message.from_number, message.attempts
    # The request to Twilio happens outside any lock: the row is already ours.
    callback = status_callback_url(message.id)
    attempt.called = True
    try:
        sent: SentText = gateway.send(to=to, body=body, from_number=sender, status_callback=callback)
        attempt.sent = sent
    except GatewayError as exc:
        return _record_failure(message.id, exc, attempts, now, to, person, message.cooperative_id, sender)
    except Exception as exc:  # we cannot tell whether it went
        log.exception("unexpected error sending text %s", message_id)
        _finish(message.id, DeliveryStatus.unknown, now, error_message=f"unexpected error: {type(exc).__name__}")
        return "unknown"
    reported = rules.status_from_twilio(sent.status) or DeliveryStatus.queued
    # A status callback may already have moved the row on: only a claimed row changes.
    changed = _finish(message.id, reported, now, sid=sent.sid, sent_at=now)
    if not changed:
        db.session.execute(sa.update(OutboundMessage)
                           .where(OutboundMessage.id == message.id, OutboundMessage.sid.is_(None))
                           .values(sid=sent.sid, sent_at=now).execution_options(synchronize_session=False))
    db.session.flush()
    return "accepted"


def _finish(message_id: int, status: DeliveryStatus, now: datetime, **values) -> bool:
    result = db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == DeliveryStatus.claimed)
        .values(status=status, status_at=now, claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return (result.rowcount or 0) == 1


def _record_failure(message_id: int, exc: GatewayError, attempts: int, now: datetime, to: str,
                    person: Person | None, cooperative_id: int | None, sender: str | None) -> str:
    if exc.outcome == SendOutcome.retry:
        if attempts >= rules.MAX_ATTEMPTS:
            _finish(message_id, DeliveryStatus.failed, now, error_code=exc.code,
                    error_message=f"gave up after {attempts} attempts: {exc.message}"[:300])
            return "failed"
        _finish(message_id, DeliveryStatus.pending, now, error_code=exc.code, error_message=exc.message[:300],
                next_attempt_at=now + rules.retry_delay(attempts))
        return "retry"
    if exc.outcome == SendOutcome.unknown:
        _finish(message_id, DeliveryStatus.unknown, now, error_code=exc.code, error_message=exc.message[:300])
        return "unknown"
    _finish(message_id, DeliveryStatus.failed, now, error_code=exc.code, error_message=exc.message[:300])
    if exc.opted_out:
        # Twilio holds a STOP we did not see (or missed): keep our own flag in step.
        cooperative = db.session.get(Cooperative, cooperative_id) if cooperative_id else None
        record_opt_out(to, person, cooperative, str(rules.OPTED_OUT_ERROR), now, sender_number=sender)
    return "failed"


def record_delivery_status(outbound_id: int | None, message_sid: str, reported: str | None,
                           error_code: str | None = None, now: datetime | None = None) -> OutboundMessage | None:
    """Apply a Twilio status callback. Out-of-order and repeated callbacks are harmless."""
    now = now or utcnow()
    status = rules.status_from_twilio(reported)
    query = sa.select(OutboundMessage).with_for_update()
    if outbound_id is not None:
        query = query.where(OutboundMessage.id == outbound_id)
    else:
        query = query.where(OutboundMessage.sid == message_sid)
    message = db.session.scalar(query)
    if message is None or status is None:
        return None
    if message.sid is not None and message.sid != message_sid:
        return None  # a callback about some other message: ignore it
    if message.status == DeliveryStatus.pending:
        return None
    new = rules.next_status(message.status, status)
    if message.sid is None:
        message.sid = message_sid  # settles an `unknown` send: it did reach Twilio
    if new != message.status:
        message.status = new
        message.status_at = now
        if error_code:
            message.error_code = str(error_code)[:20]
    db.session.flush()
    if error_code and str(error_code) == str(rules.OPTED_OUT_ERROR):
        person = db.session.get(Person, message.person_id) if message.person_id else None
        cooperative = db.session.get(Cooperative, message.cooperative_id) if message.cooperative_id else None
        record_opt_out(message.to_number, person, cooperative, str(rules.OPTED_OUT_ERROR), now,
                       sender_number=message.from_number)
    return message


# --- inbound texts ------------------------------------------------------------


def receive_text(message_sid: str, from_number: str, to_number: str, body: str,
                 now: datetime | None = None) -> str:
    """Answer one inbound text (the webhook and the simulator). Returns the reply.

    Idempotent on the MessageSid: a repeat gets the stored reply and changes nothing.
    The text is recorded first, with who sent it to which co-op (one INSERT that does
    nothing for a sid already recorded: a repeat delivered at the same moment waits for
    the first to commit, then reads its reply), the reply last.
    """
    now = now or utcnow()
    command = rules.parse(body)
    sender = _sender(from_number, to_number)
    inbound_id = _record_inbound(dict(
        message_sid=message_sid, from_number=(from_number or "")[:40], to_number=(to_number or "")[:40],
        body=body or "", verb=command.verb.value, received_at=now,
        cooperative_id=sender.cooperative.id if sender.cooperative else None,
        person_id=sender.person.id if sender.person else None))
    if inbound_id is None:
        # Twilio's retry (or one racing the first delivery): the first one answers.
        return _stored_reply(message_sid) or ""
    reply = _answer(command, sender, (from_number or "")[:40], (to_number or "")[:40], inbound_id, now)
    db.session.execute(_SET_REPLY, {"inbound_id": inbound_id, "reply": reply})
    return reply


def _record_inbound(values: dict) -> int | None:
    """Insert the inbound row; None when its MessageSid is already recorded."""
    dialect = db.session.get_bind(mapper=InboundMessage.__mapper__).dialect.name
    if dialect in ("postgresql", "sqlite"):
        statement = _RECORD.get(dialect)
        if statement is None:
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            statement = _RECORD[dialect] = (insert(_INBOUND).on_conflict_do_nothing(index_elements=["message_sid"])
                                            .returning(_INBOUND.c.id))
        return db.session.execute(statement, values).scalar()
    try:
        with db.session.begin_nested():
            inbound = InboundMessage(**values)
            db.session.add(inbound)
            db.session.flush()
    except IntegrityError:
        return None
    return inbound.id


def _stored_reply(message_sid: str) -> str | None:
    row = db.session.execute(
        sa.select(InboundMessage.id, InboundMessage.reply).where(InboundMessage.message_sid == message_sid)
    ).first()
    if row is None:
        return None
    return row.reply or ""


@dataclass(frozen=True)
class _Sender:
    cooperative: Cooperative | None  # whose number was texted
    person: Person | None  # None: a stranger to that co-op (or no co-op), who learns nothing
    opted_out: bool  # texts from that number to this phone (or person) are switched off


def _takes_part_clause(person_id, cooperative_id):
    """Whether the person has any place in the co-op: register, staff or a team (ids, or
    Person.id and Cooperative.id of an enclosing query)."""
    in_register = sa.select(Membership.id).where(
        Membership.cooperative_id == cooperative_id, Membership.person_id == person_id,
        Membership.status != MembershipStatus.left)
    on_staff = sa.select(StaffRole.id).where(StaffRole.cooperative_id == cooperative_id,
                                             StaffRole.person_id == person_id)
    in_team = sa.select(TeamMember.id).join(Team, Team.id == TeamMember.team_id).where(
        Team.cooperative_id == cooperative_id, TeamMember.person_id == person_id,
        TeamMember.status.in_([TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active]))
    leads = sa.select(Team.id).where(Team.cooperative_id == cooperative_id, Team.leader_id == person_id)
    return sa.or_(sa.exists(in_register), sa.exists(on_staff), sa.exists(in_team), sa.exists(leads))


def _opted_out_clause(**match):
    return sa.exists().where(*(getattr(SmsOptOut, column) == value for column, value in match.items()),
                             SmsOptOut.sender_number.in_(sa.bindparam("senders", expanding=True)))


# Every inbound text asks these, so they are built once (building and keying a statement
# costs more Python than running it). The sender: the person with that phone, the co-op
# whose number was texted (NULL if none: an outer join on that number), whether she takes
# part in it, and her opt-outs from that number, by person and by phone.
_SENDER = (sa.select(Person, Cooperative, _takes_part_clause(Person.id, Cooperative.id),
                     _opted_out_clause(person_id=Person.id), _opted_out_clause(phone=sa.bindparam("phone")))
           .select_from(Person).outerjoin(Cooperative, Cooperative.sms_number == sa.bindparam("number"))
           .where(Person.phone == sa.bindparam("phone")).limit(1))
_INBOUND = InboundMessage.__table__
_SET_REPLY = sa.update(_INBOUND).where(_INBOUND.c.id == sa.bindparam("inbound_id")).values(reply=sa.bindparam("reply"))
_RECORD: dict[str, sa.Insert] = {}  # per dialect: INSERT ... ON CONFLICT (message_sid) DO NOTHING RETURNING id


def _sender(from_number: str, to_number: str) -> _Sender:
    """Who texted which co-op, and whether they are opted out of its number: one indexed
    query (two more only for a phone we do not know)."""
    from_number, to_number = (from_number or "")[:40], (to_number or "")[:40]
    phone = _e164(from_number)
    row = db.session.execute(_SENDER, {"phone": phone, "number": _e164(to_number),
                                       "senders": [sender_key(to_number), ANY_SENDER]}).first()
    if row is None:
        return _Sender(cooperative_for_number(_e164(to_number)), None, is_opted_out(from_number, None, to_number))
    person, coop, part, person_opted_out, phone_opted_out = row
    phone_opted_out = bool(phone_opted_out) and bool(from_number)
    if coop is None or not person.active or not part:
        return _Sender(coop, None, phone_opted_out)  # a stranger to this co-op learns nothing either
    return _Sender(coop, person, phone_opted_out or bool(person_opted_out))


def _answer(command: rules.Command, sender: _Sender, from_number: str, to_number: str, inbound_id: int,
            now: datetime) -> str:
    coop, person, opted_out = sender.cooperative, sender.person, sender.opted_out
    # Opt-out is per number texted, as Twilio's is: STOP to this co-op's number leaves
    # the person's other co-ops (other numbers) texting them.
    if command.verb == Verb.stop:
        record_opt_out(from_number, person, coop, command.keyword, now, sender_number=to_number)
        return render("opted_out")
    if command.verb == Verb.start or (command.is_bare_yes and opted_out):
        # A lone YES is also Twilio's opt-in word: from an opted-out person it means START.
        clear_opt_out(from_number, person, to_number)
        return render("opted_in")
    if opted_out:
        # Nothing but the legally required answers while texts are off.
        return render("opted_out_help") if command.verb == Verb.help else ""
    if coop is None or person is None:
        return render("unknown_sender")
    if command.verb in (Verb.help, Verb.unknown):
        return render("help")
    if command.verb == Verb.cancel_hint:
        return render("cancel_hint")
    if command.verb in CODE_REQUIRED and command.code is None:
        return render("missing_code", keyword=command.keyword)
    if command.code is not None and code_in_other_cooperative(person, command.code, coop.id):
        # The number texted picks the co-op: another co-op's code is not a thing here.
        return render("not_found")
    handler = handler_for(command.verb)
    if handler is None:
        return render("not_available", feature=FEATURE_NAMES[command.verb])
    context = SmsContext(cooperative=coop, person=person, now=now, inbound_id=inbound_id)
    settled = getattr(handler, "settled_answer", None)
    try:
        if settled is not None:
            reply = settled(context, command)  # reads only: no savepoint needed
            if reply is not None:
                return reply
        with db.session.begin_nested():
            return handler(context, command)
    except Conflict:
        return render("try_again")
    except IntegrityError:
        return render("try_again")
    except AppError:
        # Forbidden, not found, invalid: the same answer, so codes cannot be probed.
        return render("not_found")


# --- development ----------------------------------------------------------------


def simulated_sid() -> str:
    """A MessageSid for a simulated text (never one Twilio would issue)."""
    return "SMSIM" + uuid.uuid4().hex[:29]


def conversation(number: str, limit: int = 20) -> list[tuple[datetime, str, str]]:
    """The recent texts to and from a number: (when, 'in'/'out', text), oldest first."""
    number = _e164(number)
    inbound = db.session.execute(
        sa.select(InboundMessage.received_at, InboundMessage.body, InboundMessage.reply)
        .where(InboundMessage.from_number == number).order_by(InboundMessage.id.desc()).limit(limit)).all()
    outbound = db.session.execute(
        sa.select(OutboundMessage.created_at, OutboundMessage.body, OutboundMessage.status)
        .where(OutboundMessage.to_number == number).order_by(OutboundMessage.id.desc()).limit(limit)).all()
    lines: list[tuple[datetime, str, str]] = []
    for at, body, reply in inbound:
        lines.append((at, "in", body))
        if reply:
            lines.append((at, "reply", reply))
    for at, body, status in outbound:
        lines.append((at, "out", f"{body} [{status}]"))
    lines.sort(key=lambda line: line[0])
    return lines[-limit:]


def default_simulation_number() -> str | None:
    """The first co-op's number: where simulated texts go when no number is given."""
    return db.session.scalar(
        sa.select(Cooperative.sms_number).where(Cooperative.sms_number.is_not(None)).order_by(Cooperative.id).limit(1))
