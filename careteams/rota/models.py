"""Rota tables: shifts, recurring visits (series), offers, swaps, calendar feeds and
each co-op's rota settings. Times are aware UTC; shown in the team's zone."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careteams.db import UNCOMPARED, utcnow
from careteams.extensions import db
from careteams.members.models import Person, _enum
from careteams.rota.enums import OfferStatus, ShiftKind, ShiftStatus, SwapStatus
from careteams.teams.models import Team

# Name of the PostgreSQL exclusion constraint made in the migration (Alembic cannot compare it).
NO_DOUBLE_BOOKING = "ex_shift_no_double_booking"
UNCOMPARED.add(NO_DOUBLE_BOOKING)


class RotaSettings(db.Model):
    """A co-op's rota rules. Absent row = the defaults below."""

    __tablename__ = "rota_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), unique=True)
    # Check codes (rules.CHECK_CODES) the co-op enforces as blocks instead of warnings.
    blocking_checks: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    allow_short_personal_care: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    travel_speed_kmh: Mapped[int] = mapped_column(default=20, server_default="20")
    offer_wave_size: Mapped[int] = mapped_column(default=0, server_default="0")  # 0 = everyone at once
    offer_ttl_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    missed_visit_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    horizon_weeks: Mapped[int] = mapped_column(default=8, server_default="8")

    __table_args__ = (
        sa.CheckConstraint("travel_speed_kmh > 0", name="travel_speed_positive"),
        sa.CheckConstraint("offer_wave_size >= 0 AND offer_ttl_minutes > 0", name="offer_settings"),
        sa.CheckConstraint("missed_visit_minutes > 0 AND horizon_weeks BETWEEN 1 AND 52", name="clock_settings"),
    )


class ShiftSeries(db.Model):
    """A recurring visit: an RFC 5545 RRULE over local wall-clock start times.

    The end is wall-clock too (start + duration on the clock face), so a 20:00
    night shift of 12 hours ends at 08:00 local and really lasts 11 or 13 hours
    on the nights the clocks change.
    """

    __tablename__ = "shift_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    rrule: Mapped[str] = mapped_column(sa.String(300))
    first_date: Mapped[date]
    start_time: Mapped[time]
    duration_minutes: Mapped[int]
    ends_on: Mapped[date | None]  # the last date an occurrence may fall on
    kind: Mapped[ShiftKind] = mapped_column(_enum(ShiftKind, "shift_kind"))
    required_skills: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    break_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Tasks from the support plan each occurrence carries (copied onto each visit).
    tasks: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(lazy="joined")

    __table_args__ = (sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),)


# Predicates of the day page's partial indexes on shift (migration 0026); the queries in
# careteams/web/day.py state each of them so the planner can use the index.
SHIFT_UNBOOKED = "status IN ('open', 'offered')"
SHIFT_ATTENTION = "escalation_level >= 2 OR cover_requested_at IS NOT NULL OR missed_alert_at IS NOT NULL"


class Shift(db.Model):
    __tablename__ = "shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shift_series.id"), index=True)
    occurrence_date: Mapped[date | None]
    # Edited "this visit only": later edits to the series leave it alone.
    detached: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    kind: Mapped[ShiftKind] = mapped_column(_enum(ShiftKind, "shift_kind"))
    required_skills: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    break_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Tasks chosen from the support plan for this visit (their words, for the worker).
    tasks: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    is_trial: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    status: Mapped[ShiftStatus] = mapped_column(_enum(ShiftStatus, "shift_status"), default=ShiftStatus.open, index=True)
    booked_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    booked_at: Mapped[datetime | None]
    cover_requested_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    missed_alert_at: Mapped[datetime | None]
    # 0: team workers in waves; 1: the circle was told; 2: facilitators were told.
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    escalated_at: Mapped[datetime | None]
    # The leader's or Rota wrangler's consent to offer this shift outside the team.
    outside_consent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    notice_minutes: Mapped[int | None]  # notice given, for pay
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship()
    booked_person: Mapped[Person | None] = relationship(foreign_keys=[booked_person_id])

    __table_args__ = (
        sa.UniqueConstraint("series_id", "occurrence_date"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("break_minutes >= 0", name="break_not_negative"),
        sa.CheckConstraint("status NOT IN ('booked', 'completed') OR booked_person_id IS NOT NULL", name="booked_has_worker"),
        # The facilitators' day page (careteams/web/day.py) at federation scale: per team of
        # the co-op, its unbooked visits by time, and the few that need attention (escalated,
        # cover asked, flagged missed), so the page reads the co-op's rows, not the federation's.
        sa.Index("ix_shift_team_unbooked", "team_id", "starts_at",
                 postgresql_where=sa.text(SHIFT_UNBOOKED), sqlite_where=sa.text(SHIFT_UNBOOKED)),
        sa.Index("ix_shift_team_attention", "team_id", "starts_at",
                 postgresql_where=sa.text(SHIFT_ATTENTION), sqlite_where=sa.text(SHIFT_ATTENTION)),
    )


class Offer(db.Model):
    """A shift offered to one worker, with a short code that names the shift for them."""

    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(sa.ForeignKey("shift.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(4))
    # True while the code names an open offer or an upcoming booked shift.
    code_live: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    wave: Mapped[int] = mapped_column(default=1, server_default="1")
    is_cover: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    outside_team: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    status: Mapped[OfferStatus] = mapped_column(_enum(OfferStatus, "offer_status"), default=OfferStatus.open)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]

    shift: Mapped[Shift] = relationship(lazy="joined")

    __table_args__ = (
        sa.Index("uq_offer_live_code", "person_id", "code", unique=True,
                 postgresql_where=sa.text("code_live"), sqlite_where=sa.text("code_live")),
    )


class ShiftSwap(db.Model):
    """Two booked workers of one team swap shifts: both consent, the rota keeper approves."""

    __tablename__ = "shift_swap"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(sa.ForeignKey("shift.id"), index=True)
    other_shift_id: Mapped[int] = mapped_column(sa.ForeignKey("shift.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    status: Mapped[SwapStatus] = mapped_column(_enum(SwapStatus, "swap_status"), default=SwapStatus.proposed)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    agreed_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    decided_at: Mapped[datetime | None]

    shift: Mapped[Shift] = relationship(foreign_keys=[shift_id], lazy="joined")
    other_shift: Mapped[Shift] = relationship(foreign_keys=[other_shift_id], lazy="joined")


class CalendarFeed(db.Model):
    """A private iCalendar URL: a worker's booked shifts, or (team_id set) a team's rota."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
