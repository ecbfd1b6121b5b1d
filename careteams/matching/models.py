"""Worker profiles, vacancies and matches made by mutual consent.

A match is one worker and one vacancy travelling through the consent flow
(see rules.py for the state machine). Nothing here assigns anybody to anybody.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careteams.db import utcnow
from careteams.extensions import db
from careteams.matching.enums import CheckKind, EmploymentType, MatchState, Side, VacancyStatus
from careteams.members.models import Person, _enum
from careteams.teams.models import Team


class MatchingSettings(db.Model):
    """A co-op's matching settings (kept here so the members tables stay untouched)."""

    __tablename__ = "matching_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), unique=True)
    review_required: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    introduction_stale_days: Mapped[int] = mapped_column(default=14, server_default="14")
    check_warning_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # Names of training items every worker must hold in date (besides DBS and right to work).
    required_training: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    __table_args__ = (
        sa.CheckConstraint("introduction_stale_days > 0", name="stale_days_positive"),
        sa.CheckConstraint("check_warning_days >= 0", name="warning_days_not_negative"),
    )


class Skill(db.Model):
    """An entry in the co-op's own list of skills (personal care, driving, ...)."""

    __tablename__ = "skill"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))

    __table_args__ = (sa.UniqueConstraint("cooperative_id", "name"),)


worker_skill = sa.Table(
    "worker_skill",
    db.metadata,
    sa.Column("worker_profile_id", sa.ForeignKey("worker_profile.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill_id", sa.ForeignKey("skill.id"), primary_key=True, index=True),
)


class WorkerProfile(db.Model):
    __tablename__ = "worker_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    employment_type: Mapped[EmploymentType] = mapped_column(_enum(EmploymentType, "employment_type"))
    # The usual rate of an independent worker; a team and worker may agree another.
    hourly_rate_pence: Mapped[int | None]
    date_of_birth: Mapped[date | None]
    # The date the worker signed out of the 48-hour average week (None: not opted out).
    opt_out_48h_signed_on: Mapped[date | None]
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    interests: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Where the worker lives: the postcode she gave; its point from the geocoder (careteams/geo.py).
    # No point yet (the geocoder could not answer): left out of distance filtering until the
    # retry job finds it (geocode_pending). Profiles from the API may carry a point and no postcode.
    postcode: Mapped[str | None] = mapped_column(sa.String(8))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    geocode_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    district: Mapped[str | None] = mapped_column(sa.String(8))
    travel_km: Mapped[int]
    # Looking for new teams; a paused profile is never suggested.
    available: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship(lazy="joined")
    skills: Mapped[list[Skill]] = relationship(secondary=worker_skill, lazy="selectin", order_by=Skill.name)
    windows: Mapped[list[AvailabilityWindow]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="[AvailabilityWindow.weekday, AvailabilityWindow.start_minute]")
    checks: Mapped[list[WorkerCheck]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                     order_by="WorkerCheck.id")

    __table_args__ = (
        sa.UniqueConstraint("cooperative_id", "person_id"),
        # Suggestions' bounding box: the co-op's available workers by latitude, then longitude and
        # reach read from the index itself (migration 0029; it replaced (co-op, available, latitude)).
        sa.Index("ix_worker_profile_box", "cooperative_id", "available", "latitude", "longitude", "travel_km"),
        # The co-op's widest reach (suggestions size their box by it): the last entry of
        # (co-op, available) in travel_km order, not a read of every profile (migration 0029).
        sa.Index("ix_worker_profile_reach", "cooperative_id", "available", "travel_km"),
        sa.CheckConstraint(
            "employment_type = 'employed' OR (hourly_rate_pence IS NOT NULL AND hourly_rate_pence > 0)",
            name="independent_rate"),
        sa.CheckConstraint("hourly_rate_pence IS NULL OR hourly_rate_pence > 0", name="rate_positive"),
        sa.CheckConstraint("travel_km >= 0 AND travel_km <= 200", name="travel_km_range"),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="point"),
    )


class AvailabilityWindow(db.Model):
    """A weekly window when the worker can work: weekday 0 = Monday, minutes from midnight."""

    __tablename__ = "availability_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_profile_id: Mapped[int] = mapped_column(sa.ForeignKey("worker_profile.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]

    __table_args__ = (
        sa.Index("ix_availability_window_lookup", "worker_profile_id", "weekday"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="window"),
    )


class WorkerCheck(db.Model):
    """A check or training item with the date done and, usually, an expiry."""

    __tablename__ = "worker_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_profile_id: Mapped[int] = mapped_column(sa.ForeignKey("worker_profile.id", ondelete="CASCADE"))
    kind: Mapped[CheckKind] = mapped_column(_enum(CheckKind, "check_kind"))
    name: Mapped[str] = mapped_column(sa.String(80), default="")  # the training item's name
    # The certificate's or document's number (a DBS certificate number, say), as seen.
    reference: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    checked_on: Mapped[date]
    expires_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    # The expiry date the worker was last warned about (a renewal gets its own warning).
    warned_for_expiry_on: Mapped[date | None]

    __table_args__ = (
        sa.Index("ix_worker_check_lookup", "worker_profile_id", "kind", "expires_on"),
        # Checks expired or expiring soon (the day page, the queue, home): a range of dates,
        # not a scan of every check in the federation (migration 0028).
        sa.Index("ix_worker_check_expires_on", "expires_on"),
        sa.CheckConstraint("expires_on IS NULL OR expires_on > checked_on", name="expires_after_check"),
    )


class EqualityData(db.Model):
    """Equality data a worker chose to give; only ever reported in aggregate."""

    __tablename__ = "equality_data"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    ethnicity: Mapped[str | None] = mapped_column(sa.String(60))
    gender: Mapped[str | None] = mapped_column(sa.String(60))
    age_band: Mapped[str | None] = mapped_column(sa.String(20))
    disability: Mapped[str | None] = mapped_column(sa.String(20))

    __table_args__ = (sa.UniqueConstraint("cooperative_id", "person_id"),)


vacancy_skill = sa.Table(
    "vacancy_skill",
    db.metadata,
    sa.Column("vacancy_id", sa.ForeignKey("vacancy.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill_id", sa.ForeignKey("skill.id"), primary_key=True),
    sa.Column("required", sa.Boolean, nullable=False),
)


class Vacancy(db.Model):
    __tablename__ = "vacancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    status: Mapped[VacancyStatus] = mapped_column(_enum(VacancyStatus, "vacancy_status"), default=VacancyStatus.open)
    # What help is needed; shown to workers (no names, no addresses).
    needs: Mapped[str] = mapped_column(sa.Text)
    # What matters to the person; shown to workers as well.
    what_matters: Mapped[str] = mapped_column(sa.Text, default="")
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    interests: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Where the support happens; workers see only the district before mutual interest.
    # As for a worker profile: a postcode, its point (None until the geocoder finds it).
    postcode: Mapped[str | None] = mapped_column(sa.String(8))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    geocode_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    district: Mapped[str | None] = mapped_column(sa.String(8))
    posted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(lazy="joined")
    windows: Mapped[list[VacancyWindow]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="[VacancyWindow.weekday, VacancyWindow.start_minute]")

    __table_args__ = (
        sa.Index("ix_vacancy_open", "cooperative_id", "status"),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="point"),
    )


class VacancyWindow(db.Model):
    """A weekly window of the hours pattern the team needs covered."""

    __tablename__ = "vacancy_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(sa.ForeignKey("vacancy.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="window"),
    )


class Suggestion(db.Model):
    """That a worker was shown to a team for a vacancy (for the fairness report)."""

    __tablename__ = "suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(sa.ForeignKey("vacancy.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    score: Mapped[int]
    first_shown_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("vacancy_id", "person_id"),)


class Match(db.Model):
    """One worker and one vacancy in the consent flow."""

    __tablename__ = "match"

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(sa.ForeignKey("vacancy.id"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    started_by: Mapped[Side] = mapped_column(_enum(Side, "started_by"))
    state: Mapped[MatchState] = mapped_column(_enum(MatchState, "match_state"))
    # Each side's answer (starting the match is a yes); None until given.
    team_said_yes: Mapped[bool | None]
    worker_said_yes: Mapped[bool | None]
    # Private notes: each side sees only its own.
    team_note: Mapped[str | None] = mapped_column(sa.String(1000))
    worker_note: Mapped[str | None] = mapped_column(sa.String(1000))
    # A facilitator's hold, with a note only facilitators see.
    held: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    hold_note: Mapped[str | None] = mapped_column(sa.String(1000))
    held_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    declined_by: Mapped[Side | None] = mapped_column(_enum(Side, "declined_by"))
    withdrawn_by: Mapped[Side | None] = mapped_column(_enum(Side, "withdrawn_by"))
    withdrawn_from: Mapped[MatchState | None] = mapped_column(_enum(MatchState, "withdrawn_from"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    # Who gave the team's answer (inviting the worker, or answering her request):
    # that person can never also review the match (separation of duties).
    team_answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    introduction_on: Mapped[date | None]
    team_confirmed_at: Mapped[datetime | None]
    worker_confirmed_at: Mapped[datetime | None]
    team_member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team_member.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mutual_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    active_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    vacancy: Mapped[Vacancy] = relationship(lazy="joined")
    worker: Mapped[Person] = relationship(foreign_keys=[worker_id], lazy="joined")
    shifts: Mapped[list[MatchShift]] = relationship(lazy="selectin", order_by="MatchShift.worked_on")

    __table_args__ = (
        # One conversation per worker per vacancy: a "no" is not asked again.
        sa.UniqueConstraint("vacancy_id", "worker_id"),
        sa.Index("ix_match_queue", "cooperative_id", "state"),
    )


class MatchShift(db.Model):
    """A shift worked by the matched worker (a recorded date until the rota books them)."""

    __tablename__ = "match_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(sa.ForeignKey("match.id"), index=True)
    worked_on: Mapped[date]
    trial: Mapped[bool]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewPrompt(db.Model):
    """Both sides are asked whether it is working after the 3rd and 8th shift."""

    __tablename__ = "review_prompt"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(sa.ForeignKey("match.id"))
    after_shift: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    team_answer: Mapped[str | None] = mapped_column(sa.String(20))
    worker_answer: Mapped[str | None] = mapped_column(sa.String(20))

    __table_args__ = (sa.UniqueConstraint("match_id", "after_shift"),)


class Notification(db.Model):
    """A message for a person, kept so they can read it on the web too."""

    __tablename__ = "matching_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    match_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match.id"))
    vacancy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vacancy.id"))
    body: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
