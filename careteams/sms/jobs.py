"""The outbox sender, run by the clock (and safe to run in several processes at once).

Unlike other jobs, the sender commits as it goes: a text is a side effect outside
the database, so each claim is committed before the request to Twilio, and each
result right after it. A crash can then never resend a text that went; at worst
a claimed text is marked `unknown` later and settled by the status callback.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from careteams.extensions import db
from careteams.scheduler import job
from careteams.sms import services
from careteams.sms.gateway import get_gateway

BATCH_SIZE = 20
MAX_BATCHES = 25  # then let the next run carry on, so one run never hogs the clock


# Every 5 s: sign-in codes, reset and invitation links go this way and nobody should wait long.
@job("sms.send_outbox", "interval", seconds=5)
def send_outbox(now: datetime, *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES,
                gateway=None) -> dict[str, int]:
    """Send every due text in the outbox; returns how many had each outcome."""
    gateway = gateway or get_gateway()
    counts: Counter[str] = Counter()
    services.settle_stale_claims(now)
    db.session.commit()
    for _ in range(max_batches):
        claimed = services.claim_outbound(now, batch_size)
        db.session.commit()
        if not claimed:
            break
        for message_id in claimed:
            counts[services.send_claimed(message_id, gateway, now)] += 1
            db.session.commit()
    return dict(counts)
