"""Hours tables: timesheet entries, rates, funders, pay runs and each co-op's pay settings.

Money is integer pence; percentages are Numeric (Decimal); nothing is a float.
A confirmed (or void) timesheet entry is immutable: the session refuses to flush
a change to one (see `_guard_final_entries`); a correction is a new entry linked
to it by `corrects_id`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from careteams.db import utcnow
from careteams.extensions import db
from careteams.hours.enums import (
    AreaBand,
    EntryEventKind,
    EntryKind,
    Frequency,
    FunderKind,
    TimesheetStatus,
)
from careteams.members.models import Person, _enum
from careteams.teams.models import Team

PERCENT = sa.Numeric(5, 2)


class HoursSettings(db.Model):
    """A co-op's pay settings. Absent row = the defaults below."""

    __tablename__ = "hours_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), unique=True)
    auto_confirm_hours: Mapped[int] = mapped_column(default=72, server_default="72")
    charge_percent: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("17.5"), server_default="17.5")
    deduction_percent: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("7.5"), server_default="7.5")
    sleep_in_allowance_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    cancellation_notice_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    cancellation_pay_percent: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("100"), server_default="100")
    mileage_pence_per_mile: Mapped[int] = mapped_column(default=45, server_default="45")
    pay_frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, "pay_frequency"), default=Frequency.monthly)

    __table_args__ = (
        sa.CheckConstraint("auto_confirm_hours > 0", name="auto_confirm_positive"),
        sa.CheckConstraint("charge_percent >= 0 AND charge_percent <= 100 AND deduction_percent >= 0 "
                           "AND deduction_percent < 100 AND cancellation_pay_percent BETWEEN 0 AND 100",
                           name="percents"),
        sa.CheckConstraint("sleep_in_allowance_pence >= 0 AND mileage_pence_per_mile >= 0 "
                           "AND cancellation_notice_hours >= 0", name="amounts"),
    )


class CoopPayRate(db.Model):
    """The co-op's hourly pay for employed workers in one area band, from a date."""

    __tablename__ = "coop_pay_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    area_band: Mapped[AreaBand] = mapped_column(_enum(AreaBand, "area_band"))
    effective_from: Mapped[date]
    hourly_rate_pence: Mapped[int]
    night_enhancement_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    bank_holiday_enhancement_pence: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        sa.UniqueConstraint("cooperative_id", "area_band", "effective_from"),
        sa.CheckConstraint("hourly_rate_pence > 0 AND night_enhancement_pence >= 0 "
                           "AND bank_holiday_enhancement_pence >= 0", name="rates"),
    )


class WorkerRate(db.Model):
    """An independent worker's hourly rate from a date: their usual one (team_id
    NULL) or one agreed with a team. Without any row, WorkerProfile's usual rate applies."""

    __tablename__ = "worker_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id"))
    effective_from: Mapped[date]
    hourly_rate_pence: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("person_id", "team_id", "effective_from"),
        sa.CheckConstraint("hourly_rate_pence > 0", name="rate_positive"),
    )


class TeamHoursTerms(db.Model):
    """A team's area band (for employed workers' pay). Absent row = urban."""

    __tablename__ = "team_hours_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), unique=True)
    area_band: Mapped[AreaBand] = mapped_column(_enum(AreaBand, "area_band"), default=AreaBand.urban)


class Funder(db.Model):
    """Who pays for a team's support, and their share (the shares of a team's current
    funders sum to 100: checked when they are set)."""

    __tablename__ = "funder"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    kind: Mapped[FunderKind] = mapped_column(_enum(FunderKind, "funder_kind"))
    name: Mapped[str] = mapped_column(sa.String(120))
    share_percent: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("share_percent BETWEEN 1 AND 100", name="share_range"),)


class TimesheetEntry(db.Model):
    __tablename__ = "timesheet_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)  # the worker
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shift.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"), default=EntryKind.visit)
    status: Mapped[TimesheetStatus] = mapped_column(_enum(TimesheetStatus, "timesheet_status"),
                                                    default=TimesheetStatus.pending, index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    break_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    travel_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    waiting_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    mileage: Mapped[Decimal] = mapped_column(sa.Numeric(7, 1), default=Decimal("0"), server_default="0")
    note: Mapped[str] = mapped_column(sa.String(280), default="")
    # An adjustment the checker proposes (the worker accepts or rejects).
    proposed_started_at: Mapped[datetime | None]
    proposed_ended_at: Mapped[datetime | None]
    proposed_break_minutes: Mapped[int | None]
    proposed_travel_minutes: Mapped[int | None]
    proposal_note: Mapped[str | None] = mapped_column(sa.String(280))
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    submitted_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None] = mapped_column(index=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    auto_confirmed: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    disputed_at: Mapped[datetime | None]
    disputed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    dispute_comment: Mapped[str | None] = mapped_column(sa.String(500))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(sa.String(500))
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("timesheet_entry.id"), index=True)
    last_reminded_on: Mapped[date | None]  # the dedupe key of the once-a-day reminder
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(lazy="joined")
    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")

    __table_args__ = (
        # The clock makes at most one entry per shift (corrections aside): idempotent.
        sa.Index("uq_timesheet_entry_shift", "shift_id", unique=True,
                 postgresql_where=sa.text("shift_id IS NOT NULL AND corrects_id IS NULL"),
                 sqlite_where=sa.text("shift_id IS NOT NULL AND corrects_id IS NULL")),
        sa.CheckConstraint("ended_at > started_at", name="ends_after_start"),
        sa.CheckConstraint("break_minutes >= 0 AND travel_minutes >= 0 AND waiting_minutes >= 0 AND mileage >= 0",
                           name="not_negative"),
        sa.CheckConstraint("status <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"),
        sa.CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> person_id", name="not_self_confirmed"),
    )


class TimesheetEntryEvent(db.Model):
    """One step in a timesheet entry's history, written by the service that took it:
    who (NULL: the clock), in which role, what they said, and the figures before and
    after when they changed. Rows are only ever added; an entry's events are its
    readable history (the entry page's timeline, GET /timesheets/<id>/history).
    Figures are {"started_at", "ended_at" (ISO, UTC), "break_minutes", "travel_minutes"}."""

    __tablename__ = "timesheet_entry_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("timesheet_entry.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    # worker, checker, facilitator or clock: the side they spoke for at the time.
    role: Mapped[str] = mapped_column(sa.String(20))
    kind: Mapped[EntryEventKind] = mapped_column(_enum(EntryEventKind, "entry_event_kind"))
    words: Mapped[str | None] = mapped_column(sa.String(500))
    figures_before: Mapped[dict | None] = mapped_column(sa.JSON)
    figures_after: Mapped[dict | None] = mapped_column(sa.JSON)
    # A correction and the entry it corrects name each other.
    other_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("timesheet_entry.id"))

    actor: Mapped[Person | None] = relationship(foreign_keys=[actor_id], lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("role IN ('worker', 'checker', 'facilitator', 'clock')", name="event_role"),
    )


class ImmutableEntry(Exception):
    """A confirmed or void entry was changed: a programming error, never user input."""


FINAL = (TimesheetStatus.confirmed, TimesheetStatus.void)


@event.listens_for(Session, "before_flush")
def _guard_final_entries(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TimesheetEntry):
            continue
        state = sa.inspect(obj)
        history = state.attrs.status.history
        before = (history.unchanged or history.deleted or [None])[0]
        if before in FINAL and (obj in session.deleted or session.is_modified(obj, include_collections=False)):
            raise ImmutableEntry(f"Timesheet entry {obj.id} is {before} and cannot change; add a correction.")


class PayRun(db.Model):
    """The co-op's pay and invoice run for one period. Made closed: its lines are
    stored, so its figures never change; a late confirmation goes to the next run."""

    __tablename__ = "pay_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperative.id"), index=True)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, "pay_frequency"))
    period_start: Mapped[date]
    period_end: Mapped[date]  # exclusive
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))

    __table_args__ = (
        sa.UniqueConstraint("cooperative_id", "frequency", "period_start"),
        sa.CheckConstraint("period_end > period_start", name="period_order"),
    )


class RunEntry(db.Model):
    """An entry counted in a run: each entry is in at most one run, ever."""

    __tablename__ = "run_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("pay_run.id"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("timesheet_entry.id"), unique=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"))
    employed: Mapped[bool]
    # Visit time, travel and waiting (not sleep-ins or cancellations): for the fair-pay check.
    working_minutes: Mapped[int]
    # The worker's age band on the period's first day (for the fair-pay check).
    age_band: Mapped[str] = mapped_column(sa.String(20))


class RunLine(db.Model):
    """One pay element of one entry in a run, rounded once to the penny.

    `element` is always the plain element name (hours, travel, ...). A line that
    takes back a line paid in an earlier run for an entry since corrected points at
    it with `reverses_line_id` and carries its figures negated; each line is taken
    back at most once (unique), and a taking-back line is never itself taken back.
    """

    __tablename__ = "run_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_entry_id: Mapped[int] = mapped_column(sa.ForeignKey("run_entry.id"), index=True)
    element: Mapped[str] = mapped_column(sa.String(40))
    reverses_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("run_line.id"), unique=True)
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(10, 1))
    rate_pence: Mapped[int]
    pay_pence: Mapped[int]
    charge_pence: Mapped[int]
    # Counts towards minimum-wage pay (time, travel, enhancements; not expenses or allowances).
    wage_pay: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))

    run_entry: Mapped[RunEntry] = relationship(lazy="joined")

    __table_args__ = (sa.CheckConstraint("element NOT LIKE 'reversal:%'", name="plain_element"),)


class RunInvoiceLine(db.Model):
    """A funder's share of one entry's charge in a run; or, with `reverses_line_id`,
    the negation of a share invoiced in an earlier run for an entry since corrected."""

    __tablename__ = "run_invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_entry_id: Mapped[int] = mapped_column(sa.ForeignKey("run_entry.id"), index=True)
    reverses_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("run_invoice_line.id"), unique=True)
    funder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("funder.id"))
    funder_name: Mapped[str] = mapped_column(sa.String(120))
    funder_kind: Mapped[str] = mapped_column(sa.String(30))
    share_percent: Mapped[int]
    amount_pence: Mapped[int]

    run_entry: Mapped[RunEntry] = relationship(lazy="joined")


class RunHeldBack(db.Model):
    """A confirmed entry a run could not price (no rate, say), and why: it stays out of
    every run until it can be priced, and the run's page lists it."""

    __tablename__ = "run_held_back"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("pay_run.id"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("timesheet_entry.id"))
    reason: Mapped[str] = mapped_column(sa.String(200))

    __table_args__ = (sa.UniqueConstraint("run_id", "entry_id"),)
