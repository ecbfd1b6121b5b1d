"""Tell people things, only if the change that caused it is committed.

What domain services call: `notify.tell(person, ...)` to tell a person the way
they chose on My account (text, email, or web only: members.rules.reach_by), or
`notify.queue(notify.Text(...))` / `notify.queue(notify.Email(...))` for a given
number or address. Texts become rows of the SMS outbox
(`outbound_message`), emails rows of the email outbox (`outbound_email`,
through `careteams.delivery`), both in the current transaction; the clock's
sender jobs send them after commit, never inside a request. A rolled back change
never tells anybody anything. Inside `quiet()` nothing is queued at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from careteams.delivery import Email, is_quiet, queue_email, quiet
from careteams.members.models import Person
from careteams.members.rules import Reach, reach_by
from careteams.sms.services import add_web_notice, enqueue

__all__ = ["Email", "Text", "is_quiet", "queue", "quiet", "tell"]


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


def tell(person: Person, body: str, *, subject: str, email_body: str | None = None, from_number: str | None = None,
         kind: str = "notice", dedupe_key: str | None = None, link: str | None = None,
         must_reach: bool = False) -> Reach | None:
    """Tell a person something the way they chose (members.rules.reach_by): a text, an
    email (`email_body` if given, else `body`), or, for "web only", a notice on My notices.
    `must_reach` (invitations, resets, codes) sends even to a web-only person. How it
    went, or None inside quiet()."""
    if is_quiet():
        return None
    how = reach_by(person, must_reach=must_reach)
    if how == Reach.text:
        queue(Text(to=person.phone, body=body, from_number=from_number, kind=kind, dedupe_key=dedupe_key))
    elif how == Reach.email:
        queue(Email(to=person.email, subject=subject, body=email_body or body))
    else:
        add_web_notice(person, body, kind, dedupe_key, link=link)
    return how
