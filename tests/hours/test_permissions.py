"""Permission matrix: for each hours action, who may and who is refused (and nothing changes).

Actors: the leader, an Hours checker hat, a circle member without it, the worker whose
hours they are, another worker of the team, the co-op's facilitator, another co-op's
facilitator and a stranger. Refusals are 403 for those who can see the team, 404 for
anyone the team (or the entry) is private from.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from careteams.errors import Forbidden, NotFound
from careteams.extensions import db
from careteams.hours.models import TimesheetEntry
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import runs, timesheets
from tests.hours.conftest import START, act, make_entry

NOW = START + timedelta(hours=3)
ACTORS = ["leader", "checker", "circle", "worker", "worker2", "facilitator", "other_facilitator", "stranger"]

OK, FORBID, HIDE = "ok", Forbidden, NotFound

# action: (the entry's status before, the call, expected per actor in ACTORS order)
MATRIX = {
    "view": (S.submitted, lambda a, e: timesheets.get_entry(a, e.id),
             [OK, OK, HIDE, OK, HIDE, OK, HIDE, HIDE]),
    "edit": (S.pending, lambda a, e: timesheets.update_entry(a, e.id, {"note": "x"}, NOW),
             [FORBID, FORBID, HIDE, OK, HIDE, FORBID, HIDE, HIDE]),
    "submit": (S.pending, lambda a, e: timesheets.submit_entry(a, e.id, NOW),
               [FORBID, FORBID, HIDE, OK, HIDE, FORBID, HIDE, HIDE]),
    "confirm": (S.submitted, lambda a, e: timesheets.confirm_entry(a, e.id, NOW),
                [OK, OK, HIDE, FORBID, HIDE, FORBID, HIDE, HIDE]),
    "adjust": (S.submitted, lambda a, e: timesheets.propose_adjustment(a, e.id, {"break_minutes": 10}, NOW),
               [OK, OK, HIDE, FORBID, HIDE, FORBID, HIDE, HIDE]),
    "dispute": (S.submitted, lambda a, e: timesheets.dispute_entry(a, e.id, "why", NOW),
                [OK, OK, HIDE, FORBID, HIDE, FORBID, HIDE, HIDE]),
    "accept": (S.adjustment_proposed, lambda a, e: timesheets.accept_adjustment(a, e.id, NOW),
               [FORBID, FORBID, HIDE, OK, HIDE, FORBID, HIDE, HIDE]),
    "reject": (S.adjustment_proposed, lambda a, e: timesheets.reject_adjustment(a, e.id, "no", NOW),
               [FORBID, FORBID, HIDE, OK, HIDE, FORBID, HIDE, HIDE]),
    "resolve": (S.disputed, lambda a, e: timesheets.resolve_dispute(a, e.id, {"outcome": "confirm"}, NOW),
                [FORBID, FORBID, HIDE, FORBID, HIDE, OK, HIDE, HIDE]),
    "correct": (S.confirmed, lambda a, e: timesheets.correct_entry(a, e.id, {"note": "fix"}, NOW),
                [OK, OK, HIDE, OK, HIDE, FORBID, HIDE, HIDE]),
}


def _prepare(world, status):
    entry = make_entry(world, status=status)
    if status == S.adjustment_proposed:
        entry.proposed_started_at, entry.proposed_ended_at = entry.started_at, entry.ended_at - timedelta(minutes=30)
        entry.proposed_break_minutes, entry.proposed_travel_minutes = 0, 0
        entry.proposed_by_id = world.leader.id
    if status == S.disputed:
        entry.disputed_at, entry.dispute_comment = NOW, "why"
    db.session.flush()
    return entry


def _snapshot(entry_id):
    db.session.expire_all()
    entry = db.session.get(TimesheetEntry, entry_id)
    return (entry.status, entry.note, entry.break_minutes, entry.confirmed_by_id,
            db.session.query(TimesheetEntry).count())


@pytest.mark.parametrize("action", list(MATRIX))
@pytest.mark.parametrize("who", range(len(ACTORS)), ids=ACTORS)
def test_hours_permission_matrix(world, action, who):
    status, call, expected = MATRIX[action]
    entry = _prepare(world, status)
    person = getattr(world, ACTORS[who])
    outcome = expected[who]
    before = _snapshot(entry.id)
    if outcome == OK:
        call(act(person), entry)
    else:
        with pytest.raises(outcome):
            call(act(person), entry)
        assert _snapshot(entry.id) == before


@pytest.mark.parametrize("who, outcome", [("worker", OK), ("worker2", OK), ("trial", OK), ("leader", FORBID),
                                          ("checker", OK), ("circle", FORBID), ("facilitator", FORBID),
                                          ("other_facilitator", HIDE), ("stranger", HIDE), ("other_worker", HIDE)])
def test_who_may_log_unplanned_support(world, who, outcome):
    # The Hours checker in this world is also a worker in the team, so they log their own hours.
    data = {"started_at": START, "ended_at": START + timedelta(hours=1)}
    person = getattr(world, who)
    count = db.session.query(TimesheetEntry).count()
    if outcome == OK:
        entry = timesheets.log_entry(act(person), world.team.id, data, NOW)
        assert entry.person_id == person.id and entry.status == S.pending
    else:
        with pytest.raises(outcome):
            timesheets.log_entry(act(person), world.team.id, data, NOW)
        assert db.session.query(TimesheetEntry).count() == count


@pytest.mark.parametrize("who, outcome", [("facilitator", OK), ("admin", OK), ("leader", HIDE), ("worker", HIDE),
                                          ("other_facilitator", HIDE), ("stranger", HIDE)])
def test_who_sees_disputes_and_runs(world, who, outcome):
    person = getattr(world, who)
    for call in (lambda a: timesheets.disputes(a, world.coop.id), lambda a: runs.list_runs(a, world.coop.id)):
        if outcome == OK:
            call(act(person))
        else:
            with pytest.raises((NotFound, Forbidden)):
                call(act(person))


def test_to_confirm_lists_only_teams_where_the_actor_checks_and_never_their_own(world):
    mine = make_entry(world, person=world.checker, status=S.submitted)
    theirs = make_entry(world, status=S.submitted)
    assert [e.id for e in timesheets.entries_to_confirm(act(world.checker), NOW)] == [theirs.id]
    assert {e.id for e in timesheets.entries_to_confirm(act(world.leader), NOW)} == {mine.id, theirs.id}
    assert timesheets.entries_to_confirm(act(world.circle), NOW) == []
    assert timesheets.entries_to_confirm(act(world.facilitator), NOW) == []
