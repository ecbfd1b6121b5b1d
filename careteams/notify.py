"""Tell people things, only if the change that caused it is committed.

What domain services call: `notify.queue(notify.Text(...))` or
`notify.queue(notify.Email(...))`. Texts become rows of the SMS outbox
(`outbound_message`), emails rows of the email outbox (`outbound_email`,
through `careteams.delivery`), both in the current transaction; the clock's
sender jobs send them after commit, never inside a request. A rolled back change
never tells anybody anything. Inside `quiet()` nothing is queued at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from careteams.delivery import Email, is_quiet, queue_email, quiet
from careteams.sms.services import enqueue

__all__ = ["Email", "Text", "is_quiet", "queue", "quiet"]


@dataclass(frozen=True)
class Text:
    to: str
    body: str
    from_number: str | None = None  # the co-op's number: it also picks the co-op
    kind: str = "notice"
    dedupe_key: str | None = None  # the same key never queues a second text


def queue(message: Email | Text) -> None:
    """Queue `message` in its outbox: it is sent after the current transaction commits."""
    if is_quiet():
        return
    if isinstance(message, Text):
        enqueue(None, message.to, message.body, message.kind, dedupe_key=message.dedupe_key,
                from_number=message.from_number)
        return
    queue_email(message)
