"""Where other domains plug in the text commands they own.

The SMS domain parses texts, knows who sent them and handles HELP, STOP and START
itself. Verbs about shifts (accept, decline, shifts, offers, cover, here, done) belong to
the rota, which registers one handler per verb in `careteams/rota/sms.py`:

    from careteams.sms.commands import SmsContext, sms_command
    from careteams.sms.rules import Command, render

    @sms_command("accept")
    def accept(ctx: SmsContext, command: Command) -> str:
        ...  # check with the rota's permission predicates, book, flush
        return render("booked", when=..., team=..., code=command.code)

A handler runs inside a savepoint of the webhook's transaction: it flushes, never
commits, and returns the reply (one GSM-7 segment, no health details). Raising an
AppError rolls its changes back and the person gets a short generic answer.
Until a verb has a handler, the reply says the feature is not available yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from careteams.domains import domain_modules
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor
from careteams.members.services import actor_for
from careteams.sms.rules import DISPATCHED_VERBS, Command, Verb


@dataclass
class SmsContext:
    """Who texted which co-op, and when."""

    cooperative: Cooperative
    person: Person
    now: datetime
    inbound_id: int

    @cached_property
    def actor(self) -> Actor:
        return actor_for(self.person)


Handler = Callable[[SmsContext, Command], str]

HANDLERS: dict[Verb, Handler] = {}

# Who owns a code: f(person, code) -> the ids of the co-ops in which the person has
# something with that code. A code that belongs only to other co-ops is answered
# "doesn't match" before any handler runs: the number texted picks the co-op.
CodeOwner = Callable[[Person, str], set[int]]

CODE_OWNERS: list[CodeOwner] = []

# How the not-available reply names each feature.
FEATURE_NAMES = {
    Verb.accept: "taking shifts",
    Verb.decline: "saying no to shifts",
    Verb.shifts: "listing shifts",
    Verb.offers: "listing offers",
    Verb.cover: "asking for cover",
    Verb.here: "checking in",
    Verb.done: "logging hours",
}


# A handler's settled answer: f(ctx, command) -> the reply, or None to run the handler.
# It only reads (what is committed now), so it runs before the handler's savepoint: the
# many texts whose answer nothing they do could change (a Y for a shift someone else
# already holds) are answered without one (issue 20, the Y storm).
SettledAnswer = Callable[[SmsContext, Command], str | None]


def sms_command(verb: str, *, settled: SettledAnswer | None = None):
    """Register `f(ctx, command) -> reply` as the handler of one command verb (and
    `settled`, a read-only answer tried first, as its `settled_answer`)."""
    key = Verb(verb)
    if key not in DISPATCHED_VERBS:
        raise ValueError(f"{verb!r} is handled by the SMS domain itself")

    def decorator(func: Handler) -> Handler:
        existing = HANDLERS.get(key)
        if existing is not None and existing is not func and existing.__qualname__ != func.__qualname__:
            raise RuntimeError(f"two handlers for {verb!r}: {existing.__module__} and {func.__module__}")
        func.settled_answer = settled  # type: ignore[attr-defined]
        HANDLERS[key] = func
        return func

    return decorator


def sms_code_owner(func: CodeOwner) -> CodeOwner:
    """Register `f(person, code) -> co-op ids` (a domain whose commands carry codes)."""
    if all(existing.__qualname__ != func.__qualname__ or existing.__module__ != func.__module__
           for existing in CODE_OWNERS):
        CODE_OWNERS.append(func)
    return func


def code_in_other_cooperative(person: Person, code: str, cooperative_id: int) -> bool:
    """Whether the code is known only in co-ops other than the one texted."""
    load_handlers()
    owners: set[int] = set()
    for owner in CODE_OWNERS:
        owners |= owner(person, code)
    return bool(owners) and cooperative_id not in owners


_loaded = False


def load_handlers() -> dict[Verb, Handler]:
    """Import every domain's `sms` module so the registry is complete."""
    global _loaded
    if not _loaded:
        domain_modules("sms")
        _loaded = True
    return HANDLERS


def handler_for(verb: Verb) -> Handler | None:
    return load_handlers().get(verb)
