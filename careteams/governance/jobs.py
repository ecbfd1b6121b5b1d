"""The clock's governance jobs: open scheduled votes and close finished ones, exactly once."""

from __future__ import annotations

from datetime import datetime

from careteams.extensions import db
from careteams.governance.models import Resolution
from careteams.governance.services import mixing, resolutions, results
from careteams.jobs_util import run_each
from careteams.scheduler import job


@job("governance.open_and_close", "interval", minutes=1)
def open_and_close(now: datetime) -> dict[str, int]:
    """Open resolutions whose opening time has come; close and tally those whose time is up.

    Each step is a conditional update, so a second clock (or a re-run) finds
    nothing left to do. Each resolution is handled in its own savepoint
    (careteams.jobs_util.run_each): one that fails is rolled back alone, logged,
    said once to its co-op's facilitators and retried on the next run.

    Then each open vote's ballots are rewritten in random order
    (careteams.governance.services.mixing.shuffle_ballots), so a ballot stays linkable to
    its voter through PostgreSQL's xmin and ctid for at most a minute.
    """
    opened = run_each("governance.open_and_close", resolutions.due_to_open(now),
                      lambda rid: resolutions.start_voting(rid, now), key=lambda rid: f"resolution {rid}",
                      cooperative=_cooperative_of)
    closed = run_each("governance.open_and_close", results.due_to_close(now),
                      lambda rid: results.close_resolution(rid, now), key=lambda rid: f"resolution {rid}",
                      cooperative=_cooperative_of)
    run_each("governance.open_and_close", mixing.to_shuffle(), mixing.shuffle_ballots,
             key=lambda rid: f"resolution {rid}", cooperative=_cooperative_of)
    return {"opened": sum(map(bool, opened.done)), "closed": sum(map(bool, closed.done))}


def _cooperative_of(resolution_id: int) -> int | None:
    resolution = db.session.get(Resolution, resolution_id)
    return resolution.cooperative_id if resolution else None

