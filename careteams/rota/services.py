"""Use-cases for rotas. Services flush; the caller (view, job, SMS command) commits once.

Booking is the heart of it: inside one transaction the application checks the
worker is free and the checks allow it, then a conditional UPDATE books the shift
only if nobody else has (`status IN ('open', 'offered') AND booked_person_id IS
NULL`), so exactly one acceptance wins; on PostgreSQL an exclusion constraint
also makes an overlapping booking of one worker impossible.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.members.models import Person, StaffRole, StaffRoleName
from careteams.members.permissions import Actor, is_admin
from careteams.rota import eligibility, rules
from careteams.rota import permissions as perm
from careteams.rota.models import (
    CalendarFeed,
    Offer,
    OfferStatus,
    RotaSettings,
    Shift,
    ShiftKind,
    ShiftSeries,
    ShiftStatus,
    ShiftSwap,
    SwapStatus,
)
from careteams.sms import rules as sms_rules
from careteams.sms import services as sms_services
from careteams.teams.models import Hat, HatStatus, Team, TeamMember, TeamMemberStatus, TeamRole
from careteams.teams.services import get_visible_team, team_access

BOOKABLE = (ShiftStatus.open, ShiftStatus.offered)

# ---------------------------------------------------------------- settings


def settings_for(cooperative_id: int) -> RotaSettings:
    """The co-op's rota settings, or the defaults (not saved) when it has none."""
    row = db.session.scalar(sa.select(RotaSettings).where(RotaSettings.cooperative_id == cooperative_id))
    if row is not None:
        return row
    return RotaSettings(cooperative_id=cooperative_id, blocking_checks=[], allow_short_personal_care=False,
                        travel_speed_kmh=20, offer_wave_size=0, offer_ttl_minutes=120,
                        missed_visit_minutes=15, horizon_weeks=8)


def update_settings(actor: Actor, cooperative_id: int, changes: dict) -> RotaSettings:
    """Change a co-op's rota settings (its admins)."""
    ensure(is_admin(actor, cooperative_id), not_found=not actor.is_staff(cooperative_id) and cooperative_id not in actor.member_of)
    unknown = set(changes.get("blocking_checks", [])) - set(rules.CHECK_CODES)
    if unknown:
        raise ValidationError(details={"fields": {"blocking_checks": [f"Unknown checks: {', '.join(sorted(unknown))}."]}})
    row = db.session.scalar(sa.select(RotaSettings).where(RotaSettings.cooperative_id == cooperative_id))
    if row is None:
        row = settings_for(cooperative_id)
        db.session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.flush()
    return row


# ---------------------------------------------------------------- presenting


@dataclass
class ShiftView:
    """A shift as people see it: local times in the team's zone, true length, warnings."""

    shift: Shift
    zone: str
    findings: list[rules.Finding] = field(default_factory=list)
    code: str | None = None  # the viewer's own code for it, if any
    team_name: str = ""

    def __getattr__(self, name):  # id, status, kind... come from the shift
        return getattr(self.shift, name)

    @property
    def local_start(self) -> datetime:
        return self.shift.starts_at.astimezone(ZoneInfo(self.zone))

    @property
    def local_end(self) -> datetime:
        return self.shift.ends_at.astimezone(ZoneInfo(self.zone))

    @property
    def duration_minutes(self) -> int:
        return round(rules.minutes_between(self.shift.starts_at, self.shift.ends_at))

    @property
    def booked_person_name(self) -> str | None:
        return self.shift.booked_person.name if self.shift.booked_person_id and self.shift.booked_person else None

    @property
    def cover_requested(self) -> bool:
        return self.shift.cover_requested_at is not None

    @property
    def warnings(self) -> list[dict]:
        return [{"code": f.code, "message": f.message, "blocking": f.blocking} for f in self.findings]


def when_text(shift: Shift, zone: str) -> str:
    """'Tue 3 Dec 09:00-10:00' in the team's zone: for texts, never with health details."""
    tz = ZoneInfo(zone)
    start, end = shift.starts_at.astimezone(tz), shift.ends_at.astimezone(tz)
    return f"{start:%a} {start.day} {start:%b %H:%M}-{end:%H:%M}"


# ---------------------------------------------------------------- loading


def _team_with_access(actor: Actor, team_id: int):
    team, access = get_visible_team(actor, team_id)
    return team, access


def _visible_shift(actor: Actor, shift_id: int) -> tuple[Shift, Team, object]:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound("No such shift.")
    team, access = get_visible_team(actor, shift.team_id)
    return shift, team, access


def _shift_for_update(shift_id: int) -> Shift | None:
    # A row lock: edits, cancellations and bookings of one shift queue up.
    return db.session.scalar(sa.select(Shift).where(Shift.id == shift_id).with_for_update()
                             .execution_options(populate_existing=True))


# ---------------------------------------------------------------- checks


def _visits_of(person_ids: Iterable[int], start: datetime, end: datetime, exclude_shift_id: int | None = None) -> dict[int, list[tuple[int, rules.Visit]]]:
    """Booked (or completed) shifts of these workers in a window, in any team: one query."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Shift.id, Shift.booked_person_id, Shift.starts_at, Shift.ends_at, Shift.kind, Shift.break_minutes,
                  Shift.team_id, Team.latitude, Team.longitude)
        .join(Team, Team.id == Shift.team_id)
        .where(Shift.booked_person_id.in_(ids), Shift.status.in_((ShiftStatus.booked, ShiftStatus.completed)),
               Shift.ends_at > start, Shift.starts_at < end)
    ).all()
    out: dict[int, list[tuple[int, rules.Visit]]] = defaultdict(list)
    for r in rows:
        if r.id == exclude_shift_id:
            continue
        out[r.booked_person_id].append((r.id, rules.Visit(r.starts_at, r.ends_at, r.kind.value, r.break_minutes,
                                                          r.latitude, r.longitude, r.team_id)))
    return out


def _visit(shift: Shift, team: Team) -> rules.Visit:
    return rules.Visit(shift.starts_at, shift.ends_at, ShiftKind(shift.kind).value, shift.break_minutes,
                       team.latitude, team.longitude, team.id)


def _window(shift: Shift) -> tuple[datetime, datetime]:
    return (shift.starts_at - timedelta(weeks=rules.REFERENCE_WEEKS + 1), shift.ends_at + timedelta(days=8))


def findings_for(shift: Shift, team: Team, person_id: int | None, settings: RotaSettings | None = None,
                 others: Sequence[rules.Visit] | None = None) -> list[rules.Finding]:
    """The working-time and care-quality findings of `shift` for `person_id` (or the
    shift alone when nobody is named)."""
    settings = settings or settings_for(team.cooperative_id)
    visit = _visit(shift, team)
    common = dict(team_minimum_minutes=team.effective_min_visit_minutes,
                  allow_short_personal_care=settings.allow_short_personal_care,
                  blocking_checks=settings.blocking_checks or [])
    if person_id is None:
        return rules.check_shape(visit, **common)
    if others is None:
        start, end = _window(shift)
        others = [v for _, v in _visits_of([person_id], start, end, exclude_shift_id=shift.id).get(person_id, [])]
    week = rules.week_bounds(shift.starts_at.astimezone(ZoneInfo(team.zone)).date(), team.zone)
    return rules.check_visit(visit, others, week=week, opted_out=eligibility.weekly_hours_opt_out(person_id),
                             speed_kmh=settings.travel_speed_kmh, **common)


def check_shift(actor: Actor, shift_id: int, person_id: int | None) -> list[rules.Finding]:
    """What the checks say about booking `person_id` on a shift (the rota's keepers)."""
    shift, team, access = _visible_shift(actor, shift_id)
    ensure(perm.can_offer_shifts(access) or perm.can_edit_rota(access))
    return findings_for(shift, team, person_id)


def _refuse_blocking(findings: list[rules.Finding]) -> None:
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise ValidationError("The co-op's rota rules do not allow this.", code="check_failed",
                              details={"checks": [{"code": f.code, "message": f.message} for f in blocking]})


# ---------------------------------------------------------------- shifts


def create_shift(actor: Actor, team_id: int, data: dict) -> ShiftView:
    """Add a one-off shift to a team's rota (leader or Rota wrangler)."""
    team, access = _team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    starts_at, ends_at = _times(data["starts_at"], data["ends_at"], team.zone)
    shift = Shift(team_id=team.id, starts_at=starts_at, ends_at=ends_at, kind=data["kind"],
                  required_skills=sorted(set(data.get("required_skills") or [])), notes=data.get("notes") or "",
                  break_minutes=data.get("break_minutes") or 0, is_trial=bool(data.get("is_trial")),
                  status=ShiftStatus.open)
    findings = findings_for(shift, team, None)
    _refuse_blocking(findings)
    db.session.add(shift)
    db.session.flush()
    return ShiftView(shift, team.zone, findings, team_name=team.display_name)


def _times(start: datetime, end: datetime, zone: str) -> tuple[datetime, datetime]:
    try:
        starts_at, ends_at = rules.to_utc(start, zone), rules.to_utc(end, zone)
    except rules.NonexistentLocalTime as exc:
        raise ValidationError(details={"fields": {"starts_at": [str(exc)]}}) from None
    if ends_at <= starts_at:
        raise ValidationError(details={"fields": {"ends_at": ["The end must be after the start."]}})
    if rules.duration(starts_at, ends_at) > timedelta(hours=24):
        raise ValidationError(details={"fields": {"ends_at": ["A shift lasts at most 24 hours."]}})
    return starts_at, ends_at


def update_shift(actor: Actor, shift_id: int, changes: dict, scope: str = "this", now: datetime | None = None) -> ShiftView:
    """Edit one visit ("this") or, for a recurring visit, this and the following ones."""
    now = now or utcnow()
    shift, team, access = _visible_shift(actor, shift_id)
    ensure(perm.can_edit_rota(access))
    if shift.status in (ShiftStatus.completed, ShiftStatus.cancelled):
        raise Conflict("That shift is over or cancelled.", code="shift_closed")
    if scope == "following":
        if shift.series_id is None:
            raise ValidationError(details={"fields": {"scope": ["Only a recurring visit has following visits."]}})
        _split_series(actor, shift, team, changes, now)
        db.session.refresh(shift)
        return ShiftView(shift, team.zone, findings_for(shift, team, shift.booked_person_id), team_name=team.display_name)
    # No autoflush until we know whether the booked worker is free at the new time: on
    # PostgreSQL flushing a clashing booking first would trip the exclusion constraint.
    with db.session.no_autoflush:
        if "starts_at" in changes or "ends_at" in changes:
            local = ZoneInfo(team.zone)
            start = changes.get("starts_at", shift.starts_at.astimezone(local))
            end = changes.get("ends_at", shift.ends_at.astimezone(local))
            shift.starts_at, shift.ends_at = _times(start, end, team.zone)
        for key in ("kind", "notes", "break_minutes"):
            if key in changes:
                setattr(shift, key, changes[key])
        if "required_skills" in changes:
            shift.required_skills = sorted(set(changes["required_skills"]))
        shift.detached = True
        clash = shift.booked_person_id is not None and _clash(shift.booked_person_id, shift.starts_at, shift.ends_at, shift.id)
        findings = findings_for(shift, team, None if clash else shift.booked_person_id)
        _refuse_blocking(findings)
    if clash:
        _unbook(shift, "The shift moved to a time you are booked elsewhere.")
    db.session.flush()
    return ShiftView(shift, team.zone, findings, team_name=team.display_name)


def _clash(person_id: int, starts_at: datetime, ends_at: datetime, exclude_id: int | None = None) -> bool:
    q = sa.select(Shift.id).where(Shift.booked_person_id == person_id, Shift.status == ShiftStatus.booked,
                                  Shift.starts_at < ends_at, Shift.ends_at > starts_at)
    if exclude_id is not None:
        q = q.where(Shift.id != exclude_id)
    return db.session.scalar(q.limit(1)) is not None


def _unbook(shift: Shift, why: str) -> None:
    # Release the booking before anything flushes: the shift may already sit at a time
    # that clashes with the worker's other booking.
    person_id = shift.booked_person_id
    shift.booked_person_id = None
    shift.booked_at = None
    shift.cover_requested_at = None
    shift.status = ShiftStatus.open
    shift.escalation_level = 0
    db.session.flush()
    person = db.session.get(Person, person_id) if person_id else None
    for offer in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.code_live)):
        offer.code_live = False
        if offer.status in (OfferStatus.open, OfferStatus.accepted):
            offer.status = OfferStatus.withdrawn
    db.session.flush()
    if person is not None:
        # One short, generic notice: `why` stays out of texts (it may say too much).
        _tell(person, shift.team, "A shift changed", "unbooked", shift)


def cancel_shift(actor: Actor, shift_id: int, reason: str, now: datetime | None = None) -> ShiftView:
    """Cancel a shift (e.g. a hospital admission); the notice given is recorded for pay."""
    now = now or utcnow()
    shift, team, access = _visible_shift(actor, shift_id)
    ensure(perm.can_cancel_shift(access))
    shift = _shift_for_update(shift.id)
    if shift.status in (ShiftStatus.completed, ShiftStatus.cancelled):
        raise Conflict("That shift is already over or cancelled.", code="shift_closed")
    worker = db.session.get(Person, shift.booked_person_id) if shift.booked_person_id else None
    shift.status = ShiftStatus.cancelled
    shift.cancelled_by_id = actor.person_id
    shift.cancelled_at = now
    shift.cancel_reason = reason
    shift.notice_minutes = rules.notice_minutes(now, shift.starts_at)
    for offer in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.code_live)):
        offer.code_live = False
        if offer.status == OfferStatus.open:
            offer.status = OfferStatus.withdrawn
    db.session.flush()
    if worker is not None:
        _tell(worker, team, "A shift was cancelled", "cancelled", shift,
              dedupe_key=f"rota.cancelled:{shift.id}:{worker.id}")
    return ShiftView(shift, team.zone, [], team_name=team.display_name)


# ---------------------------------------------------------------- recurring visits


def create_series(actor: Actor, team_id: int, data: dict, now: datetime | None = None) -> ShiftSeries:
    """A recurring visit; its occurrences are added to the rota up to the co-op's horizon."""
    now = now or utcnow()
    team, access = _team_with_access(actor, team_id)
    ensure(perm.can_edit_rota(access))
    problem = rules.validate_rrule(data["rrule"])
    if problem:
        raise ValidationError(details={"fields": {"rrule": [problem]}})
    series = ShiftSeries(team_id=team.id, rrule=data["rrule"].strip(), first_date=data["first_date"],
                         start_time=data["start_time"], duration_minutes=data["duration_minutes"],
                         ends_on=data.get("ends_on"), kind=data["kind"], break_minutes=data.get("break_minutes") or 0,
                         required_skills=sorted(set(data.get("required_skills") or [])),
                         notes=data.get("notes") or "", created_by_id=actor.person_id)
    sample = Shift(team_id=team.id, kind=series.kind, break_minutes=series.break_minutes,
                   starts_at=datetime(2026, 1, 5, 12, tzinfo=UTC),
                   ends_at=datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(minutes=series.duration_minutes))
    _refuse_blocking(findings_for(sample, team, None))
    db.session.add(series)
    db.session.flush()
    materialise_series(series, now)
    return series


def materialise_series(series: ShiftSeries, now: datetime, from_date: date | None = None) -> int:
    """Add the series' occurrences up to the horizon that are not there yet (idempotent:
    one shift per series per occurrence date, also unique in the database)."""
    team = series.team
    settings = settings_for(team.cooperative_id)
    today = now.astimezone(ZoneInfo(team.zone)).date()
    start = max(from_date or today, today)
    horizon = today + timedelta(weeks=settings.horizon_weeks)
    existing = set(db.session.scalars(sa.select(Shift.occurrence_date).where(Shift.series_id == series.id)))
    added = 0
    for day, starts_at, ends_at in rules.occurrence_times(series.rrule, series.first_date, series.start_time,
                                                           series.duration_minutes, team.zone, start, horizon,
                                                           series.ends_on):
        if day in existing:
            continue
        db.session.add(Shift(team_id=team.id, series_id=series.id, occurrence_date=day, starts_at=starts_at,
                             ends_at=ends_at, kind=series.kind, required_skills=list(series.required_skills or []),
                             break_minutes=series.break_minutes, notes=series.notes, status=ShiftStatus.open))
        added += 1
    db.session.flush()
    return added


def _split_series(actor: Actor, shift: Shift, team: Team, changes: dict, now: datetime) -> ShiftSeries:
    """'This and following': the old pattern ends the day before; a new one starts here."""
    old = db.session.get(ShiftSeries, shift.series_id)
    day = shift.occurrence_date
    start_time = changes.get("start_time", old.start_time)
    new = ShiftSeries(team_id=old.team_id, rrule=changes.get("rrule", old.rrule), first_date=day,
                      start_time=start_time, duration_minutes=changes.get("duration_minutes", old.duration_minutes),
                      ends_on=old.ends_on, kind=changes.get("kind", old.kind),
                      required_skills=sorted(set(changes.get("required_skills", old.required_skills or []))),
                      break_minutes=changes.get("break_minutes", old.break_minutes),
                      notes=changes.get("notes", old.notes), created_by_id=actor.person_id)
    problem = rules.validate_rrule(new.rrule)
    if problem:
        raise ValidationError(details={"fields": {"rrule": [problem]}})
    old.ends_on = day - timedelta(days=1)
    db.session.add(new)
    db.session.flush()
    following = db.session.scalars(sa.select(Shift).where(
        Shift.series_id == old.id, Shift.occurrence_date >= day, Shift.detached.is_(False),
        Shift.status.in_((ShiftStatus.open, ShiftStatus.offered, ShiftStatus.booked)))).all()
    times = {d: (s, e) for d, s, e in rules.occurrence_times(new.rrule, new.first_date, new.start_time,
                                                               new.duration_minutes, team.zone, day,
                                                               day + timedelta(weeks=60), new.ends_on)}
    for s in following:
        if s.occurrence_date in times:
            # Keep the visit (and its booking if the worker is still free) on the new pattern.
            with db.session.no_autoflush:
                s.series_id, (s.starts_at, s.ends_at) = new.id, times[s.occurrence_date]
                s.kind, s.notes, s.break_minutes = new.kind, new.notes, new.break_minutes
                s.required_skills = list(new.required_skills)
                clash = s.booked_person_id is not None and _clash(s.booked_person_id, s.starts_at, s.ends_at, s.id)
            if clash:
                _unbook(s, "The visit moved to a time you are booked elsewhere.")
            db.session.flush()
        elif s.status == ShiftStatus.booked:
            s.series_id = new.id
            s.detached = True  # no longer on the pattern; kept because someone is booked
        else:
            db.session.delete(s)
    db.session.flush()
    materialise_series(new, now, from_date=day)
    return new


# ---------------------------------------------------------------- offers


@dataclass(frozen=True)
class OfferResult:
    """What happened to an answer: booked, already_filled, expired, unknown_code,
    declined, already_yours, double_booked, not_eligible, blocked, cover_requested,
    arrived, not_booked."""

    outcome: str
    message: str
    shift: Shift | None = None
    findings: tuple[rules.Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome in ("booked", "declined", "already_yours", "cover_requested", "arrived")


def team_worker_ids(team_id: int) -> list[int]:
    """The team's active paid workers (offers go to them; trial workers are booked directly)."""
    return list(db.session.scalars(sa.select(TeamMember.person_id).where(
        TeamMember.team_id == team_id, TeamMember.status == TeamMemberStatus.active,
        TeamMember.role == TeamRole.paid_worker)))


def _busy(person_ids: Sequence[int], starts_at: datetime, ends_at: datetime) -> set[int]:
    if not person_ids:
        return set()
    return set(db.session.scalars(sa.select(Shift.booked_person_id).where(
        Shift.booked_person_id.in_(person_ids), Shift.status == ShiftStatus.booked,
        Shift.starts_at < ends_at, Shift.ends_at > starts_at)))


def eligible_workers(shift: Shift, exclude: Iterable[int] = ()) -> list[int]:
    """The team's active workers who are free then and whose profile allows the shift."""
    skip = set(exclude)
    if shift.booked_person_id:
        skip.add(shift.booked_person_id)
    candidates = [p for p in team_worker_ids(shift.team_id) if p not in skip]
    busy = _busy(candidates, shift.starts_at, shift.ends_at)
    candidates = [p for p in candidates if p not in busy]
    reasons = eligibility.worker_eligibility(candidates, shift.required_skills or [], shift.starts_at)
    return sorted(p for p in candidates if not reasons.get(p))


def _create_offers(shift: Shift, person_ids: Sequence[int], wave: int, ttl_minutes: int, now: datetime,
                   *, outside: bool = False) -> list[Offer]:
    if not person_ids:
        return []
    live: dict[int, set[str]] = defaultdict(set)
    for pid, code in db.session.execute(sa.select(Offer.person_id, Offer.code).where(
            Offer.person_id.in_(person_ids), Offer.code_live)):
        live[pid].add(code)
    offers = []
    for pid in person_ids:
        offer = Offer(shift_id=shift.id, person_id=pid, code=rules.new_code(live[pid]), wave=wave,
                      is_cover=shift.status == ShiftStatus.booked, outside_team=outside, status=OfferStatus.open,
                      sent_at=now, expires_at=min(now + timedelta(minutes=ttl_minutes), shift.starts_at))
        db.session.add(offer)
        offers.append(offer)
    if shift.status == ShiftStatus.open:
        shift.status = ShiftStatus.offered
    db.session.flush()
    team = shift.team
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(person_ids)))}
    for offer in offers:
        # Asks for "Y 482", never a lone YES (Twilio's own opt-in word). One text per
        # offer, whatever re-runs: the offer's id is its key.
        _tell(people[offer.person_id], team, "Cover needed" if offer.is_cover else "Shift offer",
              "cover_offer" if offer.is_cover else "offer", shift, code=offer.code,
              dedupe_key=f"rota.offer:{offer.id}")
    return offers


def _offered_to(shift_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(Offer.person_id).where(Offer.shift_id == shift_id)))


def offer_shift(actor: Actor, shift_id: int, wave_size: int | None = None, now: datetime | None = None) -> list[Offer]:
    """Offer an open shift to the team's eligible active workers: all at once or the first wave."""
    now = now or utcnow()
    shift, team, access = _visible_shift(actor, shift_id)
    ensure(perm.can_offer_shifts(access))
    shift = _shift_for_update(shift.id)
    if shift.status not in BOOKABLE or shift.starts_at <= now:
        raise Conflict("Only an open shift in the future can be offered.", code="not_offerable")
    settings = settings_for(team.cooperative_id)
    candidates = eligible_workers(shift, exclude=_offered_to(shift.id))
    batches = rules.waves(candidates, settings.offer_wave_size if wave_size is None else wave_size)
    if not batches:
        # Nobody in the team can take it: the clock escalates it to the circle next.
        shift.status = ShiftStatus.offered
        db.session.flush()
        return []
    wave = (db.session.scalar(sa.select(sa.func.max(Offer.wave)).where(Offer.shift_id == shift.id)) or 0) + 1
    return _create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)


def consent_outside_offer(actor: Actor, shift_id: int) -> ShiftView:
    """The leader's or Rota wrangler's consent to offer this one shift outside the team."""
    shift, team, access = _visible_shift(actor, shift_id)
    ensure(perm.can_consent_outside_offer(access))
    shift.outside_consent_by_id = actor.person_id
    db.session.flush()
    return ShiftView(shift, team.zone, team_name=team.display_name)


def offer_outside(actor: Actor, shift_id: int, person_ids: Sequence[int], now: datetime | None = None) -> list[Offer]:
    """Offer a shift to named workers outside the team, once the team consented for it."""
    now = now or utcnow()
    shift, team, access = _visible_shift(actor, shift_id)
    ensure(perm.can_offer_shifts(access))
    if shift.outside_consent_by_id is None:
        raise Conflict("The leader or Rota wrangler must agree to offering this shift outside the team.",
                       code="outside_consent_needed")
    if shift.status not in BOOKABLE or shift.starts_at <= now:
        raise Conflict("Only an open shift in the future can be offered.", code="not_offerable")
    ids = sorted(set(person_ids) - _offered_to(shift.id))
    known = set(db.session.scalars(sa.select(Person.id).where(Person.id.in_(ids), Person.active)))
    if known != set(ids):
        raise ValidationError(details={"fields": {"person_ids": ["Unknown people."]}})
    busy = _busy(ids, shift.starts_at, shift.ends_at)
    reasons = eligibility.worker_eligibility(ids, shift.required_skills or [], shift.starts_at)
    ids = [p for p in ids if p not in busy and not reasons.get(p)]
    settings = settings_for(team.cooperative_id)
    return _create_offers(shift, ids, 0, settings.offer_ttl_minutes, now, outside=True)


def _live_offer(person: Person, code: str) -> Offer | None:
    return db.session.scalar(sa.select(Offer).where(Offer.person_id == person.id, Offer.code == code.strip(),
                                                    Offer.code_live))


def _offer_by_code(person: Person, code: str, now: datetime) -> Offer | None:
    """The live offer with this code, else the latest recent one that had it: a late
    "Y 482" must hear "already filled" or "expired", never a puzzling "unknown code"."""
    live = _live_offer(person, code)
    if live is not None:
        return live
    return db.session.scalar(
        sa.select(Offer).join(Shift, Shift.id == Offer.shift_id)
        .where(Offer.person_id == person.id, Offer.code == code.strip(), Shift.ends_at > now - timedelta(days=2))
        .order_by(Offer.id.desc()).limit(1))


def _book(shift_id: int, person_id: int, now: datetime, *, cover_from: int | None = None) -> OfferResult:
    """Book in this transaction: the app checks, then one conditional UPDATE that only one
    concurrent caller can win; on PostgreSQL the exclusion constraint backs it up."""
    shift = db.session.get(Shift, shift_id)
    team = shift.team
    if _clash(person_id, shift.starts_at, shift.ends_at, shift.id):
        return OfferResult("double_booked", "You are already booked at that time.", shift)
    findings = findings_for(shift, team, person_id)
    if any(f.blocking for f in findings):
        return OfferResult("blocked", "The co-op's rota rules do not allow this booking.", shift, tuple(findings))
    condition = ((Shift.status == ShiftStatus.booked) & (Shift.booked_person_id == cover_from)
                 & Shift.cover_requested_at.is_not(None)) if cover_from is not None else \
        (Shift.status.in_(BOOKABLE) & Shift.booked_person_id.is_(None))
    try:
        with db.session.begin_nested():
            result = db.session.execute(
                sa.update(Shift).where(Shift.id == shift_id, condition)
                .values(status=ShiftStatus.booked, booked_person_id=person_id, booked_at=now, cover_requested_at=None)
                .execution_options(synchronize_session=False))
    except IntegrityError:
        return OfferResult("double_booked", "You are already booked at that time.", shift)
    db.session.refresh(shift)
    if result.rowcount != 1:
        return OfferResult("already_filled", "Sorry, that shift has already been filled.", shift)
    return OfferResult("booked", f"You are booked: {when_text(shift, team.zone)} with {team.display_name}'s team.",
                       shift, tuple(findings))


def _close_other_offers(shift: Shift, winner: Offer | None, now: datetime) -> None:
    for other in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.code_live)):
        if winner is not None and other.id == winner.id:
            continue
        if other.status == OfferStatus.open:
            other.status = OfferStatus.filled
        elif other.status == OfferStatus.accepted:  # the worker who asked for cover
            other.status = OfferStatus.withdrawn
        other.code_live = False
    db.session.flush()


def _answer(person: Person, offer: Offer | None, now: datetime) -> OfferResult:
    if offer is None or offer.person_id != person.id:
        return OfferResult("unknown_code", "That code does not match a shift offered to you.")
    shift = offer.shift
    if offer.status == OfferStatus.accepted:
        return OfferResult("already_yours", "That shift is already yours.", shift)
    if offer.status == OfferStatus.filled or (offer.status == OfferStatus.open and not offer.is_cover
                                              and shift.booked_person_id is not None):
        return OfferResult("already_filled", "Sorry, that shift has already been filled.", shift)
    if offer.status != OfferStatus.open or shift.status == ShiftStatus.cancelled:
        return OfferResult("expired", "That offer is no longer open.", shift)
    if (offer.expires_at and offer.expires_at <= now) or shift.starts_at <= now:
        offer.status, offer.code_live = OfferStatus.expired, False
        db.session.flush()
        return OfferResult("expired", "Sorry, that offer has expired.", shift)
    return None  # type: ignore[return-value]


def accept_offer(person: Person, offer_id: int, now: datetime | None = None) -> OfferResult:
    """Accept an offer; exactly one acceptance of a shift wins."""
    return _accept(person, db.session.get(Offer, offer_id), now or utcnow())


def accept_offer_by_code(person: Person, code: str, now: datetime | None = None) -> OfferResult:
    """Accept by the short code from a text message."""
    now = now or utcnow()
    return _accept(person, _offer_by_code(person, code, now), now)


def _accept(person: Person, offer: Offer | None, now: datetime) -> OfferResult:
    early = _answer(person, offer, now)
    if early is not None:
        return early
    shift = offer.shift
    if not offer.outside_team:
        access = team_access(_worker_actor(person), shift.team, now)
        if not perm.can_take_team_shifts(access):
            return OfferResult("not_eligible", "You are no longer an active worker in that team.", shift)
    cover_from = shift.booked_person_id if offer.is_cover else None
    if offer.is_cover and cover_from is None:
        return OfferResult("already_filled", "Sorry, that shift has already been filled.", shift)
    result = _book(shift.id, person.id, now, cover_from=cover_from)
    if result.outcome == "already_filled":
        offer.status, offer.code_live, offer.answered_at = OfferStatus.filled, False, now
        db.session.flush()
    if result.outcome != "booked":
        return result
    offer.status, offer.answered_at = OfferStatus.accepted, now
    _close_other_offers(shift, offer, now)
    if cover_from is not None:
        previous = db.session.get(Person, cover_from)
        _tell(previous, shift.team, "Cover found", "cover_found", shift, first_name=person.first_name)
    return result


def _worker_actor(person: Person) -> Actor:
    return Actor(person_id=person.id)


def decline_offer(person: Person, offer_id: int, now: datetime | None = None) -> OfferResult:
    """Say no to an offer (no reason needed)."""
    return _decline(person, db.session.get(Offer, offer_id), now or utcnow())


def decline_offer_by_code(person: Person, code: str, now: datetime | None = None) -> OfferResult:
    """Say no by the short code from a text message."""
    now = now or utcnow()
    return _decline(person, _offer_by_code(person, code, now), now)


def _decline(person: Person, offer: Offer | None, now: datetime) -> OfferResult:
    early = _answer(person, offer, now)
    if early is not None:
        return early
    offer.status, offer.code_live, offer.answered_at = OfferStatus.declined, False, now
    db.session.flush()
    return OfferResult("declined", "Thanks, you said no to that shift.", offer.shift)


# ---------------------------------------------------------------- direct booking, cover, swaps, arrival


def book_directly(actor: Actor, shift_id: int, person_id: int, now: datetime | None = None) -> OfferResult:
    """Book a named team worker (e.g. a trial worker for a trial shift) without an offer."""
    now = now or utcnow()
    shift, team, access = _visible_shift(actor, shift_id)
    ensure(perm.can_edit_rota(access))
    person = db.session.get(Person, person_id)
    if person is None:
        raise ValidationError(details={"fields": {"person_id": ["No such person."]}})
    worker_access = team_access(_worker_actor(person), team, now)
    if not perm.can_be_booked(worker_access, shift.is_trial):
        raise ValidationError(details={"fields": {"person_id": ["Not an active worker in this team (a trial worker only for a trial shift)."]}})
    reasons = eligibility.worker_eligibility([person.id], shift.required_skills or [], shift.starts_at).get(person.id)
    if reasons:
        raise ValidationError(details={"fields": {"person_id": reasons}})
    result = _book(shift.id, person.id, now)
    if result.outcome == "booked":
        taken = set(db.session.scalars(sa.select(Offer.code).where(Offer.person_id == person.id, Offer.code_live)))
        offer = Offer(shift_id=shift.id, person_id=person.id, code=rules.new_code(taken), wave=0,
                      status=OfferStatus.accepted, sent_at=now, answered_at=now)
        db.session.add(offer)
        db.session.flush()
        _close_other_offers(shift, offer, now)
        _tell(person, team, "You are booked", "booked_by_team", shift, code=offer.code)
    return result


def _own_booked(person: Person, *, shift_id: int | None = None, code: str | None = None) -> Shift | None:
    if code is not None:
        offer = _live_offer(person, code)
        if offer is None or offer.status != OfferStatus.accepted:
            return None
        shift = offer.shift
    else:
        shift = db.session.get(Shift, shift_id)
    if shift is None or shift.booked_person_id != person.id or shift.status != ShiftStatus.booked:
        return None
    return shift


def request_cover(person: Person, shift_id: int, now: datetime | None = None) -> OfferResult:
    """A booked worker asks for cover: the shift is re-offered; they stay booked until someone accepts."""
    return _request_cover(person, _own_booked(person, shift_id=shift_id), now or utcnow())


def request_cover_by_code(person: Person, code: str, now: datetime | None = None) -> OfferResult:
    """Ask for cover by the shift's code."""
    return _request_cover(person, _own_booked(person, code=code), now or utcnow())


def _request_cover(person: Person, shift: Shift | None, now: datetime) -> OfferResult:
    if shift is None:
        return OfferResult("unknown_code", "That does not match a shift you are booked on.")
    if shift.starts_at <= now:
        return OfferResult("not_booked", "That shift has already started.", shift)
    if shift.cover_requested_at is None:
        shift.cover_requested_at = now
        db.session.flush()
        settings = settings_for(shift.team.cooperative_id)
        candidates = eligible_workers(shift, exclude=[person.id])
        batches = rules.waves(candidates, settings.offer_wave_size)
        wave = (db.session.scalar(sa.select(sa.func.max(Offer.wave)).where(Offer.shift_id == shift.id)) or 0) + 1
        if batches:
            _create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)
    return OfferResult("cover_requested", "We are looking for cover. You stay booked until someone accepts.", shift)


def mark_arrival(person: Person, shift_id: int, now: datetime | None = None) -> OfferResult:
    """The booked worker says they have arrived."""
    return _arrive(person, _own_booked(person, shift_id=shift_id), now or utcnow())


def mark_arrival_by_code(person: Person, code: str, now: datetime | None = None) -> OfferResult:
    """Mark arrival by the shift's code."""
    return _arrive(person, _own_booked(person, code=code), now or utcnow())


def _arrive(person: Person, shift: Shift | None, now: datetime) -> OfferResult:
    if shift is None:
        return OfferResult("unknown_code", "That does not match a shift you are booked on.")
    if now < shift.starts_at - timedelta(hours=2) or now > shift.ends_at:
        return OfferResult("not_booked", "You can mark arrival only around the time of the shift.", shift)
    if shift.arrived_at is None:
        shift.arrived_at = now
        db.session.flush()
    return OfferResult("arrived", "Thanks, your arrival is recorded.", shift)


def propose_swap(person: Person, shift_id: int, other_shift_id: int, now: datetime | None = None) -> ShiftSwap:
    """A booked worker proposes swapping their shift with a team-mate's."""
    now = now or utcnow()
    mine, theirs = db.session.get(Shift, shift_id), db.session.get(Shift, other_shift_id)
    if mine is None or mine.booked_person_id != person.id or mine.status != ShiftStatus.booked:
        raise NotFound("No such shift of yours.")
    if (theirs is None or theirs.team_id != mine.team_id or theirs.status != ShiftStatus.booked
            or theirs.booked_person_id in (None, person.id)):
        raise ValidationError(details={"fields": {"other_shift_id": ["Choose a team-mate's booked shift in the same team."]}})
    if min(mine.starts_at, theirs.starts_at) <= now:
        raise Conflict("A shift that has started cannot be swapped.", code="shift_started")
    swap = ShiftSwap(shift_id=mine.id, other_shift_id=theirs.id, requested_by_id=person.id,
                     partner_id=theirs.booked_person_id, status=SwapStatus.proposed, created_at=now)
    db.session.add(swap)
    db.session.flush()
    partner = db.session.get(Person, theirs.booked_person_id)
    _tell(partner, mine.team, "Swap proposed", "swap_proposed", None, first_name=person.first_name)
    return swap


def agree_swap(person: Person, swap_id: int, agree: bool, now: datetime | None = None) -> ShiftSwap:
    """The team-mate consents (or not) to a proposed swap."""
    now = now or utcnow()
    swap = db.session.get(ShiftSwap, swap_id)
    if swap is None or person.id not in (swap.partner_id, swap.requested_by_id):
        raise NotFound("No such swap.")
    if swap.status != SwapStatus.proposed:
        raise Conflict("That swap has already been answered.", code="swap_closed")
    if person.id == swap.requested_by_id:
        if agree:
            raise ValidationError("The other worker must agree.", code="not_yours_to_agree")
        swap.status = SwapStatus.withdrawn
    else:
        swap.status, swap.agreed_at = (SwapStatus.agreed, now) if agree else (SwapStatus.refused, None)
    db.session.flush()
    return swap


def decide_swap(actor: Actor, swap_id: int, approve: bool, now: datetime | None = None) -> ShiftSwap:
    """The leader or Rota wrangler approves an agreed swap; the bookings change places."""
    now = now or utcnow()
    swap = db.session.get(ShiftSwap, swap_id)
    if swap is None:
        raise NotFound("No such swap.")
    team, access = get_visible_team(actor, swap.shift.team_id)
    ensure(perm.can_approve_swap(access))
    if swap.status != SwapStatus.agreed:
        raise Conflict("Both workers must agree before a swap is approved.", code="swap_not_agreed")
    swap.decided_by_id, swap.decided_at = actor.person_id, now
    if not approve:
        swap.status = SwapStatus.refused
        db.session.flush()
        return swap
    a, b = _shift_for_update(swap.shift_id), _shift_for_update(swap.other_shift_id)
    if (a.booked_person_id, b.booked_person_id) != (swap.requested_by_id, swap.partner_id) or \
            ShiftStatus.booked not in (a.status,) or b.status != ShiftStatus.booked:
        raise Conflict("The shifts changed since the swap was proposed.", code="swap_stale")
    pa, pb = a.booked_person_id, b.booked_person_id
    if _clash(pb, a.starts_at, a.ends_at, exclude_id=b.id) or _clash(pa, b.starts_at, b.ends_at, exclude_id=a.id):
        raise Conflict("One of you is booked elsewhere at the other time.", code="double_booked")
    # Through a free moment so the database never sees one worker in both places.
    a.booked_person_id = None
    a.status = ShiftStatus.open
    db.session.flush()
    b.booked_person_id = pa
    db.session.flush()
    a.booked_person_id, a.status = pb, ShiftStatus.booked
    offers = {(o.shift_id, o.person_id): o for o in db.session.scalars(sa.select(Offer).where(
        Offer.shift_id.in_((a.id, b.id)), Offer.status == OfferStatus.accepted, Offer.code_live))}
    for shift_obj, old in ((a, pa), (b, pb)):
        old_offer = offers.get((shift_obj.id, old))
        if old_offer:
            old_offer.status, old_offer.code_live = OfferStatus.withdrawn, False
    db.session.flush()
    for shift_obj, new in ((a, pb), (b, pa)):
        taken = set(db.session.scalars(sa.select(Offer.code).where(Offer.person_id == new, Offer.code_live)))
        db.session.add(Offer(shift_id=shift_obj.id, person_id=new, code=rules.new_code(taken), wave=0,
                             status=OfferStatus.accepted, sent_at=now, answered_at=now))
        db.session.flush()
    swap.status = SwapStatus.approved
    db.session.flush()
    return swap


# ---------------------------------------------------------------- reading


@dataclass
class RotaWeek:
    team: Team
    week_start: date
    days: list[date]
    shifts: list[ShiftView]
    hours: dict[int, tuple[str, float, float]]  # person_id -> (name, this week, 17-week average)

    @property
    def previous_week(self) -> date:
        return self.week_start - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.week_start + timedelta(days=7)


def week_rota(actor: Actor, team_id: int, day: date | None = None) -> RotaWeek:
    """A team's shifts for the week holding `day` (default: today in the team's zone), with
    warnings: a fixed number of queries whatever the team's size."""
    team, access = _team_with_access(actor, team_id)
    ensure(perm.can_view_rota(access))
    zone = team.zone
    day = day or utcnow().astimezone(ZoneInfo(zone)).date()
    week_start_utc, week_end_utc = rules.week_bounds(day, zone)
    shifts = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.booked_person))
        .where(Shift.team_id == team.id, Shift.starts_at < week_end_utc, Shift.ends_at > week_start_utc)
        .order_by(Shift.starts_at, Shift.id)).all()
    settings = settings_for(team.cooperative_id)
    workers = {s.booked_person_id for s in shifts if s.booked_person_id}
    visits = _visits_of(workers, week_start_utc - timedelta(weeks=rules.REFERENCE_WEEKS + 1), week_end_utc + timedelta(days=2))
    opted = eligibility.weekly_hours_opt_outs(workers)
    views, hours = [], {}
    week = (week_start_utc, week_end_utc)
    common = dict(team_minimum_minutes=team.effective_min_visit_minutes,
                  allow_short_personal_care=settings.allow_short_personal_care,
                  blocking_checks=settings.blocking_checks or [])
    for s in shifts:
        visit = _visit(s, team)
        if s.booked_person_id and s.status in (ShiftStatus.booked, ShiftStatus.completed):
            others = [v for sid, v in visits.get(s.booked_person_id, []) if sid != s.id]
            found = rules.check_visit(visit, others, week=week, opted_out=opted[s.booked_person_id],
                                      speed_kmh=settings.travel_speed_kmh, **common)
        elif s.status == ShiftStatus.cancelled:
            found = []
        else:
            found = rules.check_shape(visit, **common)
        views.append(ShiftView(s, zone, found, team_name=team.display_name))
    for pid in workers:
        all_visits = [v for _, v in visits.get(pid, [])]
        _, average, this_week = rules.check_weekly_hours(rules.Visit(week_start_utc, week_start_utc), all_visits, week, True)
        name = next(s.booked_person.name for s in shifts if s.booked_person_id == pid)
        hours[pid] = (name, round(this_week, 2), round(average, 2))
    monday = day - timedelta(days=day.weekday())
    return RotaWeek(team, monday, [monday + timedelta(days=i) for i in range(7)], views, hours)


def my_shifts(person: Person, now: datetime | None = None, limit: int = 50) -> list[ShiftView]:
    """The person's upcoming booked shifts, in every team, with their codes."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Shift, Offer.code).options(selectinload(Shift.team))
        .outerjoin(Offer, (Offer.shift_id == Shift.id) & (Offer.person_id == person.id)
                   & (Offer.status == OfferStatus.accepted) & Offer.code_live)
        .where(Shift.booked_person_id == person.id, Shift.status == ShiftStatus.booked, Shift.ends_at > now)
        .order_by(Shift.starts_at).limit(limit)).all()
    return [ShiftView(s, s.team.zone, code=code, team_name=s.team.display_name) for s, code in rows]


def next_shifts(person: Person, n: int = 5, now: datetime | None = None) -> list[ShiftView]:
    """The next `n` booked shifts (for the SMS 'list my shifts' command)."""
    return my_shifts(person, now, limit=n)


def my_offers(person: Person, now: datetime | None = None) -> list[tuple[Offer, ShiftView]]:
    """The person's open offers that can still be accepted."""
    now = now or utcnow()
    offers = db.session.scalars(
        sa.select(Offer).join(Shift, Shift.id == Offer.shift_id)
        .where(Offer.person_id == person.id, Offer.status == OfferStatus.open, Offer.code_live,
               Shift.starts_at > now, sa.or_(Offer.expires_at.is_(None), Offer.expires_at > now))
        .order_by(Shift.starts_at)).all()
    teams = {t.id: t for t in db.session.scalars(sa.select(Team).where(Team.id.in_({o.shift.team_id for o in offers})))}
    out = []
    for o in offers:
        team = teams[o.shift.team_id]
        out.append((o, ShiftView(o.shift, team.zone, findings_for(o.shift, team, person.id), code=o.code,
                                 team_name=team.display_name)))
    return out


def get_own_offer(person: Person, offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.person_id != person.id:
        raise NotFound("No such offer.")
    return offer


# ---------------------------------------------------------------- notifications


def _tell(person: Person, team: Team, subject: str, template: str, shift: Shift | None, *,
          dedupe_key: str | None = None, **values: str) -> str:
    """One notice from the rota, built from an SMS template (first names, team names,
    times and codes only), through the SMS domain: a text for people who take texts,
    otherwise the website and email; nothing is texted to someone who said STOP."""
    if shift is not None:
        values.setdefault("when", when_text(shift, team.zone))
    if "{team}" in sms_rules.TEMPLATES[template]:
        values.setdefault("team", sms_rules.team_label(team.display_name))
    body = sms_rules.render(template, **values)
    return sms_services.notify_person(person, body, f"rota.{template}", dedupe_key,
                                      cooperative=team.cooperative, subject=subject)


def circle_of(team: Team, now: datetime) -> list[Person]:
    """The leader and everyone wearing a hat in force."""
    hats = db.session.scalars(sa.select(Hat).where(Hat.team_id == team.id, Hat.status == HatStatus.accepted)).all()
    ids = {team.leader_id} | {h.person_id for h in hats if h.in_force(now)}
    return list(db.session.scalars(sa.select(Person).where(Person.id.in_(ids), Person.active)))


def facilitators_of(cooperative_id: int) -> list[Person]:
    return list(db.session.scalars(sa.select(Person).join(StaffRole, StaffRole.person_id == Person.id).where(
        StaffRole.cooperative_id == cooperative_id, StaffRole.role == StaffRoleName.facilitator, Person.active)))


# ---------------------------------------------------------------- clock jobs


def materialise_all(now: datetime) -> int:
    """Every recurring visit's occurrences up to the horizon (idempotent)."""
    added = 0
    for series in db.session.scalars(sa.select(ShiftSeries)).all():
        last = series.ends_on
        if last is not None and last < now.date() - timedelta(days=1):
            continue
        added += materialise_series(series, now)
    return added


def expire_and_escalate(now: datetime) -> dict[str, int]:
    """Expire unanswered offers; then the next wave, then the circle, then facilitators."""
    counts = {"expired": 0, "waves": 0, "circle": 0, "facilitators": 0}
    for offer in db.session.scalars(sa.select(Offer).where(Offer.status == OfferStatus.open,
                                                           Offer.expires_at <= now)).all():
        offer.status, offer.code_live = OfferStatus.expired, False
        counts["expired"] += 1
    db.session.flush()
    open_offer = sa.select(Offer.id).where(Offer.shift_id == Shift.id, Offer.status == OfferStatus.open).exists()
    needing = db.session.scalars(sa.select(Shift).where(
        Shift.starts_at > now, ~open_offer,
        sa.or_(Shift.status == ShiftStatus.offered,
               (Shift.status == ShiftStatus.booked) & Shift.cover_requested_at.is_not(None)))).all()
    for shift in needing:
        team = shift.team
        settings = settings_for(team.cooperative_id)
        if shift.escalation_level == 0:
            candidates = eligible_workers(shift, exclude=_offered_to(shift.id))
            batches = rules.waves(candidates, settings.offer_wave_size)
            if batches:
                wave = (db.session.scalar(sa.select(sa.func.max(Offer.wave)).where(Offer.shift_id == shift.id)) or 0) + 1
                _create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)
                counts["waves"] += 1
                continue
            # The last offer names this round of asking, so a later round can escalate again.
            last_offer = db.session.scalar(sa.select(sa.func.max(Offer.id)).where(Offer.shift_id == shift.id)) or 0
            for person in circle_of(team, now):
                _tell(person, team, "Shift not filled", "not_filled_circle", shift,
                      dedupe_key=f"rota.escalation:{shift.id}:1:{last_offer}:{person.id}")
            shift.escalation_level, shift.escalated_at = 1, now
            counts["circle"] += 1
        elif shift.escalation_level == 1 and shift.escalated_at + timedelta(minutes=settings.offer_ttl_minutes) <= now:
            for person in facilitators_of(team.cooperative_id):
                _tell(person, team, "Shift not filled", "not_filled_facilitators", shift,
                      dedupe_key=f"rota.escalation:{shift.id}:2:{shift.escalated_at:%Y%m%dT%H%M%S}:{person.id}")
            shift.escalation_level, shift.escalated_at = 2, now
            counts["facilitators"] += 1
    db.session.flush()
    return counts


def complete_ended(now: datetime) -> int:
    """Booked shifts that have ended become completed; their codes are freed."""
    ended = db.session.scalars(sa.select(Shift).where(Shift.status == ShiftStatus.booked, Shift.ends_at <= now)).all()
    for shift in ended:
        shift.status = ShiftStatus.completed
    db.session.flush()
    db.session.execute(
        sa.update(Offer).where(Offer.code_live, Offer.shift_id.in_(
            sa.select(Shift.id).where(sa.or_(Shift.status.in_((ShiftStatus.completed, ShiftStatus.cancelled)),
                                             Shift.ends_at <= now))))
        .values(code_live=False).execution_options(synchronize_session=False))
    db.session.flush()
    return len(ended)


def alert_missed_visits(now: datetime) -> int:
    """Nobody has arrived some minutes after a visit's start: tell the circle and facilitators."""
    candidates = db.session.scalars(sa.select(Shift).where(
        Shift.status == ShiftStatus.booked, Shift.arrived_at.is_(None), Shift.missed_alert_at.is_(None),
        Shift.starts_at <= now, Shift.starts_at > now - timedelta(hours=12))).all()
    sent = 0
    for shift in candidates:
        team = shift.team
        minutes = settings_for(team.cooperative_id).missed_visit_minutes
        if shift.starts_at + timedelta(minutes=minutes) > now:
            continue
        shift.missed_alert_at = now
        people = {p.id: p for p in circle_of(team, now) + facilitators_of(team.cooperative_id)}
        for person in people.values():
            _tell(person, team, "Visit may be missed", "missed_visit", shift,
                  dedupe_key=f"rota.missed:{shift.id}:{person.id}")
        sent += 1
    db.session.flush()
    return sent


def reminder_label(offset: timedelta) -> str:
    """'24h', '2h' or '90m': names an offset in a reminder's dedupe key."""
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def send_reminders(now: datetime, offsets: Sequence[timedelta]) -> int:
    """Remind each booked worker before their shift, once per offset (e.g. 24 h and 2 h).

    Only the latest reminder point already passed is sent (a clock that was down does
    not send a stale 24-hour reminder two hours before), and not to a worker booked
    after that point (they were just told). Cancelled, completed and re-booked shifts
    get nothing. The dedupe key `reminder:<shift>:<offset>:<person>` makes a re-run or
    a second clock harmless.
    """
    offsets = sorted({o for o in offsets if o > timedelta(0)})
    if not offsets:
        return 0
    shifts = db.session.scalars(
        sa.select(Shift).options(selectinload(Shift.team), selectinload(Shift.booked_person))
        .where(Shift.status == ShiftStatus.booked, Shift.booked_person_id.is_not(None),
               Shift.starts_at > now, Shift.starts_at <= now + offsets[-1])
        .order_by(Shift.starts_at, Shift.id)).all()
    if not shifts:
        return 0
    codes = dict(((o.shift_id, o.person_id), o.code) for o in db.session.scalars(sa.select(Offer).where(
        Offer.shift_id.in_([s.id for s in shifts]), Offer.status == OfferStatus.accepted, Offer.code_live)))
    sent = 0
    for shift in shifts:
        offset = next(o for o in offsets if shift.starts_at - o <= now)
        if shift.booked_at is not None and shift.booked_at > shift.starts_at - offset:
            continue
        person = shift.booked_person
        if person is None or not person.active:
            continue
        code = codes.get((shift.id, person.id))
        extra = {"code": code} if code else {}
        channel = _tell(person, shift.team, "Shift reminder", "reminder" if code else "reminder_plain", shift,
                        dedupe_key=f"reminder:{shift.id}:{reminder_label(offset)}:{person.id}", **extra)
        sent += channel != "none"
    db.session.flush()
    return sent


# ---------------------------------------------------------------- ending consent


def return_shifts_of_leaver(member: TeamMember, now: datetime | None = None) -> int:
    """A worker left a team: their future shifts there return to open and are re-offered."""
    now = now or utcnow()
    for offer in db.session.scalars(sa.select(Offer).join(Shift, Shift.id == Offer.shift_id).where(
            Offer.person_id == member.person_id, Offer.status == OfferStatus.open, Shift.team_id == member.team_id)):
        offer.status, offer.code_live = OfferStatus.withdrawn, False
    shifts = db.session.scalars(sa.select(Shift).where(
        Shift.team_id == member.team_id, Shift.booked_person_id == member.person_id,
        Shift.status == ShiftStatus.booked, Shift.starts_at > now)).all()
    for shift in shifts:
        _unbook(shift, "You have left the team, so")
        settings = settings_for(shift.team.cooperative_id)
        candidates = eligible_workers(shift, exclude=[member.person_id])
        batches = rules.waves(candidates, settings.offer_wave_size)
        if batches:
            wave = (db.session.scalar(sa.select(sa.func.max(Offer.wave)).where(Offer.shift_id == shift.id)) or 0) + 1
            _create_offers(shift, batches[0], wave, settings.offer_ttl_minutes, now)
    db.session.flush()
    return len(shifts)


# ---------------------------------------------------------------- calendar feeds


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(actor: Actor, team_id: int | None = None) -> tuple[CalendarFeed, str]:
    """A private calendar URL token: your booked shifts, or (circle) a team's rota. Shown once."""
    if team_id is not None:
        _, access = _team_with_access(actor, team_id)
        ensure(perm.can_have_team_feed(access))
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(person_id=actor.person_id, team_id=team_id, token_hash=_digest(token))
    db.session.add(feed)
    db.session.flush()
    return feed, token


def revoke_feed(person: Person, feed_id: int, now: datetime | None = None) -> None:
    """Stop a calendar URL working."""
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is None or feed.person_id != person.id:
        raise NotFound("No such calendar feed.")
    feed.revoked_at = feed.revoked_at or now or utcnow()
    db.session.flush()


def feed_events(token: str, now: datetime | None = None) -> tuple[str, list[ShiftView]]:
    """The feed's name and its shifts (from four weeks ago); 404 for a revoked or unknown
    token, or a circle member who has since lost their place."""
    now = now or utcnow()
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token),
                                                           CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        raise NotFound("No such calendar.")
    since = now - timedelta(weeks=4)
    person = db.session.get(Person, feed.person_id)
    if person is None or not person.active:
        raise NotFound("No such calendar.")
    if feed.team_id is None:
        shifts = db.session.scalars(sa.select(Shift).options(selectinload(Shift.team)).where(
            Shift.booked_person_id == person.id, Shift.status.in_((ShiftStatus.booked, ShiftStatus.completed)),
            Shift.ends_at > since).order_by(Shift.starts_at)).all()
        return "My shifts", [ShiftView(s, s.team.zone, team_name=s.team.display_name) for s in shifts]
    team = db.session.get(Team, feed.team_id)
    from careteams.members.services import actor_for

    if team is None or not perm.can_have_team_feed(team_access(actor_for(person), team, now)):
        raise NotFound("No such calendar.")
    shifts = db.session.scalars(sa.select(Shift).options(selectinload(Shift.booked_person)).where(
        Shift.team_id == team.id, Shift.status != ShiftStatus.cancelled, Shift.ends_at > since)
        .order_by(Shift.starts_at)).all()
    return f"{team.display_name}'s rota", [ShiftView(s, team.zone, team_name=team.display_name) for s in shifts]
