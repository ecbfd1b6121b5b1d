"""Resolutions, their frozen electorate, secret ballots and proxy appointments.

Secrecy by design (after Loomio's detached ballots): `electorate_entry` records
*who* may vote and whether they have (a flag, no time), `ballot` records *what*
was voted (no voter, no time, a random key). Nothing joins the two.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careteams.db import utcnow
from careteams.extensions import db
from careteams.governance.enums import ProxyStatus, ResolutionKind, ResolutionStatus, Threshold
from careteams.members.models import MemberClass, Membership, Person, _enum


class Resolution(db.Model):
    __tablename__ = "resolution"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[ResolutionKind] = mapped_column(_enum(ResolutionKind, "resolution_kind"))
    threshold: Mapped[Threshold] = mapped_column(_enum(Threshold, "resolution_threshold"), default=Threshold.at_least)
    # A special resolution to convert the society into a company: investors do not vote.
    conversion: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    status: Mapped[ResolutionStatus] = mapped_column(_enum(ResolutionStatus, "resolution_status"), default=ResolutionStatus.draft)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    quorum_min_members: Mapped[int]
    quorum_percent: Mapped[int]
    # The co-op's cap, copied when voting opens so the result can be recounted later.
    investor_cap_num: Mapped[int]
    investor_cap_den: Mapped[int]
    created_by_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    electorate_hash: Mapped[str | None] = mapped_column(sa.String(64))
    electorate_size: Mapped[int | None]
    carried: Mapped[bool | None]
    # The published result: counts, exact totals as fraction strings, quorum, receipts.
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    # Sealed ballots (careteams.governance.seal): made when the secretary schedules or opens.
    # The private key is stored only encrypted; the key that decrypts it exists only as
    # the tellers' shares, `shares_needed` of which open the count.
    public_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    sealed_private_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    shares_needed: Mapped[int | None]

    options: Mapped[list[ResolutionOption]] = relationship(
        back_populates="resolution", order_by="ResolutionOption.position", lazy="selectin",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        sa.CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent"),
        sa.CheckConstraint("quorum_min_members >= 0", name="quorum_min_members"),
        sa.CheckConstraint("investor_cap_num >= 0 AND investor_cap_den > 0 AND investor_cap_num < investor_cap_den", name="investor_cap"),
        sa.CheckConstraint("conversion = false OR kind = 'special'", name="conversion_is_special"),
    )


class ResolutionOption(db.Model):
    __tablename__ = "resolution_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(sa.ForeignKey("resolution.id"), index=True)
    position: Mapped[int]
    # "for" / "against" on a resolution, "1", "2", ... on a poll: the tally's names.
    key: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(200))

    resolution: Mapped[Resolution] = relationship(back_populates="options")

    __table_args__ = (
        sa.UniqueConstraint("resolution_id", "position"),
        sa.UniqueConstraint("resolution_id", "key"),
    )


class ResolutionTeller(db.Model):
    """A teller of one resolution: holds share `share_index` of the key that opens the count.

    `waiting_share` is her share until she has seen it once, encrypted under a key
    derived from the app's SECRET_KEY (never stored); seeing it empties the column.
    """

    __tablename__ = "resolution_teller"

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(sa.ForeignKey("resolution.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    share_index: Mapped[int]
    waiting_share: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    share_seen_at: Mapped[datetime | None]
    # When her share last helped open the count (the share itself is never stored).
    gave_share_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("resolution_id", "person_id"),
                      sa.UniqueConstraint("resolution_id", "share_index"))


class ElectorateEntry(db.Model):
    """One member eligible when voting opened, and whether they (or their proxy) voted.

    Written once at opening, in membership order, then only the flag changes: the
    row says nothing about when, or how, they voted.
    """

    __tablename__ = "electorate_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(sa.ForeignKey("resolution.id"), index=True)
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    member_class: Mapped[MemberClass] = mapped_column(_enum(MemberClass, "member_class"))
    has_voted: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))

    membership: Mapped[Membership] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("resolution_id", "membership_id"),)


class Ballot(db.Model):
    """What was voted, sealed: no voter, no timestamp, a random key (an id sequence would give order).

    `sealed` is the choice sealed to the resolution's public key, always the same
    length; only the tellers' shares open it. The shuffle job rewrites a resolution's
    ballots in random order with fresh ids (careteams.governance.services.mixing).
    """

    __tablename__ = "ballot"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    resolution_id: Mapped[int] = mapped_column(sa.ForeignKey("resolution.id"), index=True)
    # The option's key, or an abstention (counts for the quorum only), sealed.
    sealed: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The class the ballot counts in (a proxy's ballot: the appointer's class).
    member_class: Mapped[MemberClass] = mapped_column(_enum(MemberClass, "member_class"))
    receipt: Mapped[str] = mapped_column(sa.String(20), unique=True)
    change_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class ProxyAppointment(db.Model):
    __tablename__ = "proxy_appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(sa.ForeignKey("resolution.id"), index=True)
    appointer_membership_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    proxy_membership_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    status: Mapped[ProxyStatus] = mapped_column(_enum(ProxyStatus, "proxy_status"), default=ProxyStatus.active)

    appointer: Mapped[Membership] = relationship(foreign_keys=[appointer_membership_id], lazy="joined")
    proxy: Mapped[Membership] = relationship(foreign_keys=[proxy_membership_id], lazy="joined")

    __table_args__ = (sa.CheckConstraint("appointer_membership_id <> proxy_membership_id", name="not_self"),)
