"""An entry's history: every service that changes an entry records a step here
(who, in which role, what they said, the figures before and after), and the entry
page and GET /timesheets/<id>/history read it back in order."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.extensions import db
from careteams.hours import permissions as perm
from careteams.hours.enums import EntryEventKind
from careteams.hours.models import TimesheetEntry, TimesheetEntryEvent
from careteams.teams.permissions import TeamAccess

K = EntryEventKind


def figures(entry: TimesheetEntry) -> dict:
    """The figures a dispute is about, as plain JSON (times in UTC, ISO 8601)."""
    return {"started_at": entry.started_at.isoformat(), "ended_at": entry.ended_at.isoformat(),
            "break_minutes": entry.break_minutes, "travel_minutes": entry.travel_minutes}


def record(entry: TimesheetEntry, kind: EntryEventKind, at: datetime, actor_id: int | None, role: str,
           words: str | None = None, before: dict | None = None, after: dict | None = None,
           other_entry_id: int | None = None) -> TimesheetEntryEvent:
    """Add one step to the entry's history (the entry must have an id: flush first).
    Figures are kept only when they changed."""
    if before is not None and before == after:
        before = after = None
    event = TimesheetEntryEvent(entry_id=entry.id, kind=kind, at=at, actor_id=actor_id, role=role,
                                words=words or None, figures_before=before, figures_after=after,
                                other_entry_id=other_entry_id)
    db.session.add(event)
    return event


def events_of(entry: TimesheetEntry) -> list[TimesheetEntryEvent]:
    """The entry's steps, oldest first (the caller has checked the actor may see the entry)."""
    return list(db.session.scalars(sa.select(TimesheetEntryEvent).where(TimesheetEntryEvent.entry_id == entry.id)
                                   .order_by(TimesheetEntryEvent.at, TimesheetEntryEvent.id)))


def role_of(access: TeamAccess, worker_id: int) -> str:
    """The side this person speaks for on this entry."""
    if access.person_id == worker_id:
        return "worker"
    if perm.is_checker(access):
        return "checker"
    return "facilitator" if access.is_facilitator else "none"


WHAT = {
    K.created: "made this entry when the booked visit ended",
    K.logged: "logged these hours",
    K.edited: "changed the hours",
    K.submitted: "submitted the hours",
    K.confirmed: "confirmed the hours",
    K.auto_confirmed: "confirmed the hours because nobody answered in time",
    K.adjustment_proposed: "proposed other figures",
    K.accepted: "accepted the proposed figures",
    K.rejected: "did not accept the proposed figures, so the hours are in dispute",
    K.disputed: "disputed the hours",
    K.answered: "answered",
    K.replied: "replied",
    K.settled: "settled the dispute: the hours are confirmed",
    K.voided: "settled the dispute: not worked, nothing is paid",
    K.corrected: "made a correction of these hours",
    K.correction: "made this entry as a correction",
}
SIDE = {"worker": "the worker", "checker": "for the team", "facilitator": "facilitator"}


def _figures_text(values: dict | None, zone: ZoneInfo) -> str:
    if not values:
        return ""
    start = datetime.fromisoformat(values["started_at"]).astimezone(zone)
    end = datetime.fromisoformat(values["ended_at"]).astimezone(zone)
    return (f"{start:%a %-d %b %H:%M} to {end:%H:%M}, breaks {values['break_minutes']} min, "
            f"travel {values['travel_minutes']} min")


def timeline(entry: TimesheetEntry, events: list[TimesheetEntryEvent]) -> list[dict]:
    """The history in plain words, times on the team's clock."""
    zone = ZoneInfo(entry.team.zone)
    steps = []
    for event in events:
        if event.role == "clock" or event.actor is None:
            who = "careteams"
        else:
            who = f"{event.actor.name} ({SIDE.get(event.role, event.role)})"
        what = WHAT.get(event.kind, str(event.kind))
        if event.kind == K.created and event.role == "worker":
            what = "sent the hours by text"
        if event.other_entry_id and event.kind in (K.corrected, K.correction):
            what += f" (entry {event.other_entry_id})"
        steps.append({"event": event, "at": event.at.astimezone(zone), "who": who, "what": what,
                      "words": event.words, "before": _figures_text(event.figures_before, zone),
                      "after": _figures_text(event.figures_after, zone)})
    return steps
