"""The email sender, run by the clock every few seconds (safe in several processes).

As the SMS sender: each claim is committed before the mail server is called and
each result right after, so a crash never resends an email that went (a claim
left behind becomes `unknown` after rules.CLAIM_TIMEOUT). Each email is its own
item of `careteams.jobs_util.run_each`: an error nobody foresaw while sending one
rolls back that one alone, marks it `unknown` (it may have gone) and the job
carries on with the next. A mail server that cannot be reached ends the run: the
emails not yet tried go back to the outbox untouched.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from careteams.extensions import db, mail
from careteams.jobs_util import run_each
from careteams.mail import services
from careteams.scheduler import job

BATCH_SIZE = 20
MAX_BATCHES = 25  # then let the next run carry on, so one run never hogs the clock
INTERVAL_SECONDS = 5  # one-time links and sign-in codes go this way: nobody should wait long


@job("mail.send_outbox", "interval", seconds=INTERVAL_SECONDS)
def send_outbox(now: datetime, *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES,
                connection=None) -> dict[str, int]:
    """Send every due email in the outbox; returns how many had each outcome."""
    connection = connection or mail.get_connection()  # MAIL_BACKEND, with MAIL_TIMEOUT
    counts: Counter[str] = Counter()
    services.settle_stale_claims(now)
    db.session.commit()
    for _ in range(max_batches):
        claimed = services.claim_due(now, batch_size)
        db.session.commit()
        if not claimed:
            break
        for index, message_id in enumerate(claimed):
            results = run_each("mail.send_outbox", [message_id],
                               lambda item: services.send_claimed(item, connection, now),
                               key=lambda item: f"outbound_email:{item}")
            if results.failed:
                services.mark_unknown(message_id, now, "an unexpected error while sending")
                outcome = "unknown"
            else:
                outcome = results.done[0]
            counts[outcome] += 1
            db.session.commit()
            if outcome == services.UNREACHABLE:
                services.release_claims(claimed[index + 1:], now)
                db.session.commit()
                return dict(counts)
    return dict(counts)
