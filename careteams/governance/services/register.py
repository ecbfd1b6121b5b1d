"""The member register: by class with history, its CSV export, and a member's own place in it."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa

from careteams.errors import NotFound, ensure
from careteams.extensions import db
from careteams.governance import permissions as perm
from careteams.governance import rules
from careteams.governance.services.common import membership_of
from careteams.members.models import Cooperative, Membership, MembershipEvent
from careteams.members.permissions import Actor


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
