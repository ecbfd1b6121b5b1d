"""Co-operatives, people, memberships (with class history) and staff roles."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.enums import ContactChannel, MemberClass, MembershipStatus, StaffRoleName


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    # Stored as a short string with a CHECK constraint: portable, and adding a
    # value later is an ordinary migration rather than an ALTER TYPE.
    return sa.Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                   values_callable=lambda e: [m.value for m in e])


class Cooperative(db.Model):
    __tablename__ = "cooperative"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(60))
    # Each co-op texts from its own number; inbound texts are routed by it.
    sms_number: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    # Rules settings. Fractions are kept as numerator/denominator, never floats.
    investor_cap_num: Mapped[int] = mapped_column(default=1, server_default="1")
    investor_cap_den: Mapped[int] = mapped_column(default=10, server_default="10")
    min_visit_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    quorum_min_members: Mapped[int] = mapped_column(default=3, server_default="3")
    quorum_percent: Mapped[int] = mapped_column(default=10, server_default="10")
    proxy_limit: Mapped[int] = mapped_column(default=5, server_default="5")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The day the co-op was founded: visits, timesheets and pay periods before it are
    # typing mistakes (members/rules.py business_window). Not recorded: the day it
    # was created here.
    founded_on: Mapped[date | None]

    __table_args__ = (
        sa.CheckConstraint("investor_cap_num >= 0 AND investor_cap_den > 0 AND investor_cap_num < investor_cap_den", name="investor_cap"),
        sa.CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent"),
    )

    def __repr__(self) -> str:
        return f"<Cooperative {self.slug}>"


class Person(UserMixin, db.Model):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    preferred_channel: Mapped[ContactChannel] = mapped_column(_enum(ContactChannel, "contact_channel"), default=ContactChannel.email)
    # "Web only": tell me things as notices on the site, never by text or email
    # (members.rules.reach_by); links that must reach the person still go out.
    web_only: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    # No longer read (login sessions are rows in auth's login_session since 0014); to be dropped.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="person", lazy="raise")
    staff_roles: Mapped[list[StaffRole]] = relationship(back_populates="person", lazy="raise")

    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="contactable"),
        # The proxy search (governance.services.ballots._voters: lower(name) LIKE '%...%'):
        # a trigram index, PostgreSQL only (migration 0028; SQLite has no pg_trgm).
        sa.Index("ix_person_name_trgm", sa.func.lower(name).label("lower_name"), postgresql_using="gin",
                 postgresql_ops={"lower_name": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    # The key of the login session this object was loaded or logged in through
    # (auth.services.start_login_session / person_for_login_session); not a column.
    login_session_key = None

    def get_id(self) -> str:  # Flask-Login: "<id>:<key>" names one server-side login session
        return f"{self.id}:{self.login_session_key or ''}"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name

    def __repr__(self) -> str:
        return f"<Person {self.id}>"


class Membership(db.Model):
    """A person's place in one co-op's register: one row per person per co-op."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    member_class: Mapped[MemberClass] = mapped_column(_enum(MemberClass, "member_class"))
    status: Mapped[MembershipStatus] = mapped_column(_enum(MembershipStatus, "membership_status"), default=MembershipStatus.applicant)
    joined_on: Mapped[date | None]
    left_on: Mapped[date | None]
    share_pence: Mapped[int] = mapped_column(default=100, server_default="100")

    person: Mapped[Person] = relationship(back_populates="memberships", lazy="joined")
    cooperative: Mapped[Cooperative] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("cooperative_id", "person_id"),
        sa.CheckConstraint("share_pence >= 0", name="share_not_negative"),
    )


class MembershipEvent(db.Model):
    """History of the register: each class or status change, never edited."""

    __tablename__ = "membership_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    member_class: Mapped[MemberClass] = mapped_column(_enum(MemberClass, "member_class"))
    status: Mapped[MembershipStatus] = mapped_column(_enum(MembershipStatus, "membership_status"))
    note: Mapped[str | None] = mapped_column(sa.String(500))

    membership: Mapped[Membership] = relationship()


class StaffRole(db.Model):
    __tablename__ = "staff_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    role: Mapped[StaffRoleName] = mapped_column(_enum(StaffRoleName, "staff_role_name"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="staff_roles")
    cooperative: Mapped[Cooperative] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("cooperative_id", "person_id", "role"),)
