"""Plain enums for text messages (no Flask, no database): command verbs, send
outcomes and delivery statuses. `rules.py` and `models.py` take them from here."""

from __future__ import annotations

import enum


class Verb(enum.StrEnum):
    accept = "accept"
    decline = "decline"
    shifts = "shifts"
    offers = "offers"
    cover = "cover"
    here = "here"
    done = "done"
    help = "help"
    stop = "stop"
    start = "start"
    cancel_hint = "cancel_hint"  # CANCEL/END with more words: not an opt-out, point at COVER
    unknown = "unknown"


class SendOutcome(enum.StrEnum):
    accepted = "accepted"  # Twilio took it
    retry = "retry"  # Twilio cannot have taken it: connection refused, 429, 503
    unknown = "unknown"  # the request may have reached Twilio: never resend
    failed = "failed"  # Twilio refused it for good (21610 opted out, bad number...)


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting to be sent (or to be retried)
    claimed = "claimed"  # a sender is sending it now
    queued = "queued"  # Twilio accepted it
    sent = "sent"  # handed to the carrier
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"
    unknown = "unknown"  # we cannot tell whether Twilio accepted it; a callback may say
    skipped = "skipped"  # not sent: the person has opted out


# An opt-out's sender number meaning "every number we text from": opt-outs recorded
# before they were kept per sender number (migration 0012) keep silencing everything.
ANY_SENDER = "*"
