"""Use-cases of the email outbox: queue, claim, send one, settle, inspect.

Services flush; the caller commits. `enqueue` runs inside whatever request or job
queued the email, so the row commits (or rolls back) with the change that caused
it. Everything else is for the sender job (careteams/mail/jobs.py) and the CLI;
only `send_claimed` talks to the mail server, and it is never called in a request.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from datetime import datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_mailman import EmailMessage

from careteams.db import utcnow
from careteams.extensions import db
from careteams.mail import rules
from careteams.mail.enums import EmailStatus, SendOutcome
from careteams.mail.models import OutboundEmail

log = logging.getLogger(__name__)

# What send_claimed answers when the mail server could not even be reached: the
# message is put back for a retry, and the sender stops this run (the next
# messages would only wait for the same timeout).
UNREACHABLE = "unreachable"


def enqueue(to: str, subject: str, body: str, now: datetime | None = None) -> OutboundEmail | None:
    """Queue an email in the current transaction; the sender job sends it after commit.

    Returns the row, or None when there is no address. An address that is not
    one is kept, visibly failed, so nobody wonders why the email never came.
    """
    address = (to or "").strip()
    if not address:
        return None
    now = now or utcnow()
    message = OutboundEmail(to_address=address[:254], subject=rules.clean_subject(subject), body=body or "",
                            status=EmailStatus.pending, attempts=0, next_attempt_at=now, created_at=now)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        message.status = EmailStatus.failed
        message.error_message = "not a valid email address"
        message.status_at = now
    db.session.add(message)
    db.session.flush()
    return message


def claim_due(now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due emails for this sender; each goes to one sender only.

    As the SMS outbox: FOR UPDATE SKIP LOCKED on PostgreSQL, a claim token either
    way. The caller commits before sending.
    """
    due = db.session.scalars(
        sa.select(OutboundEmail.id)
        .where(OutboundEmail.status == EmailStatus.pending, OutboundEmail.next_attempt_at <= now)
        .order_by(OutboundEmail.next_attempt_at, OutboundEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return []
    token = uuid.uuid4().hex
    db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.id.in_(due), OutboundEmail.status == EmailStatus.pending)
        .values(status=EmailStatus.claimed, claim_token=token, claimed_at=now, attempts=OutboundEmail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return list(db.session.scalars(
        sa.select(OutboundEmail.id).where(OutboundEmail.claim_token == token).order_by(OutboundEmail.id)))


def settle_stale_claims(now: datetime) -> int:
    """Claims whose sender vanished mid-send: unknown (never resent blindly)."""
    result = db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.status == EmailStatus.claimed, OutboundEmail.claimed_at < now - rules.CLAIM_TIMEOUT)
        .values(status=EmailStatus.unknown, status_at=now, claim_token=None, body="",
                error_message="the sender stopped while sending; it may or may not have gone")
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result.rowcount or 0


def release_claims(message_ids: list[int], now: datetime) -> None:
    """Put claimed emails back, untried (the sender stopped before them)."""
    if not message_ids:
        return
    db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.id.in_(message_ids), OutboundEmail.status == EmailStatus.claimed)
        .values(status=EmailStatus.pending, claim_token=None, claimed_at=None,
                attempts=sa.case((OutboundEmail.attempts > 0, OutboundEmail.attempts - 1), else_=0),
                next_attempt_at=now + rules.FIRST_RETRY)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


def send_claimed(message_id: int, connection, now: datetime) -> str:
    """Send one claimed email through `connection` (a Flask-Mailman backend) and
    record the outcome: "sent", "retry", "failed", "unknown", or UNREACHABLE."""
    row = db.session.execute(
        sa.select(OutboundEmail.to_address, OutboundEmail.subject, OutboundEmail.body, OutboundEmail.attempts)
        .where(OutboundEmail.id == message_id, OutboundEmail.status == EmailStatus.claimed)
    ).first()
    if row is None:
        return "skipped"  # settled by someone else meanwhile
    try:
        message = EmailMessage(subject=row.subject, body=row.body, to=[row.to_address], connection=connection)
        message.message()  # builds the headers: a bad one fails here, before any connection
    except Exception as exc:
        log.warning("email %s cannot be built: %s", message_id, type(exc).__name__)
        _finish(message_id, EmailStatus.failed, now, error_message=f"cannot be built: {type(exc).__name__}")
        return SendOutcome.failed.value
    try:
        connection.open()
    except Exception as exc:
        # Nothing left us: a refused or timed-out connection, a failed login or TLS.
        _record(message_id, SendOutcome.retry, row.attempts, now, _describe(exc), _code(exc))
        _close(connection)
        return UNREACHABLE
    try:
        count = connection.send_messages([message])
    except Exception as exc:
        outcome, code = classify_send_error(exc)
        return _record(message_id, outcome, row.attempts, now, _describe(exc), code)
    finally:
        _close(connection)
    if not count:
        return _record(message_id, SendOutcome.failed, row.attempts, now, "the backend sent nothing", None)
    return _record(message_id, SendOutcome.sent, row.attempts, now, None, None)


def classify_send_error(exc: Exception) -> tuple[SendOutcome, str | None]:
    """What an error while sending (after the connection was open) means."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        temporary = codes and all(400 <= code < 500 for code in codes)
        return (SendOutcome.retry if temporary else SendOutcome.failed), str(codes[0]) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        # Refused sender or data: the server answered, so it did not take the message.
        return rules.outcome_for_smtp_code(exc.smtp_code), str(exc.smtp_code)
    # A timeout or a dropped connection after the message started to leave: it may have gone.
    return SendOutcome.unknown, None


def mark_unknown(message_id: int, now: datetime, reason: str) -> None:
    """An error nobody classified while this email was being sent: never resent blindly."""
    _finish(message_id, EmailStatus.unknown, now, error_message=reason[:300])


def _record(message_id: int, outcome: SendOutcome, attempts: int, now: datetime, error: str | None,
            code: str | None) -> str:
    if outcome == SendOutcome.sent:
        _finish(message_id, EmailStatus.sent, now, sent_at=now, error_code=None, error_message=None)
        return outcome.value
    if outcome == SendOutcome.retry:
        if attempts >= rules.MAX_ATTEMPTS:
            _finish(message_id, EmailStatus.failed, now, error_code=code,
                    error_message=f"gave up after {attempts} attempts: {error}"[:300])
            return SendOutcome.failed.value
        _finish(message_id, EmailStatus.pending, now, error_code=code, error_message=(error or "")[:300],
                next_attempt_at=now + rules.retry_delay(attempts))
        return outcome.value
    status = EmailStatus.unknown if outcome == SendOutcome.unknown else EmailStatus.failed
    _finish(message_id, status, now, error_code=code, error_message=(error or "")[:300])
    return outcome.value


def _finish(message_id: int, status: EmailStatus, now: datetime, **values) -> bool:
    if status in rules.FINAL_STATUSES:
        values["body"] = ""  # may hold a one-time link: gone once the email is done with
    result = db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.id == message_id, OutboundEmail.status == EmailStatus.claimed)
        .values(status=status, status_at=now, claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return (result.rowcount or 0) == 1


def _describe(exc: Exception) -> str:
    # The exception's type and the server's reply code only: never the address or the body.
    code = _code(exc)
    return f"{type(exc).__name__}" + (f" {code}" if code else "")


def _code(exc: Exception) -> str | None:
    code = getattr(exc, "smtp_code", None)
    return str(code)[:20] if code is not None else None


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:  # a connection that is already broken: nothing left to close
        log.debug("closing the mail connection failed", exc_info=True)


# --- inspecting -----------------------------------------------------------------


def counts_by_status() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(OutboundEmail.status, sa.func.count()).group_by(OutboundEmail.status)).all()
    return {str(status): count for status, count in rows}


def latest(status: EmailStatus | None = None, limit: int = 20) -> list[OutboundEmail]:
    """The latest emails in the outbox, newest first (optionally of one status)."""
    query = sa.select(OutboundEmail).order_by(OutboundEmail.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboundEmail.status == status)
    return list(db.session.scalars(query))
