"""Use-cases for resolutions, secret ballots, proxies, the tally and the register.

Services flush; the caller (view, job) commits once. Two invariants are held by
the database rather than by checks that could race:

- one ballot per member: casting first flips the member's `electorate_entry`
  flag with a conditional UPDATE (`... AND has_voted = false`); only the
  transaction that flipped it may insert a ballot;
- nothing counts after the close: casting takes a shared lock on the resolution
  row and re-reads its status; closing is a conditional UPDATE of that row, which
  waits for every ballot in flight, and then tallies in a fresh snapshot.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from careteams import notify
from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.governance import permissions as perm
from careteams.governance import rules
from careteams.governance.models import (
    Ballot,
    ElectorateEntry,
    ProxyAppointment,
    ProxyStatus,
    Resolution,
    ResolutionOption,
    ResolutionStatus,
)
from careteams.governance.rules import ResolutionKind, Threshold
from careteams.members.models import (
    ContactChannel,
    Cooperative,
    Membership,
    MembershipEvent,
    MembershipStatus,
    Person,
)
from careteams.members.permissions import Actor

EDITABLE = (ResolutionStatus.draft,)
SETTINGS = ("title", "text", "kind", "threshold", "conversion", "opens_at", "closes_at",
            "quorum_min_members", "quorum_percent")
# No 0/O or 1/I/L: receipts are read aloud and typed from paper.
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


# --- resolutions ----------------------------------------------------------------


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
        _tell_electorate(coop, resolution, f'{coop.name}: voting is open on "{resolution.title}".',
                         f"Voting is open: {resolution.title}")
    return True


def _tell_electorate(coop: Cooperative, resolution: Resolution, body: str, subject: str) -> None:
    # Only the title: a notice on a phone's lock screen must not say more.
    people = db.session.scalars(
        sa.select(Person).join(Membership, Membership.person_id == Person.id)
        .join(ElectorateEntry, ElectorateEntry.membership_id == Membership.id)
        .where(ElectorateEntry.resolution_id == resolution.id, Person.active.is_(True))
        .order_by(Person.id)
    ).all()
    for person in people:
        if person.preferred_channel == ContactChannel.sms and person.phone:
            notify.queue(notify.Text(to=person.phone, body=body, from_number=coop.sms_number))
        elif person.email:
            notify.queue(notify.Email(to=person.email, subject=subject, body=body))


# --- the electorate and the voter -----------------------------------------------


def _membership(actor: Actor, coop: Cooperative) -> Membership | None:
    return db.session.scalar(sa.select(Membership).where(
        Membership.cooperative_id == coop.id, Membership.person_id == actor.person_id))


def _entry(resolution: Resolution, membership_id: int) -> ElectorateEntry | None:
    return db.session.scalar(sa.select(ElectorateEntry).where(
        ElectorateEntry.resolution_id == resolution.id, ElectorateEntry.membership_id == membership_id))


def voter_status(actor: Actor, coop: Cooperative, resolution: Resolution) -> dict[str, Any]:
    """Whether the actor may vote, has voted, has a proxy, and holds proxies for others."""
    membership = _membership(actor, coop)
    entry = _entry(resolution, membership.id) if membership else None
    status: dict[str, Any] = {"in_electorate": entry is not None, "has_voted": bool(entry and entry.has_voted),
                              "membership_id": membership.id if membership else None, "proxy": None,
                              "proxies_held": []}
    if membership is None:
        return status
    status["proxy"] = db.session.scalar(sa.select(ProxyAppointment).where(
        ProxyAppointment.resolution_id == resolution.id, ProxyAppointment.appointer_membership_id == membership.id,
        ProxyAppointment.status.in_([ProxyStatus.active, ProxyStatus.used])))
    held = db.session.scalars(sa.select(ProxyAppointment).where(
        ProxyAppointment.resolution_id == resolution.id, ProxyAppointment.proxy_membership_id == membership.id,
        ProxyAppointment.status.in_([ProxyStatus.active, ProxyStatus.used])).order_by(ProxyAppointment.id)).all()
    status["proxies_held"] = [
        {"appointer_membership_id": p.appointer_membership_id, "name": p.appointer.person.name,
         "voted": p.status == ProxyStatus.used}
        for p in held
    ]
    return status


def list_voters(actor: Actor, coop: Cooperative, resolution: Resolution) -> list[dict]:
    """Members of the electorate (to choose a proxy from): names and membership ids only."""
    membership = _membership(actor, coop)
    entry = _entry(resolution, membership.id) if membership else None
    ensure(perm.can_vote(actor, coop.id, entry is not None))
    entries = db.session.scalars(sa.select(ElectorateEntry).where(
        ElectorateEntry.resolution_id == resolution.id, ElectorateEntry.membership_id != membership.id)).all()
    return sorted(({"membership_id": e.membership_id, "name": e.membership.person.name} for e in entries),
                  key=lambda v: (v["name"], v["membership_id"]))


def _voting_entry(actor: Actor, coop: Cooperative, resolution: Resolution) -> ElectorateEntry:
    membership = _membership(actor, coop)
    entry = _entry(resolution, membership.id) if membership else None
    ensure(perm.can_vote(actor, coop.id, entry is not None))
    return entry


def _lock_open(resolution: Resolution, now: datetime) -> None:
    """Hold a shared lock on the resolution while it is open; the close waits for it."""
    status, closes_at = db.session.execute(
        sa.select(Resolution.status, Resolution.closes_at).where(Resolution.id == resolution.id)
        .with_for_update(read=True)
    ).one()
    if status != ResolutionStatus.open:
        raise Conflict("Voting is not open on this resolution.", code="voting_not_open")
    if now >= closes_at:
        raise Conflict("Voting on this resolution has closed.", code="voting_closed")


def _option_id(resolution: Resolution, option_id: int | None) -> int | None:
    if option_id is not None and option_id not in {o.id for o in resolution.options}:
        raise ValidationError(details={"fields": {"option_id": ["Choose one of this resolution's options."]}})
    return option_id


def _mark_voted(resolution: Resolution, membership_id: int) -> bool:
    flipped = db.session.execute(
        sa.update(ElectorateEntry)
        .where(ElectorateEntry.resolution_id == resolution.id, ElectorateEntry.membership_id == membership_id,
               ElectorateEntry.has_voted.is_(False))
        .values(has_voted=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    return flipped == 1


def cast_ballot(actor: Actor, coop: Cooperative, resolution: Resolution, option_id: int | None,
                on_behalf_of: int | None = None, now: datetime | None = None) -> dict[str, str]:
    """Cast a secret ballot (for oneself, or as proxy); returns the receipt and change token."""
    now = now or utcnow()
    entry = _voting_entry(actor, coop, resolution)
    _lock_open(resolution, now)
    option_id = _option_id(resolution, option_id)
    if on_behalf_of is None:
        if not _mark_voted(resolution, entry.membership_id):
            raise Conflict("You have already voted on this resolution (or your proxy has).", code="already_voted")
        # Voting in person takes back a proxy who has not voted yet.
        db.session.execute(
            sa.update(ProxyAppointment)
            .where(ProxyAppointment.resolution_id == resolution.id,
                   ProxyAppointment.appointer_membership_id == entry.membership_id,
                   ProxyAppointment.status == ProxyStatus.active)
            .values(status=ProxyStatus.cancelled)
            .execution_options(synchronize_session=False)
        )
        member_class = entry.member_class
    else:
        appointer = _entry(resolution, on_behalf_of)
        appointment_id = db.session.scalar(sa.select(ProxyAppointment.id).where(
            ProxyAppointment.resolution_id == resolution.id, ProxyAppointment.appointer_membership_id == on_behalf_of,
            ProxyAppointment.proxy_membership_id == entry.membership_id, ProxyAppointment.status == ProxyStatus.active))
        if appointer is None or appointment_id is None:
            raise Conflict("You do not hold a proxy for that member on this resolution.", code="no_proxy")
        # Same order as voting in person (the appointer's entry, then the appointment),
        # so a race between the two ends with exactly one ballot and no deadlock.
        if not _mark_voted(resolution, on_behalf_of):
            raise Conflict("That member has already voted on this resolution.", code="already_voted")
        used = db.session.execute(
            sa.update(ProxyAppointment)
            .where(ProxyAppointment.id == appointment_id, ProxyAppointment.status == ProxyStatus.active)
            .values(status=ProxyStatus.used)
            .execution_options(synchronize_session=False)
        ).rowcount
        if used != 1:
            raise Conflict("That proxy appointment has ended.", code="no_proxy")
        member_class = appointer.member_class
    receipt = _receipt()
    token = secrets.token_urlsafe(24)
    db.session.add(Ballot(id=secrets.token_hex(16), resolution_id=resolution.id, option_id=option_id,
                          member_class=member_class, receipt=receipt, change_token_hash=_hash(token)))
    db.session.flush()
    return {"receipt": receipt, "change_token": token}


def change_ballot(actor: Actor, coop: Cooperative, resolution: Resolution, change_token: str,
                  option_id: int | None, now: datetime | None = None) -> dict[str, str]:
    """Change a ballot before the close, given the change token handed out when it was cast."""
    now = now or utcnow()
    _voting_entry(actor, coop, resolution)
    _lock_open(resolution, now)
    option_id = _option_id(resolution, option_id)
    ballot = db.session.scalar(
        sa.select(Ballot).where(Ballot.resolution_id == resolution.id, Ballot.change_token_hash == _hash(change_token))
        .with_for_update()
    )
    if ballot is None:
        raise ValidationError(details={"fields": {"change_token": ["That change code is not right for this resolution."]}})
    ballot.option_id = option_id
    db.session.flush()
    return {"receipt": ballot.receipt}


def _receipt() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def _hash(token: str) -> str:
    # Change tokens are 192 random bits: a plain SHA-256 cannot be guessed backwards.
    return hashlib.sha256(token.encode()).hexdigest()


# --- proxies --------------------------------------------------------------------


def appoint_proxy(actor: Actor, coop: Cooperative, resolution: Resolution, proxy_membership_id: int,
                  now: datetime | None = None) -> ProxyAppointment:
    """Appoint another member of the electorate to vote for you on this resolution."""
    now = now or utcnow()
    entry = _voting_entry(actor, coop, resolution)
    _lock_open(resolution, now)
    if proxy_membership_id == entry.membership_id:
        raise ValidationError(details={"fields": {"proxy_membership_id": ["Choose someone other than yourself."]}})
    # Lock both entries in one order: two members appointing each other cannot deadlock.
    locked = db.session.execute(
        sa.select(ElectorateEntry.membership_id, ElectorateEntry.has_voted).where(
            ElectorateEntry.resolution_id == resolution.id,
            ElectorateEntry.membership_id.in_([entry.membership_id, proxy_membership_id]))
        .order_by(ElectorateEntry.membership_id).with_for_update()
    ).all()
    if len(locked) != 2:
        raise ValidationError(details={"fields": {"proxy_membership_id": ["Your proxy must be a member who can vote on this resolution."]}})
    if any(voted for membership_id, voted in locked if membership_id == entry.membership_id):
        raise Conflict("You have already voted on this resolution.", code="already_voted")
    existing = db.session.scalar(sa.select(ProxyAppointment.id).where(
        ProxyAppointment.resolution_id == resolution.id, ProxyAppointment.appointer_membership_id == entry.membership_id,
        ProxyAppointment.status.in_([ProxyStatus.active, ProxyStatus.used])))
    if existing is not None:
        raise Conflict("You have already appointed a proxy; take that appointment back first.", code="proxy_exists")
    held = db.session.scalar(sa.select(sa.func.count()).select_from(ProxyAppointment).where(
        ProxyAppointment.resolution_id == resolution.id, ProxyAppointment.proxy_membership_id == proxy_membership_id,
        ProxyAppointment.status.in_([ProxyStatus.active, ProxyStatus.used])))
    if rules.proxy_limit_reached(held, coop.proxy_limit):
        raise Conflict(f"That member already holds the most proxies allowed ({coop.proxy_limit}).",
                       code="proxy_limit", details={"fields": {"proxy_membership_id": ["Holds too many proxies."]}})
    appointment = ProxyAppointment(resolution_id=resolution.id, appointer_membership_id=entry.membership_id,
                                   proxy_membership_id=proxy_membership_id, status=ProxyStatus.active)
    db.session.add(appointment)
    db.session.flush()
    return appointment


def revoke_proxy(actor: Actor, coop: Cooperative, resolution: Resolution, now: datetime | None = None) -> None:
    """Take back your proxy appointment, unless the proxy has already voted."""
    now = now or utcnow()
    entry = _voting_entry(actor, coop, resolution)
    _lock_open(resolution, now)
    ended = db.session.execute(
        sa.update(ProxyAppointment)
        .where(ProxyAppointment.resolution_id == resolution.id,
               ProxyAppointment.appointer_membership_id == entry.membership_id,
               ProxyAppointment.status == ProxyStatus.active)
        .values(status=ProxyStatus.cancelled)
        .execution_options(synchronize_session=False)
    ).rowcount
    if ended != 1:
        raise Conflict("You have no proxy appointment that can be taken back (a proxy who has voted stands).",
                       code="no_proxy")


# --- closing and results ----------------------------------------------------------


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
        _tell_electorate(coop, resolution, f'{coop.name}: voting has closed on "{resolution.title}". The results are published.',
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
        "counts": counted.counts,
        "ballots_by_class": counted.ballots_by_class,
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


def due_to_open(now: datetime) -> list[int]:
    return list(db.session.scalars(sa.select(Resolution.id).where(
        Resolution.status == ResolutionStatus.scheduled, Resolution.opens_at <= now).order_by(Resolution.id)))


def due_to_close(now: datetime) -> list[int]:
    return list(db.session.scalars(sa.select(Resolution.id).where(
        Resolution.status == ResolutionStatus.open, Resolution.closes_at <= now).order_by(Resolution.id)))


# --- the register -------------------------------------------------------------------


def register(actor: Actor, coop: Cooperative) -> list[dict[str, Any]]:
    """The register by class, each member with their history (the secretary)."""
    ensure(perm.can_view_register(actor, coop.id))
    memberships = db.session.scalars(sa.select(Membership).where(Membership.cooperative_id == coop.id)).all()
    events = db.session.scalars(sa.select(MembershipEvent).join(Membership).where(
        Membership.cooperative_id == coop.id).order_by(MembershipEvent.id)).all()
    history: dict[int, list[MembershipEvent]] = {}
    for event in events:
        history.setdefault(event.membership_id, []).append(event)
    rows = [{"membership": m, "history": history.get(m.id, [])} for m in memberships]
    order = {c: n for n, c in enumerate(rules.MEMBER_CLASSES)}
    return sorted(rows, key=lambda r: (order[r["membership"].member_class.value], r["membership"].person.name.casefold(),
                                       r["membership"].id))


CSV_COLUMNS = ["membership_id", "name", "email", "phone", "member_class", "status", "joined_on", "left_on", "share_pence"]


def register_csv(actor: Actor, coop: Cooperative) -> str:
    """The register as CSV (the secretary); cells that a spreadsheet would run are defused."""
    rows = register(actor, coop)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        m = row["membership"]
        writer.writerow([_cell(v) for v in (
            m.id, m.person.name, m.person.email or "", m.person.phone or "", m.member_class.value, m.status.value,
            m.joined_on.isoformat() if m.joined_on else "", m.left_on.isoformat() if m.left_on else "", m.share_pence,
        )])
    return out.getvalue()


def _cell(value: object) -> object:
    # A cell starting =, +, -, @ (or a tab/return) is a formula to a spreadsheet;
    # a phone number like +447700900123 is harmless and kept as it is.
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        if not (value[0] == "+" and value[1:].isdigit()):
            return "'" + value
    return value


def own_membership(actor: Actor, coop: Cooperative) -> dict[str, Any]:
    """Your own place in the register and its history."""
    membership = _membership(actor, coop)
    if membership is None:
        raise NotFound("You are not in this co-operative's register.")
    ensure(perm.can_view_own_membership(actor, membership.person_id))
    history = db.session.scalars(sa.select(MembershipEvent).where(
        MembershipEvent.membership_id == membership.id).order_by(MembershipEvent.id)).all()
    return {"membership": membership, "history": list(history)}
