"""Emails that leave only after commit, and the switch that keeps everything quiet.

The low layer under `careteams.notify` (which most services use) and the SMS
outbox: it imports no domain, so any domain may use it without an import
circle. Emails ride on the database session and are handed to the mail backend
when the transaction commits; a rolled back change never tells anybody anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_mailman import EmailMessage
from sqlalchemy import event
from sqlalchemy.orm import Session

from careteams.extensions import db

log = logging.getLogger(__name__)

_KEY = "careteams.pending_messages"
_QUIET = "careteams.notify.quiet"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


@contextmanager
def quiet() -> Iterator[None]:
    """Within this block nothing is sent or queued (the demo seed runs real flows
    that would otherwise text and email the demo people)."""
    db.session.info[_QUIET] = True
    try:
        yield
    finally:
        db.session.info.pop(_QUIET, None)


def is_quiet() -> bool:
    return bool(db.session.info.get(_QUIET))


def queue_email(message: Email) -> None:
    """Send `message` once the current transaction commits."""
    if is_quiet():
        return
    db.session.info.setdefault(_KEY, []).append(message)


def _deliver(message: Email) -> None:
    EmailMessage(subject=message.subject, body=message.body, to=[message.to]).send()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_KEY, [])
    if not pending:
        return
    if not current_app:
        return
    for message in pending:
        try:
            _deliver(message)
        except Exception:  # a failed send must not undo a committed change
            log.exception("could not deliver a %s", type(message).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
