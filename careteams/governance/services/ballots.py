"""Secret ballots: the voter's status, casting and changing a ballot, receipts, proxies."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from xkcdpass import xkcd_password

from careteams.db import utcnow
from careteams.errors import Conflict, ValidationError, ensure
from careteams.extensions import db
from careteams.governance import permissions as perm
from careteams.governance import rules, seal
from careteams.governance.enums import ProxyStatus, ResolutionStatus
from careteams.governance.models import Ballot, ElectorateEntry, ProxyAppointment, Resolution
from careteams.governance.services.common import electorate_entry, membership_of
from careteams.members.models import Cooperative, Membership, MembershipStatus, Person
from careteams.members.permissions import Actor

# No 0/O or 1/I/L: receipts are read aloud and typed from paper.
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# A change code is this many words from xkcdpass's EFF long list (letters-only words:
# 7,7xx of them), about 77 bits: see the governance README, "Receipts".
CHANGE_CODE_WORDS = 6


def voter_status(actor: Actor, coop: Cooperative, resolution: Resolution) -> dict[str, Any]:
    """Whether the actor may vote, has voted, has a proxy, and holds proxies for others."""
    membership = membership_of(actor, coop)
    entry = electorate_entry(resolution, membership.id) if membership else None
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
         "voted": p.status == ProxyStatus.used,
         "appointer_left": p.status == ProxyStatus.active and p.appointer.status != MembershipStatus.active}
        for p in held
    ]
    return status


# The proxy picker: a select of every other voter while the electorate is small, a search
# by name (up to PROXY_MATCHES) beyond that, so the page does not grow with the electorate.
SMALL_ELECTORATE = 50
PROXY_MATCHES = 20


def proxy_candidates(actor: Actor, coop: Cooperative, resolution: Resolution,
                     search: str | None = None) -> dict[str, Any]:
    """Whom the voter may choose as proxy, in statements that do not grow with the electorate:
    {"count": other voters, "small": whether they are listed whole, "voters": the list or the
    matches of `search` (a part of a name, case-insensitive), "search", "more": more matched}."""
    membership = _voting_entry(actor, coop, resolution).membership
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ElectorateEntry).where(
        ElectorateEntry.resolution_id == resolution.id, ElectorateEntry.membership_id != membership.id))
    search = " ".join((search or "").split())[:200] or None
    out: dict[str, Any] = {"count": count, "small": count <= SMALL_ELECTORATE, "voters": [], "search": search,
                           "more": False}
    if out["small"]:
        out["voters"] = _voters(resolution, membership.id)
    elif search:
        found = _voters(resolution, membership.id, search=search, limit=PROXY_MATCHES + 1)
        out["voters"], out["more"] = found[:PROXY_MATCHES], len(found) > PROXY_MATCHES
    return out


def _voters(resolution: Resolution, own_membership_id: int, *, search: str | None = None,
            limit: int | None = None) -> list[dict]:
    """The other voters by name (then membership id), one query."""
    query = (sa.select(ElectorateEntry.membership_id, Person.name)
             .join(Membership, Membership.id == ElectorateEntry.membership_id)
             .join(Person, Person.id == Membership.person_id)
             .where(ElectorateEntry.resolution_id == resolution.id,
                    ElectorateEntry.membership_id != own_membership_id)
             .order_by(Person.name, ElectorateEntry.membership_id))
    if search:
        query = query.where(sa.func.lower(Person.name).contains(search.lower(), autoescape=True))
    if limit is not None:
        query = query.limit(limit)
    return [{"membership_id": mid, "name": name} for mid, name in db.session.execute(query)]


def _voting_entry(actor: Actor, coop: Cooperative, resolution: Resolution) -> ElectorateEntry:
    membership = membership_of(actor, coop)
    entry = electorate_entry(resolution, membership.id) if membership else None
    ensure(perm.can_vote(actor, coop.id, entry is not None))
    return entry


def _say_when_open(coop: Cooperative, resolution: Resolution) -> None:
    """A scheduled resolution is not refused as "not allowed": it says when voting opens."""
    if resolution.status == ResolutionStatus.scheduled:
        raise Conflict(f"Voting opens at {rules.local_time(resolution.opens_at, coop.timezone)}.",
                       code="voting_not_open", details={"opens_at": resolution.opens_at.isoformat()})


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


def _sealed_choice(resolution: Resolution, option_id: int | None) -> bytes:
    """The choice sealed to the resolution's public key: only the tellers' shares open it."""
    keys = {o.id: o.key for o in resolution.options}
    if option_id is not None and option_id not in keys:
        raise ValidationError(details={"fields": {"option_id": ["Choose one of this resolution's options."]}})
    if resolution.public_key is None:
        raise Conflict("This vote has no tellers' key, so it cannot take ballots.", code="no_key")
    return seal.seal(resolution.public_key, keys[option_id] if option_id is not None else None)


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
    _say_when_open(coop, resolution)
    entry = _voting_entry(actor, coop, resolution)
    _lock_open(resolution, now)
    sealed = _sealed_choice(resolution, option_id)
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
        appointer = electorate_entry(resolution, on_behalf_of)
        appointment_id = db.session.scalar(sa.select(ProxyAppointment.id).where(
            ProxyAppointment.resolution_id == resolution.id, ProxyAppointment.appointer_membership_id == on_behalf_of,
            ProxyAppointment.proxy_membership_id == entry.membership_id, ProxyAppointment.status == ProxyStatus.active))
        if appointer is None or appointment_id is None:
            raise Conflict("You do not hold a proxy for that member on this resolution.", code="no_proxy")
        # A member who has left has no vote, so nobody can cast one for them.
        if db.session.scalar(sa.select(Membership.status).where(Membership.id == on_behalf_of)) \
                != MembershipStatus.active:
            raise Conflict("The member who appointed you has left the co-op, so their proxy has ended: "
                           "you cannot vote for them.", code="appointer_left")
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
    token = new_change_code()
    # Written in the same transaction as the "has voted" flag (one ballot per member stays
    # atomic); mixing.shuffle_ballots, every minute and at the close, breaks the xmin/ctid link.
    db.session.add(Ballot(id=secrets.token_hex(16), resolution_id=resolution.id, sealed=sealed,
                          member_class=member_class, receipt=receipt, change_token_hash=_hash(token)))
    db.session.flush()
    return {"receipt": receipt, "change_token": token}


def change_ballot(actor: Actor, coop: Cooperative, resolution: Resolution, change_token: str,
                  option_id: int | None, now: datetime | None = None) -> dict[str, str]:
    """Change a ballot before the close, given the change token handed out when it was cast."""
    now = now or utcnow()
    _say_when_open(coop, resolution)
    _voting_entry(actor, coop, resolution)
    _lock_open(resolution, now)
    sealed = _sealed_choice(resolution, option_id)
    ballot = db.session.scalar(
        sa.select(Ballot).where(Ballot.resolution_id == resolution.id,
                                Ballot.change_token_hash.in_(_hashes(change_token)))
        .with_for_update()
    )
    if ballot is None:
        raise ValidationError(details={"fields": {"change_token": ["That change code is not right for this resolution."]}})
    ballot.sealed = sealed
    db.session.flush()
    return {"receipt": ballot.receipt}


def _receipt() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


@cache
def _words() -> tuple[str, ...]:
    words = xkcd_password.generate_wordlist(wordfile=xkcd_password.locate_wordfile(), min_length=1,
                                            max_length=20)
    # Letters only, so a code typed with any spacing, case or punctuation reads back the same.
    letters = tuple(sorted({w for w in words if re.fullmatch(r"[a-z]+", w)}))
    if len(letters) < 7000:  # the strength the README promises depends on it
        raise RuntimeError("the change-code word list is too short")
    return letters


def new_change_code() -> str:
    """Six common words, e.g. "oyster gravity pebble lunar sprout mascot" (about 77 bits)."""
    words = _words()
    return " ".join(secrets.choice(words) for _ in range(CHANGE_CODE_WORDS))


def normalise_change_code(code: str) -> str:
    """The letters of a change code, lower case: spacing, case and punctuation do not matter."""
    return re.sub(r"[^a-z]", "", code.lower())


def _hash(token: str) -> str:
    # Six words from ~7,700 are ~77 bits (and older codes 192 random bits): too many to try
    # even with a copy of the database, so a plain SHA-256 is enough (README: "Receipts").
    return hashlib.sha256(normalise_change_code(token).encode()).hexdigest()


def _hashes(token: str) -> list[str]:
    # Codes handed out before the words (random URL-safe text) were hashed as typed.
    return [_hash(token), hashlib.sha256(token.strip().encode()).hexdigest()]


def appoint_proxy(actor: Actor, coop: Cooperative, resolution: Resolution, proxy_membership_id: int,
                  now: datetime | None = None) -> ProxyAppointment:
    """Appoint another member of the electorate to vote for you on this resolution."""
    now = now or utcnow()
    _say_when_open(coop, resolution)
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
    _say_when_open(coop, resolution)
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
