"""Closing a resolution: the tally of its stored ballots, the published result, and reading it."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from careteams.errors import Conflict, ensure
from careteams.extensions import db
from careteams.governance import permissions as perm
from careteams.governance import rules
from careteams.governance.enums import ResolutionKind, ResolutionStatus
from careteams.governance.models import Ballot, ElectorateEntry, Resolution
from careteams.governance.services.common import tell_electorate
from careteams.members.models import Cooperative
from careteams.members.permissions import Actor


def close_resolution(resolution_id: int, now: datetime, tell: bool = True) -> bool:
    """Close and tally a resolution whose time is up, exactly once (True if this call did it)."""
    closed = db.session.execute(
        sa.update(Resolution)
        .where(Resolution.id == resolution_id, Resolution.status == ResolutionStatus.open,
               Resolution.closes_at <= now)
        .values(status=ResolutionStatus.closed, closed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed != 1:
        return False
    resolution = db.session.get(Resolution, resolution_id)
    db.session.refresh(resolution)
    counted = count(resolution)
    resolution.result = publish(resolution, counted, _receipts(resolution))
    resolution.carried = counted.carried
    db.session.flush()
    coop = db.session.get(Cooperative, resolution.cooperative_id)
    if tell:
        tell_electorate(coop, resolution, f'{coop.name}: voting has closed on "{resolution.title}". The results are published.',
                         f"Voting has closed: {resolution.title}")
    return True


def count(resolution: Resolution) -> rules.Tally:
    """Tally the ballots stored for a resolution (pure rules over the stored rows)."""
    keys = {o.id: o.key for o in resolution.options}
    ballots = [rules.Ballot(keys[option_id] if option_id is not None else None, member_class.value)
               for option_id, member_class in db.session.execute(
                   sa.select(Ballot.option_id, Ballot.member_class).where(Ballot.resolution_id == resolution.id))]
    heads = db.session.scalar(sa.select(sa.func.count()).select_from(ElectorateEntry).where(
        ElectorateEntry.resolution_id == resolution.id, ElectorateEntry.has_voted.is_(True)))
    return rules.tally(
        resolution.kind, [o.key for o in resolution.options], ballots,
        cap=Fraction(resolution.investor_cap_num, resolution.investor_cap_den), threshold=resolution.threshold,
        electorate=resolution.electorate_size or 0, quorum_min_members=resolution.quorum_min_members,
        quorum_percent=resolution.quorum_percent, heads=heads,
    )


def _receipts(resolution: Resolution) -> list[str]:
    return sorted(db.session.scalars(sa.select(Ballot.receipt).where(Ballot.resolution_id == resolution.id)))


def publish(resolution: Resolution, counted: rules.Tally, receipts: list[str]) -> dict[str, Any]:
    """The published result: everything needed to recount by hand, fractions as strings."""
    labels = {o.key: o.label for o in resolution.options}
    if counted.kind == ResolutionKind.poll:
        if not counted.quorum.quorate:
            outcome = "No result: the vote was not quorate."
        elif counted.tie:
            outcome = "Tie between " + " and ".join(labels[k] for k in counted.winners) + "."
        elif counted.winners:
            outcome = f"{labels[counted.winners[0]]} has the most support."
        else:
            outcome = "No result: no votes were counted."
    elif not counted.quorum.quorate:
        outcome = "Not carried: the vote was not quorate."
    else:
        outcome = "Carried." if counted.carried else "Not carried."
    q = counted.quorum
    return {
        "outcome": outcome,
        "carried": counted.carried,
        "winners": list(counted.winners),
        "tie": counted.tie,
        "kind": counted.kind.value,
        "threshold": resolution.threshold.value,
        "investor_cap": rules.fraction_str(Fraction(resolution.investor_cap_num, resolution.investor_cap_den)),
        "cap_applies": rules.capped(counted.kind),
        "non_investor_ballots": counted.non_investor_ballots,
        "investor_ballots": counted.investor_ballots,
        "investor_weight": rules.fraction_str(counted.investor_weight),
        "investor_share": rules.fraction_str(counted.investor_share()),
        "options": [
            {"key": key, "label": labels[key], "total": rules.fraction_str(counted.totals[key]),
             "percent": counted.percent(key)}
            for key in counted.options
        ],
        "counted": rules.fraction_str(counted.counted),
        # Per-class counts would show small classes' votes; only the split the investor cap
        # needs is published (investor / non-investor, and all), or just "all" without a cap.
        "counts": rules.group_counts(counted.counts, counted.kind),
        "ballots_by_group": rules.group_sizes(counted.ballots_by_class, counted.kind)
        | {rules.ALL: sum(counted.ballots_by_class.values())},
        "quorum": {"heads": q.heads, "electorate": q.electorate, "min_members": q.min_members,
                   "percent": q.percent, "required": q.required, "quorate": q.quorate},
        "electorate_hash": resolution.electorate_hash,
        "receipts": receipts,
        "warnings": list(counted.warnings),
    }


def results(actor: Actor, coop: Cooperative, resolution: Resolution) -> dict[str, Any]:
    """A closed resolution's published results and its electorate's canonical lines."""
    ensure(perm.can_see_resolutions(actor, coop.id), not_found=True)
    if resolution.status != ResolutionStatus.closed or resolution.result is None:
        raise Conflict("Results are published when voting closes.", code="not_closed")
    entries = db.session.execute(sa.select(ElectorateEntry.membership_id, ElectorateEntry.member_class).where(
        ElectorateEntry.resolution_id == resolution.id)).all()
    return {"resolution": resolution, "result": resolution.result,
            "electorate": rules.electorate_lines((m, c.value) for m, c in entries)}


def due_to_close(now: datetime) -> list[int]:
    return list(db.session.scalars(sa.select(Resolution.id).where(
        Resolution.status == ResolutionStatus.open, Resolution.closes_at <= now).order_by(Resolution.id)))
