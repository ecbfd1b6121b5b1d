"""Scheduled housekeeping for accounts."""

from datetime import datetime

from careteams.auth import services
from careteams.scheduler import job


@job("auth.purge_expired_links", "interval", hours=6)
def purge_expired_links(now: datetime) -> int:
    return services.purge_expired_links(now)
