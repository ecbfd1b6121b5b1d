"""Emails into the outbox, and the switch that keeps everything quiet.

The low layer under `careteams.notify` (which most services use) and the SMS
services: it imports no domain but the mail outbox, so any domain may use it
without an import circle. `queue_email` writes an `outbound_email` row in the
current transaction (careteams/mail): the row commits or rolls back with the
change that caused it, and the clock's sender job (`mail.send_outbox`, every few
seconds) sends it afterwards. Nothing here, and nothing in a request, ever opens
a connection to the mail server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from careteams.extensions import db
from careteams.mail.services import enqueue

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
    """Queue `message` in the email outbox, in the current transaction: it is sent
    by the sender job once the transaction has committed (never if it rolls back)."""
    if is_quiet():
        return
    enqueue(message.to, message.subject, message.body)
