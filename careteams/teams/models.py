"""A team around one supported member (its leader), and each person's place in it."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Cooperative, Person, _enum
from careteams.teams.enums import HatStatus, SuggestionStatus, TeamMemberStatus, TeamRole


class HatType(db.Model):
    """A kind of hat: a name and a set of team permissions. Each co-op has the
    defaults (Rota wrangler, Team builder, Plan keeper, Hours checker) and may
    define more."""

    __tablename__ = "hat_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    description: Mapped[str] = mapped_column(sa.String(300), default="")
    # TeamPermission values, kept as a sorted list.
    permissions: Mapped[list[str]] = mapped_column(sa.JSON)

    __table_args__ = (sa.UniqueConstraint("cooperative_id", "name"),)


class Team(db.Model):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    leader_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    # A name the leader chooses: first name or nickname, nothing identifying.
    display_name: Mapped[str] = mapped_column(sa.String(60))
    # Where the support happens: the postcode (seen only by those allowed the address), its
    # point from the geocoder (careteams/geo.py; None until found) and its district, for all.
    postcode: Mapped[str | None] = mapped_column(sa.String(8))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    geocode_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    postcode_district: Mapped[str | None] = mapped_column(sa.String(8))
    # None means "the co-op's setting".
    min_visit_minutes: Mapped[int | None]
    timezone: Mapped[str | None] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))

    cooperative: Mapped[Cooperative] = relationship(lazy="joined")
    leader: Mapped[Person] = relationship(foreign_keys=[leader_id], lazy="joined")

    __table_args__ = (
        # One team per supported member per co-op.
        sa.UniqueConstraint("cooperative_id", "leader_id"),
    )

    @property
    def zone(self) -> str:
        return self.timezone or self.cooperative.timezone

    @property
    def effective_min_visit_minutes(self) -> int:
        return self.min_visit_minutes if self.min_visit_minutes is not None else self.cooperative.min_visit_minutes


class TeamMember(db.Model):
    """A person's place in a team. Rows are never deleted: leaving sets `left`."""

    __tablename__ = "team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    role: Mapped[TeamRole] = mapped_column(_enum(TeamRole, "team_role"))
    status: Mapped[TeamMemberStatus] = mapped_column(_enum(TeamMemberStatus, "team_member_status"))
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_on: Mapped[date | None]
    active_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    # Who asked the person to join (the team side's consent), and when each side
    # said yes: nobody joins without both.
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    accepted_at: Mapped[datetime | None]
    # Moving from trial to active also needs both sides.
    team_confirmed_at: Mapped[datetime | None]
    member_confirmed_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    # Private to the person who ended it and the team's leader and circle.
    end_note: Mapped[str | None] = mapped_column(sa.String(500))

    team: Mapped[Team] = relationship(lazy="joined")
    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")

    __table_args__ = (
        # At most one current (not ended) place per person per team.
        sa.Index(
            "uq_team_member_current", "team_id", "person_id", unique=True,
            postgresql_where=sa.text("status IN ('invited', 'trial', 'active')"),
            sqlite_where=sa.text("status IN ('invited', 'trial', 'active')"),
        ),
    )


class Hat(db.Model):
    """A hat offered to (and, once accepted, worn by) one person in one team."""

    __tablename__ = "hat"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    hat_type_id: Mapped[int] = mapped_column(sa.ForeignKey("hat_type.id"))
    status: Mapped[HatStatus] = mapped_column(_enum(HatStatus, "hat_status"), default=HatStatus.offered)
    offered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    hat_type: Mapped[HatType] = relationship(lazy="joined")
    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    team: Mapped[Team] = relationship(lazy="joined")

    __table_args__ = (
        # One live offer or hat of a kind per person per team.
        sa.Index(
            "uq_hat_current", "team_id", "person_id", "hat_type_id", unique=True,
            postgresql_where=sa.text("status IN ('offered', 'accepted') AND ended_at IS NULL"),
            sqlite_where=sa.text("status IN ('offered', 'accepted') AND ended_at IS NULL"),
        ),
    )

    def in_force(self, now: datetime) -> bool:
        return (self.status == HatStatus.accepted and self.ended_at is None
                and (self.expires_at is None or self.expires_at > now))


class Arranger(db.Model):
    """Proposed by a facilitator only where the leader cannot act for themselves;
    holds every team permission once a second person (another facilitator, an
    admin of the co-op, or the leader) has agreed. The reason is recorded and
    visible to the team. A proposal grants nothing: read an arranger's powers
    only through `Arranger.in_force()`."""

    __tablename__ = "arranger"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    appointed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    appointed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The second person's yes. Rows from before the rule have agreed_at but no agreed_by_id.
    agreed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    agreed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Who ended it, declined the proposal or stepped down (None: the clock or migration 0015).
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    appointed_by: Mapped[Person] = relationship(foreign_keys=[appointed_by_id], lazy="joined")
    team: Mapped[Team] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("length(reason) > 0", name="reason_given"),
        # Nobody appoints themselves (rows from before 0015 that did were ended by it).
        sa.CheckConstraint("appointed_by_id <> person_id OR ended_at IS NOT NULL", name="not_self_appointed"),
        # The second yes comes from a second person: neither the proposer nor the arranger.
        sa.CheckConstraint("agreed_by_id IS NULL OR (agreed_by_id <> appointed_by_id AND agreed_by_id <> person_id)",
                           name="agreed_by_another"),
        sa.CheckConstraint("agreed_by_id IS NULL OR agreed_at IS NOT NULL", name="agreed_at_recorded"),
        sa.Index("uq_arranger_current", "team_id", "person_id", unique=True,
                 postgresql_where=sa.text("ended_at IS NULL"), sqlite_where=sa.text("ended_at IS NULL")),
    )

    @classmethod
    def in_force(cls) -> sa.ColumnElement[bool]:
        """SQL condition: agreed by a second person and not ended. The only way to
        read an arranger's powers (a proposal grants nothing)."""
        return sa.and_(cls.agreed_at.is_not(None), cls.ended_at.is_(None))

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended" if self.agreed_at is not None else "declined"
        return "agreed" if self.agreed_at is not None else "proposed"


class TeamPrivateDetails(db.Model):
    """Where the visits happen and who to call: shown only to the leader, the
    circle and active team members; never in texts, feeds or logs."""

    __tablename__ = "team_private_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), unique=True)
    address: Mapped[str] = mapped_column(sa.Text, default="")
    access_notes: Mapped[str] = mapped_column(sa.Text, default="")  # key safe, door codes
    emergency_contacts: Mapped[str] = mapped_column(sa.Text, default="")
    if_something_is_wrong: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))

    def __repr__(self) -> str:  # never show the content, even in a traceback
        return f"<TeamPrivateDetails team={self.team_id}>"


class SupportPlanVersion(db.Model):
    """One saved version of a team's support plan. Append-only: a save adds a row."""

    __tablename__ = "support_plan_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    number: Mapped[int]
    # {section: {"text": str, "shared_with_trial": bool}} for PLAN_SECTIONS.
    sections: Mapped[dict] = mapped_column(sa.JSON)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    # "leader", "arranger", "hat:Plan keeper", "suggestion": whose authority.
    on_behalf: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[Person] = relationship(foreign_keys=[author_id], lazy="joined")

    __table_args__ = (sa.UniqueConstraint("team_id", "number"), sa.CheckConstraint("number >= 1", name="number_positive"))

    def __repr__(self) -> str:
        return f"<SupportPlanVersion team={self.team_id} v{self.number}>"


class PlanSuggestion(db.Model):
    """A facilitator's suggested change to the plan; it takes effect only when accepted."""

    __tablename__ = "plan_suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    base_version_number: Mapped[int | None]  # the plan version the facilitator read
    # Only the sections the suggestion changes.
    sections: Mapped[dict] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[SuggestionStatus] = mapped_column(_enum(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.open)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    answered_at: Mapped[datetime | None]
    resulting_version_number: Mapped[int | None]

    author: Mapped[Person] = relationship(foreign_keys=[author_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<PlanSuggestion {self.id} team={self.team_id}>"


class AuditEntry(db.Model):
    """One change to a team, its members, hats or plan. Append-only: never updated
    or deleted (enforced by the ORM and by database triggers)."""

    __tablename__ = "team_audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))  # None: the clock
    # On whose authority: "leader", "arranger", "hat:Team builder", "facilitator", "self", "system".
    on_behalf: Mapped[str] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(60))
    subject: Mapped[str] = mapped_column(sa.String(40))  # e.g. "team_member:12"
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)

    actor: Mapped[Person | None] = relationship(foreign_keys=[actor_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action}>"


APPEND_ONLY = (AuditEntry, SupportPlanVersion)


@sa.event.listens_for(Session, "before_flush")
def _refuse_rewriting_history(session: Session, flush_context, instances) -> None:
    # The database refuses it too (triggers in migration 0004); this catches it
    # earlier with a clear message.
    for obj in session.deleted:
        if isinstance(obj, APPEND_ONLY):
            raise AppendOnlyError(f"{type(obj).__name__} rows are never deleted")
    for obj in session.dirty:
        if isinstance(obj, APPEND_ONLY) and session.is_modified(obj):
            raise AppendOnlyError(f"{type(obj).__name__} rows are never changed")


class AppendOnlyError(RuntimeError):
    """Someone tried to rewrite the audit log or a saved plan version."""
