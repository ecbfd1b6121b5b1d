"""The member register: by class with history, its CSV export, and a member's own place in it."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa

from careteams.auth.enums import LinkPurpose
from careteams.auth.models import OneTimeLink
from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.governance import permissions as perm
from careteams.governance import rules
from careteams.governance.services.common import membership_of
from careteams.members import permissions as member_perm
from careteams.members import services as members
from careteams.members.models import (
    Cooperative,
    Membership,
    MembershipEvent,
    MembershipStatus,
    Person,
    StaffRole,
)
from careteams.members.permissions import Actor
from careteams.teams.models import Team, TeamMember


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
    membership = membership_of(actor, coop)
    if membership is None:
        raise NotFound("You are not in this co-operative's register.")
    ensure(perm.can_view_own_membership(actor, membership.person_id))
    history = db.session.scalars(sa.select(MembershipEvent).where(
        MembershipEvent.membership_id == membership.id).order_by(MembershipEvent.id)).all()
    return {"membership": membership, "history": list(history)}


# --- keeping the register on the web ---------------------------------------------------


def register_page(actor: Actor, coop: Cooperative, status: MembershipStatus | None) -> dict[str, Any]:
    """The register for its page: members (one status or all) by name, and how many of each status."""
    rows = sorted(members.list_memberships(actor, coop, status),
                  key=lambda m: (m.person.name.casefold(), m.id))
    counts = dict(db.session.execute(
        sa.select(Membership.status, sa.func.count(Membership.id)).where(Membership.cooperative_id == coop.id)
        .group_by(Membership.status)).all())
    return {"memberships": rows, "counts": {s: counts.get(s, 0) for s in MembershipStatus},
            "can_manage": member_perm.can_manage_register(actor, coop.id)}


def register_candidates(actor: Actor, coop: Cooperative) -> list[Person]:
    """People the register may take (members.services.person_in_reach) who are not in it yet,
    by name: the co-op's staff, and people on no co-op's register or staff yet who are in
    one of its teams or were invited by one of its staff. An account invited by another
    co-op is in reach by id (as in the API) but not listed: its name is that co-op's."""
    ensure(member_perm.can_manage_register(actor, coop.id))
    in_register = sa.select(Membership.person_id).where(Membership.cooperative_id == coop.id)
    staff_here = sa.select(StaffRole.person_id).where(StaffRole.cooperative_id == coop.id)
    tied_anywhere = sa.select(Membership.person_id).union(sa.select(StaffRole.person_id))
    near = sa.union(
        sa.select(TeamMember.person_id).join(Team, Team.id == TeamMember.team_id).where(Team.cooperative_id == coop.id),
        sa.select(OneTimeLink.person_id).where(OneTimeLink.purpose == LinkPurpose.invite,
                                               OneTimeLink.created_by_id.in_(staff_here)),
    )
    return list(db.session.scalars(sa.select(Person).where(
        Person.active.is_(True), Person.id.not_in(in_register),
        sa.or_(Person.id.in_(staff_here), sa.and_(Person.id.in_(near), Person.id.not_in(tied_anywhere))),
    ).order_by(Person.name, Person.id)))


def membership_page(actor: Actor, coop: Cooperative, membership_id: int) -> dict[str, Any]:
    """One membership with its history, newest first, each step with who made it (the secretary, admins)."""
    membership = members.get_membership(actor, coop, membership_id)
    history = list(reversed(members.membership_history(actor, coop, membership_id)))
    by_ids = {e.by_person_id for e in history if e.by_person_id is not None}
    names = dict(db.session.execute(sa.select(Person.id, Person.name).where(Person.id.in_(by_ids))).all()) if by_ids else {}
    return {"membership": membership, "history": [{"event": e, "by": names.get(e.by_person_id)} for e in history],
            "can_manage": member_perm.can_manage_register(actor, coop.id)}
