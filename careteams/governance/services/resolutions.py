"""Resolutions: list, draft, change, open (or schedule) and start voting with a frozen electorate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.governance import permissions as perm
from careteams.governance import rules
from careteams.governance.enums import ResolutionKind, ResolutionStatus, Threshold
from careteams.governance.models import ElectorateEntry, Resolution, ResolutionOption
from careteams.governance.services.common import tell_electorate
from careteams.members.models import Cooperative, Membership, MembershipStatus
from careteams.members.permissions import Actor

EDITABLE = (ResolutionStatus.draft,)
SETTINGS = ("title", "text", "kind", "threshold", "conversion", "opens_at", "closes_at",
            "quorum_min_members", "quorum_percent")


def list_resolutions(actor: Actor, coop: Cooperative) -> list[Resolution]:
    """Resolutions the actor may see: drafts only for the secretary."""
    ensure(perm.can_see_resolutions(actor, coop.id), not_found=True)
    query = sa.select(Resolution).where(Resolution.cooperative_id == coop.id)
    if not perm.can_see_drafts(actor, coop.id):
        query = query.where(Resolution.status != ResolutionStatus.draft)
    return list(db.session.scalars(query.order_by(Resolution.closes_at.desc(), Resolution.id.desc())))


def get_resolution(actor: Actor, coop: Cooperative, resolution_id: int) -> Resolution:
    """One resolution of the co-op; a draft is not found by anyone but the secretary."""
    ensure(perm.can_see_resolutions(actor, coop.id), not_found=True)
    resolution = db.session.get(Resolution, resolution_id)
    if resolution is None or resolution.cooperative_id != coop.id:
        raise NotFound("No such resolution.")
    if resolution.status == ResolutionStatus.draft and not perm.can_see_drafts(actor, coop.id):
        raise NotFound("No such resolution.")
    return resolution


def resolution_defaults(actor: Actor, coop: Cooperative) -> dict[str, Any]:
    """A new resolution's starting settings: the co-op's quorum (the secretary)."""
    ensure(perm.can_manage_resolutions(actor, coop.id))
    return {"kind": "ordinary", "threshold": "at_least", "conversion": False,
            "quorum_min_members": coop.quorum_min_members, "quorum_percent": coop.quorum_percent}


def create_resolution(actor: Actor | None, coop: Cooperative, data: dict) -> Resolution:
    """A draft resolution (the secretary; actor None for the demo)."""
    if actor is not None:
        ensure(perm.can_manage_resolutions(actor, coop.id))
    settings = {
        "threshold": Threshold.at_least, "conversion": False, "options": [],
        "quorum_min_members": coop.quorum_min_members, "quorum_percent": coop.quorum_percent,
        **{k: v for k, v in data.items() if v is not None},
    }
    _check_settings(settings)
    resolution = Resolution(
        cooperative_id=coop.id, created_by_person_id=actor.person_id if actor else None,
        investor_cap_num=coop.investor_cap_num, investor_cap_den=coop.investor_cap_den,
        status=ResolutionStatus.draft, **{k: settings[k] for k in SETTINGS},
    )
    resolution.title = resolution.title.strip()
    resolution.options = _options(settings["kind"], settings["options"])
    db.session.add(resolution)
    db.session.flush()
    return resolution


def update_resolution(actor: Actor, coop: Cooperative, resolution: Resolution, changes: dict) -> Resolution:
    """Change a draft's settings; once scheduled or open they are fixed."""
    ensure(perm.can_manage_resolutions(actor, coop.id))
    if _lock_for_change(resolution) not in EDITABLE:
        raise Conflict("Voting has been set up or has opened: the resolution can no longer change.",
                       code="resolution_fixed")
    current = {k: getattr(resolution, k) for k in SETTINGS}
    current["options"] = [o.label for o in resolution.options] if resolution.kind == ResolutionKind.poll else []
    if "kind" in changes and changes["kind"] != ResolutionKind.poll and "options" not in changes:
        current["options"] = []
    settings = {**current, **{k: v for k, v in changes.items() if v is not None}}
    _check_settings(settings)
    for key in SETTINGS:
        setattr(resolution, key, settings[key])
    resolution.title = resolution.title.strip()
    wanted = _options(settings["kind"], settings["options"])
    if [(o.key, o.label) for o in wanted] != [(o.key, o.label) for o in resolution.options]:
        resolution.options.clear()
        db.session.flush()  # the old options go before the new ones take their positions
        resolution.options.extend(wanted)
    db.session.flush()
    return resolution


def _lock_for_change(resolution: Resolution) -> ResolutionStatus:
    """Lock the resolution row and re-read it: a change racing the opening waits, then sees it."""
    db.session.execute(sa.select(Resolution).where(Resolution.id == resolution.id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one()
    return resolution.status


def _check_settings(settings: dict) -> None:
    errors = rules.settings_errors(settings)
    if errors:
        raise ValidationError(details={"fields": errors})


def _options(kind: ResolutionKind, labels: list[str]) -> list[ResolutionOption]:
    fixed = rules.fixed_options(kind)
    pairs = fixed if fixed is not None else [(str(n), label.strip()) for n, label in enumerate(labels, start=1)]
    return [ResolutionOption(position=n, key=key, label=label) for n, (key, label) in enumerate(pairs, start=1)]


def open_resolution(actor: Actor, coop: Cooperative, resolution: Resolution, now: datetime | None = None) -> Resolution:
    """Open voting now, or schedule it for the opening time if that is still ahead."""
    ensure(perm.can_manage_resolutions(actor, coop.id))
    now = now or utcnow()
    if _lock_for_change(resolution) != ResolutionStatus.draft:
        raise Conflict("This resolution has already been opened or scheduled.", code="already_opened")
    if resolution.closes_at <= now:
        raise ValidationError("The closing time has passed; change it before opening.",
                              details={"fields": {"closes_at": ["Choose a closing time in the future."]}})
    if resolution.opens_at > now:
        resolution.status = ResolutionStatus.scheduled
        db.session.flush()
        return resolution
    start_voting(resolution.id, now)
    db.session.refresh(resolution)
    return resolution


def start_voting(resolution_id: int, now: datetime, tell: bool = True) -> bool:
    """Freeze the electorate and open voting, exactly once (True if this call did it).

    `tell=False` only for the demo seed, whose votes are history."""
    opened = db.session.execute(
        sa.update(Resolution)
        .where(Resolution.id == resolution_id,
               Resolution.status.in_([ResolutionStatus.draft, ResolutionStatus.scheduled]))
        .values(status=ResolutionStatus.open, opened_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if opened != 1:
        return False
    resolution = db.session.get(Resolution, resolution_id)
    db.session.refresh(resolution)
    coop = db.session.get(Cooperative, resolution.cooperative_id)
    classes = rules.eligible_classes(resolution.kind, resolution.conversion)
    eligible = db.session.scalars(
        sa.select(Membership).where(
            Membership.cooperative_id == coop.id, Membership.status == MembershipStatus.active,
            Membership.member_class.in_(sorted(classes)),
        ).order_by(Membership.id)
    ).all()
    for membership in eligible:
        db.session.add(ElectorateEntry(resolution_id=resolution.id, membership_id=membership.id,
                                       member_class=membership.member_class))
    # The settings that decide the count are fixed now, including the co-op's cap.
    resolution.investor_cap_num = coop.investor_cap_num
    resolution.investor_cap_den = coop.investor_cap_den
    resolution.electorate_size = len(eligible)
    resolution.electorate_hash = rules.electorate_hash((m.id, m.member_class.value) for m in eligible)
    db.session.flush()
    if tell:
        tell_electorate(coop, resolution, f'{coop.name}: voting is open on "{resolution.title}".',
                         f"Voting is open: {resolution.title}")
    return True


def due_to_open(now: datetime) -> list[int]:
    return list(db.session.scalars(sa.select(Resolution.id).where(
        Resolution.status == ResolutionStatus.scheduled, Resolution.opens_at <= now).order_by(Resolution.id)))


def class_sizes(coop: Cooperative, resolution: Resolution) -> dict[str, int]:
    """Members per class in the electorate: the frozen one once voting opened, before that
    the members who would be in it if voting opened now."""
    if resolution.status in (ResolutionStatus.open, ResolutionStatus.closed):
        rows = db.session.execute(
            sa.select(ElectorateEntry.member_class, sa.func.count()).where(ElectorateEntry.resolution_id == resolution.id)
            .group_by(ElectorateEntry.member_class)).all()
    else:
        rows = db.session.execute(
            sa.select(Membership.member_class, sa.func.count()).where(
                Membership.cooperative_id == coop.id, Membership.status == MembershipStatus.active,
                Membership.member_class.in_(sorted(rules.eligible_classes(resolution.kind, resolution.conversion))))
            .group_by(Membership.member_class)).all()
    return {member_class.value: n for member_class, n in rows}


def secrecy(coop: Cooperative, resolution: Resolution) -> dict[str, Any]:
    """What the published counts will reveal, told before anybody votes: the groups counted
    apart, and those with fewer than SMALL_CLASS members."""
    return {"groups": rules.published_groups(resolution.kind), "small_class": rules.SMALL_CLASS,
            "small": rules.small_groups(class_sizes(coop, resolution), resolution.kind),
            "frozen": resolution.status in (ResolutionStatus.open, ResolutionStatus.closed)}

