"""One bad row never stops the clock: run a job's items one savepoint each.

Every clock job loops over items (series, offers, reminders, timesheet entries,
resolutions, hats...). `run_each` runs the step for each item inside its own
savepoint: an item that raises is rolled back alone, logged, and said once to
its co-op's facilitators (a web notice, and a text or email by their channel,
through `matching.services.notifications.notify_person`); the job carries on
with the next item and the runner commits what the others did.

"Once": the notice names the job and the item, and is not queued again while the
same notice already exists for that facilitator, so a poison item retried every
minute does not text anyone every minute. Notices carry no health details, only
the job's name and the item's number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import Notification
from careteams.matching.services.notifications import notify_person
from careteams.members.models import StaffRole, StaffRoleName

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class ItemResults:
    """What `run_each` did: the results of the items done, and the keys of those that failed."""

    done: list[Any] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def run_each(job_id: str, items: Iterable[T], step: Callable[[T], Any], *,
             key: Callable[[T], object] = lambda item: item,
             cooperative: Callable[[T], int | None] = lambda item: None) -> ItemResults:
    """Run `step(item)` for each item in its own savepoint; a failure is rolled back alone.

    `key(item)` names the item in logs and notices (an id, never personal details);
    `cooperative(item)` says whose facilitators hear about a failure (None: logged only).
    """
    results = ItemResults()
    for item in items:
        item_key = str(key(item))
        try:
            with db.session.begin_nested():
                results.done.append(step(item))
        except Exception:
            log.exception("clock job %s: item %s failed; rolled back alone, the job carries on", job_id, item_key)
            results.failed.append(item_key)
            try:
                coop_id = cooperative(item)
            except Exception:
                log.exception("clock job %s: could not tell whose item %s is", job_id, item_key)
                coop_id = None
            report_failed_item(job_id, item_key, coop_id)
    return results


BATCH = 500


def run_in_batches(job_id: str, items: Iterable[T], step: Callable[[T], Any], *,
                   key: Callable[[T], object] = lambda item: item,
                   cooperative: Callable[[T], int | None] = lambda item: None, size: int = BATCH) -> ItemResults:
    """Like `run_each`, for a step that only changes loaded objects (it must not flush):
    `size` items share one savepoint and one flush (the UPDATEs go as one batch), so a
    job of thousands of items is not three statements each. If a batch fails it is
    rolled back and its items run again one savepoint each (`run_each`): a poison item
    is still rolled back alone and said once, and the rest of its batch is done."""
    results = ItemResults()
    items = list(items)
    for start in range(0, len(items), size):
        batch = items[start:start + size]
        try:
            with db.session.begin_nested():
                done = [step(item) for item in batch]
                db.session.flush()
            results.done += done
        except Exception:
            log.info("clock job %s: a batch of %d items failed; running them one by one", job_id, len(batch))
            again = run_each(job_id, batch, lambda item: _step_and_flush(step, item), key=key, cooperative=cooperative)
            results.done += again.done
            results.failed += again.failed
    return results


def _step_and_flush(step: Callable[[T], Any], item: T) -> Any:
    result = step(item)
    db.session.flush()
    return result


def failure_notice(job_id: str, item_key: str) -> str:
    """The notice facilitators read: short (one text), no personal details."""
    return (f"careteams: the clock job {job_id} could not process item {item_key}. "
            "It was skipped and will be retried; please tell your administrator.")


def report_failed_item(job_id: str, item_key: str, cooperative_id: int | None) -> None:
    """Tell the co-op's facilitators once that an item of a job failed (never raises)."""
    if cooperative_id is None:
        return
    body = failure_notice(job_id, item_key)
    try:
        with db.session.begin_nested():
            facilitators = db.session.scalars(sa.select(StaffRole.person_id).where(
                StaffRole.cooperative_id == cooperative_id, StaffRole.role == StaffRoleName.facilitator)).all()
            for person_id in sorted(set(facilitators)):
                told = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
                    Notification.person_id == person_id, Notification.body == body))
                if not told:
                    notify_person(person_id, body, cooperative_id=cooperative_id)
            db.session.flush()
    except Exception:
        log.exception("clock job %s: could not tell the facilitators about item %s", job_id, item_key)
