"""Scheduled work for teams."""

from datetime import datetime

from careteams.scheduler import job
from careteams.teams.services import circle


@job("teams.expire_hats", "interval", minutes=15)
def expire_hats(now: datetime) -> int:
    """Close hats past their end date (idempotent: each is closed and logged once)."""
    return circle.expire_hats(now)
