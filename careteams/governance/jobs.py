"""The clock's governance jobs: open scheduled votes and close finished ones, exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from careteams.extensions import db
from careteams.governance.services import resolutions, results
from careteams.scheduler import job

log = logging.getLogger(__name__)


@job("governance.open_and_close", "interval", minutes=1)
def open_and_close(now: datetime) -> dict[str, int]:
    """Open resolutions whose opening time has come; close and tally those whose time is up.

    Each step is a conditional update, so a second clock (or a re-run) finds
    nothing left to do. Each resolution is handled in its own savepoint: one
    that fails is logged and retried on the next run without holding up the rest.
    """
    opened = sum(_each(resolutions.start_voting, rid, now) for rid in resolutions.due_to_open(now))
    closed = sum(_each(results.close_resolution, rid, now) for rid in results.due_to_close(now))
    return {"opened": opened, "closed": closed}


def _each(step: Callable[[int, datetime], bool], resolution_id: int, now: datetime) -> bool:
    try:
        with db.session.begin_nested():
            return step(resolution_id, now)
    except Exception:
        log.exception("governance job: %s failed for resolution %s", step.__name__, resolution_id)
        return False
