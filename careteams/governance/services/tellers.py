"""Tellers and sealed ballots: the key ceremony at scheduling, each teller's share
(shown once), opening the count with k shares, the recount kit, and the shuffle.

Shares are never written to the database in the clear: a share waiting for its
teller is stored encrypted under a key derived from the app's SECRET_KEY (which
is configuration, not data) and the column is emptied the first time she sees
it. At the count, the k shares arrive together (one form, or the CLI), the key is
rebuilt in this process's memory, the ballots are opened in random order and
counted, and the key goes out of scope with the request.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from careteams.errors import Conflict, ValidationError, ensure
from careteams.extensions import db
from careteams.governance import permissions as perm
from careteams.governance import rules, seal
from careteams.governance.enums import ResolutionStatus
from careteams.governance.models import (
    Ballot,
    Resolution,
    ResolutionTeller,
)
from careteams.governance.services import results
from careteams.members.models import Cooperative, Membership, MembershipStatus, Person
from careteams.members.permissions import Actor

ADVICE = ("Advised: 3 tellers, any 2 of whom can open the count. If more tellers lose their share than "
          "the vote can spare (tellers minus shares needed), nobody can ever open the ballots and the vote "
          "cannot be counted: it would have to be held again.")


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _context(resolution_id: int, person_id: int) -> str:
    return f"resolution {resolution_id} teller {person_id}"


def set_up_tellers(coop: Cooperative, resolution: Resolution, secretary_person_id: int | None,
                   scrutineer_person_ids: list[int] | None, shares_needed: int | None) -> None:
    """The key ceremony, when the secretary schedules or opens a resolution (flushes)."""
    scrutineers = list(dict.fromkeys(scrutineer_person_ids or []))
    errors: dict[str, list[str]] = {}
    if secretary_person_id in scrutineers:
        scrutineers.remove(secretary_person_id)
    if scrutineers:
        members = set(db.session.scalars(sa.select(Membership.person_id).where(
            Membership.cooperative_id == coop.id, Membership.status == MembershipStatus.active,
            Membership.person_id.in_(scrutineers))))
        if set(scrutineers) - members:
            errors["scrutineers"] = ["Scrutineers must be active members of the co-op."]
    # Never one teller alone: the secretary and at least one scrutineer, and at least two
    # shares to open the count, so no single person (with or without the database) can.
    if not scrutineers:
        errors["scrutineers"] = ["Name at least one scrutineer (an active member other than the secretary)."]
    tellers = ([secretary_person_id] if secretary_person_id else []) + scrutineers
    needed = shares_needed if shares_needed is not None else 2
    if len(tellers) >= 2 and not 2 <= needed <= len(tellers):
        errors["shares_needed"] = [f"Choose a number from 2 to {len(tellers)} (the number of tellers)."]
    if errors:
        raise ValidationError(details={"fields": errors})
    ceremony = seal.make_keys(len(tellers), needed)
    resolution.public_key = ceremony.public_key
    resolution.sealed_private_key = ceremony.sealed_private_key
    resolution.shares_needed = ceremony.shares_needed
    for person_id, share in zip(tellers, ceremony.shares, strict=True):
        index, _ = seal.parse_share(share)
        db.session.add(ResolutionTeller(resolution_id=resolution.id, person_id=person_id, share_index=index,
                                        waiting_share=seal.wrap_share(_secret(), share,
                                                                      _context(resolution.id, person_id))))
    db.session.flush()


def tellers_of(resolution: Resolution) -> list[ResolutionTeller]:
    return list(db.session.scalars(sa.select(ResolutionTeller).where(
        ResolutionTeller.resolution_id == resolution.id).order_by(ResolutionTeller.share_index)))


def teller_status(actor: Actor, resolution: Resolution) -> dict[str, Any]:
    """Who the tellers are (names, share numbers, whether each has seen her share); am I one."""
    tellers = tellers_of(resolution)
    mine = next((t for t in tellers if t.person_id == actor.person_id), None)
    return {"tellers": [{"name": t.person.name, "share_index": t.share_index, "seen": t.waiting_share is None,
                         "gave_share_at": t.gave_share_at} for t in tellers],
            "is_teller": mine is not None, "share_waiting": bool(mine and mine.waiting_share is not None),
            "shares_needed": resolution.shares_needed}


def take_my_share(actor: Actor, coop: Cooperative, resolution: Resolution, now: datetime) -> str:
    """A teller's share, given once: the stored (encrypted) copy is erased as it is shown."""
    tellers = tellers_of(resolution)
    ensure(perm.can_give_share(actor, {t.person_id for t in tellers}))
    teller = db.session.scalar(sa.select(ResolutionTeller).where(
        ResolutionTeller.resolution_id == resolution.id, ResolutionTeller.person_id == actor.person_id)
        .with_for_update(of=ResolutionTeller).execution_options(populate_existing=True))
    if teller.waiting_share is None:
        raise Conflict("Your share has already been shown to you; it is not kept anywhere else.",
                       code="share_already_shown")
    share = seal.unwrap_share(_secret(), teller.waiting_share, _context(resolution.id, actor.person_id))
    teller.waiting_share = None
    teller.share_seen_at = now
    db.session.flush()
    return share


def _open(resolution: Resolution, shares: list[str]):
    try:
        return seal.open_key(resolution.sealed_private_key, shares, resolution.shares_needed or 1)
    except seal.SealError as exc:
        raise ValidationError(str(exc), details={"fields": {"shares": [str(exc)]}}) from exc


def opened_ballots(resolution: Resolution, shares: list[str]) -> list[rules.Ballot]:
    """Open every stored ballot in random order, in memory (ValidationError if the shares do not open)."""
    private_key = _open(resolution, shares)
    # The class as its stored text (no enum per row): 100,000 rows are read in one go.
    rows = db.session.execute(sa.select(Ballot.sealed, sa.type_coerce(Ballot.member_class, sa.String)).where(
        Ballot.resolution_id == resolution.id)).all()
    secrets.SystemRandom().shuffle(rows)
    choices = seal.open_ballots(private_key, [sealed for sealed, _ in rows])
    del private_key
    return [rules.Ballot(choice, member_class) for choice, (_, member_class) in zip(choices, rows, strict=True)]


def open_count(actor: Actor | None, coop: Cooperative, resolution: Resolution, shares: list[str],
               now: datetime, tell: bool = True) -> Resolution:
    """k tellers give their shares: open, count, publish, forget the key (actor None: the CLI)."""
    tellers = tellers_of(resolution)
    if actor is not None:
        ensure(perm.can_give_share(actor, {t.person_id for t in tellers}))
    shares = [s for s in shares if s and s.strip()]
    status = db.session.execute(sa.select(Resolution.status).where(Resolution.id == resolution.id)
                                .with_for_update()).scalar_one()
    if status != ResolutionStatus.counting:
        raise Conflict("This resolution is not waiting for its tellers.", code="not_counting")
    ballots = opened_ballots(resolution, shares)
    given = {seal.parse_share(s)[0] for s in shares}
    for teller in tellers:
        if teller.share_index in given:
            teller.gave_share_at = now
    results.publish_count(resolution, ballots, tell=tell)
    return resolution


def recount(resolution: Resolution, shares: list[str]) -> dict[str, Any]:
    """The recount kit: reopen the same ciphertexts and recount; nothing is written."""
    if resolution.status != ResolutionStatus.closed:
        raise Conflict("Only a counted resolution can be recounted.", code="not_closed")
    counted = results.count(resolution, opened_ballots(resolution, shares))
    return results.publish(resolution, counted, results.receipts_of(resolution))


def teller_candidates(actor: Actor, coop: Cooperative) -> list[dict[str, Any]]:
    """Who the secretary may name as scrutineers: the co-op's active members (not herself)."""
    ensure(perm.can_manage_resolutions(actor, coop.id))
    rows = db.session.execute(sa.select(Person.id, Person.name).join(Membership, Membership.person_id == Person.id)
                              .where(Membership.cooperative_id == coop.id,
                                     Membership.status == MembershipStatus.active, Person.id != actor.person_id)
                              .order_by(Person.name, Person.id)).all()
    return [{"person_id": pid, "name": name} for pid, name in rows]


def ensure_teller(actor: Actor, resolution: Resolution) -> None:
    ensure(perm.can_give_share(actor, {t.person_id for t in tellers_of(resolution)}))
