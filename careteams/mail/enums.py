"""The states of an email in the outbox, and what one send attempt came to."""

from __future__ import annotations

import enum


class EmailStatus(enum.StrEnum):
    pending = "pending"  # waiting to be sent (or to be retried)
    claimed = "claimed"  # a sender is sending it now
    sent = "sent"  # the mail server accepted it
    failed = "failed"  # refused for good, or gave up after MAX_ATTEMPTS tries
    unknown = "unknown"  # the server may have taken it: never resent blindly


class SendOutcome(enum.StrEnum):
    sent = "sent"
    retry = "retry"  # the server cannot have taken it: connection refused, timeout on connect, 4xx
    unknown = "unknown"  # a timeout or a dropped connection after the message left us
    failed = "failed"  # refused for good (5xx), or a message that cannot be built
