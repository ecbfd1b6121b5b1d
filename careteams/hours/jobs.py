"""The hours clock jobs. Each flushes; the runner commits; each is idempotent."""

from __future__ import annotations

from datetime import datetime

from careteams.hours.services import clock
from careteams.scheduler import job


@job("hours.pending", "interval", minutes=10)
def pending(now: datetime) -> int:
    return clock.create_pending_entries(now)


@job("hours.auto_confirm", "interval", minutes=15)
def auto_confirm(now: datetime) -> int:
    return clock.auto_confirm_due(now)


@job("hours.remind", "interval", hours=1)
def remind(now: datetime) -> int:
    return clock.remind_pending(now)
