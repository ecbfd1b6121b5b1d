"""Pure rules for the email outbox: retries and what an SMTP reply means.

The numbers are the SMS outbox's (careteams/sms/rules.py), so both outboxes
behave alike; tests/mail/test_outbox.py checks they stay in step.
"""

from __future__ import annotations

from datetime import timedelta

from careteams.mail.enums import EmailStatus, SendOutcome

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# A claimed email whose sender vanished mid-send may or may not have gone: after
# this long it is marked unknown, never resent blindly.
CLAIM_TIMEOUT = timedelta(minutes=10)

FINAL_STATUSES = frozenset({EmailStatus.sent, EmailStatus.failed, EmailStatus.unknown})

SUBJECT_LENGTH = 200


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: doubling, capped."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def outcome_for_smtp_code(code: int | None) -> SendOutcome:
    """An SMTP error reply: 4xx is temporary (try again), 5xx is final."""
    if code is not None and 400 <= code < 500:
        return SendOutcome.retry
    return SendOutcome.failed


def clean_subject(subject: str) -> str:
    """One line (a header cannot hold a line break), at most SUBJECT_LENGTH characters."""
    return " ".join((subject or "").split())[:SUBJECT_LENGTH]
