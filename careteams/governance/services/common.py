"""Helpers the governance use cases share: a member's membership and electorate entry,
and telling the electorate."""

from __future__ import annotations

import sqlalchemy as sa

from careteams import notify
from careteams.extensions import db
from careteams.governance.models import ElectorateEntry, Resolution
from careteams.members.models import Cooperative, Membership, Person
from careteams.members.permissions import Actor


def membership_of(actor: Actor, coop: Cooperative) -> Membership | None:
    return db.session.scalar(sa.select(Membership).where(
        Membership.cooperative_id == coop.id, Membership.person_id == actor.person_id))


def electorate_entry(resolution: Resolution, membership_id: int) -> ElectorateEntry | None:
    return db.session.scalar(sa.select(ElectorateEntry).where(
        ElectorateEntry.resolution_id == resolution.id, ElectorateEntry.membership_id == membership_id))


def tell_electorate(coop: Cooperative, resolution: Resolution, body: str, subject: str) -> None:
    # Only the title: a notice on a phone's lock screen must not say more.
    people = db.session.scalars(
        sa.select(Person).join(Membership, Membership.person_id == Person.id)
        .join(ElectorateEntry, ElectorateEntry.membership_id == Membership.id)
        .where(ElectorateEntry.resolution_id == resolution.id, Person.active.is_(True))
        .order_by(Person.id)
    ).all()
    for person in people:
        notify.tell(person, body, subject=subject, from_number=coop.sms_number)  # as the person chose
