"""The facilitators' day: one page of what needs the co-op's facilitators today,
across all the co-op's teams (issue 18).

`day_for(actor, coop)` gathers the lines in sections: visits in the next 7 days
with nobody booked, visits escalated to facilitators, cover asked, missed visits,
matches waiting for review, stalled introductions, "not working" check-ins,
disputed hours, checks expiring in 30 days, and teams whose vacancy has stayed
open for N weeks (config DAY_VACANCY_OPEN_WEEKS). Each line says what it is in
plain words and links to the page that resolves it.

Like the home page (careteams/web/home.py) it sits above the domains and reads
their models: each section is one query over the whole co-op (related rows
joined in), so the page costs the same for one team as for fifty. The pages
behind the links check permissions again through each domain's predicates.
No health details: a line names the team and the time, never what the visit is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import contains_eager, joinedload

from careteams.db import utcnow
from careteams.errors import ensure
from careteams.extensions import db
from careteams.hours.enums import TimesheetStatus
from careteams.hours.models import TimesheetEntry
from careteams.matching import permissions as matching_perm
from careteams.matching import rules as matching_rules
from careteams.matching.enums import MatchState, VacancyStatus
from careteams.matching.models import Match, ReviewPrompt, Vacancy, WorkerCheck, WorkerProfile
from careteams.matching.services.checks import current_check
from careteams.matching.services.settings import matching_settings
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor
from careteams.rota.enums import ShiftStatus
from careteams.rota.models import Shift
from careteams.teams.models import Team
from careteams.web.grammar import count_of

UPCOMING_DAYS = 7
MISSED_LOOKBACK_DAYS = 7
CHECKS_WITHIN_DAYS = 30
CHECK_KIND_WORDS = {"enhanced_dbs": "enhanced DBS check", "right_to_work": "right to work check",
                    "training": "training"}


@dataclass(frozen=True)
class DayLine:
    words: str
    url: str | None  # None: the page behind it does not open for this person (an admin, not a facilitator)
    link_text: str
    when: datetime | date | None = None


@dataclass
class DaySection:
    key: str  # the section's id on the page
    title: str
    empty: str
    lines: list[DayLine] = field(default_factory=list)


def _local(moment: datetime, zone: str) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(ZoneInfo(zone))


def _when(moment: datetime, zone: str) -> str:
    """"Fri 4 Dec at 09:00" on the team's clock."""
    local = _local(moment, zone)
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b} {value.year}"


def _team_zone(team: Team, coop: Cooperative) -> str:
    return team.timezone or coop.timezone


def _visit_url(shift: Shift) -> str:
    return url_for("rota.team_visit", team_id=shift.team_id, shift_id=shift.id)


def upcoming_need_parts(now: datetime) -> tuple:
    """`upcoming_need`, as three parts (their OR is the same rows). Each part states the
    predicate of a partial index on shift (careteams/rota/models.py, migration 0026), so the
    day page reads, team by team of the co-op, only the rows it lists: the federation's other
    visits are never scanned (README, "Federation scale")."""
    unbooked = Shift.status.in_((ShiftStatus.open, ShiftStatus.offered))
    later = Shift.starts_at > now
    return (unbooked & later & (Shift.starts_at < now + timedelta(days=UPCOMING_DAYS)),  # ix_shift_team_unbooked
            unbooked & later & (Shift.escalation_level >= 2),  # ix_shift_team_attention
            (Shift.status == ShiftStatus.booked) & later & Shift.cover_requested_at.is_not(None))  # the same


def upcoming_need(now: datetime):
    """Upcoming visits that need someone: nobody booked within a week, cover asked, or escalated."""
    return sa.or_(*upcoming_need_parts(now))


def missed_visit(now: datetime):
    """Booked visits the clock flagged as missed (no arrival), in the last week (ix_shift_team_attention)."""
    return ((Shift.status == ShiftStatus.booked) & Shift.missed_alert_at.is_not(None) & Shift.arrived_at.is_(None)
            & (Shift.starts_at >= now - timedelta(days=MISSED_LOOKBACK_DAYS)))


def _shifts(coop: Cooperative, *parts) -> list[Shift]:
    """The co-op's visits where any of `parts` holds, in one statement. Several parts are
    a UNION ALL of ids (each part planned on its own index) rather than one OR, which the
    planner would answer from the federation-wide status and time indexes. The team's
    leader is not needed here: not joined (it would hash every person of the federation)."""
    in_coop = Team.cooperative_id == coop.id
    if len(parts) == 1:
        where = parts[0]
    else:
        where = Shift.id.in_(sa.union_all(*(sa.select(Shift.id).join(Team, Team.id == Shift.team_id)
                                            .where(in_coop, part) for part in parts)))
    return db.session.scalars(
        sa.select(Shift).join(Team, Team.id == Shift.team_id).where(in_coop, where)
        .options(contains_eager(Shift.team).lazyload(Team.leader), joinedload(Shift.booked_person))
        .order_by(Shift.starts_at, Shift.id)).unique().all()


def _matches(coop: Cooperative, now: datetime) -> tuple[list[Match], list[Match], list[Match]]:
    """Matches waiting for review, introductions with no outcome, and 'not working' check-ins."""
    stale_before = now - timedelta(days=matching_settings(coop.id).introduction_stale_days)
    not_working = matching_rules.CheckInAnswer.not_working.value
    troubled = sa.exists().where(ReviewPrompt.match_id == Match.id, sa.or_(
        ReviewPrompt.team_answer == not_working, ReviewPrompt.worker_answer == not_working))
    rows = db.session.execute(
        sa.select(Match, troubled.label("troubled")).where(Match.cooperative_id == coop.id, sa.or_(
            Match.state == MatchState.review,
            (Match.state == MatchState.introduction) & (Match.approved_at <= stale_before),
            Match.state.in_(matching_rules.OPEN_STATES | {MatchState.active}) & troubled))
        .options(joinedload(Match.vacancy).joinedload(Vacancy.team).lazyload(Team.leader), joinedload(Match.worker))
        .order_by(Match.id)).unique().all()
    review = [m for m, _ in rows if m.state == MatchState.review]
    stalled = [m for m, _ in rows if m.state == MatchState.introduction and m.approved_at
               and m.approved_at.replace(tzinfo=None) <= stale_before.replace(tzinfo=None)]
    not_working_matches = [m for m, bad in rows if bad]
    return review, stalled, not_working_matches


def _disputes(coop: Cooperative) -> list[TimesheetEntry]:
    return db.session.scalars(
        sa.select(TimesheetEntry).join(Team, Team.id == TimesheetEntry.team_id)
        .where(Team.cooperative_id == coop.id, TimesheetEntry.status == TimesheetStatus.disputed)
        .options(contains_eager(TimesheetEntry.team).lazyload(Team.leader))
        .order_by(TimesheetEntry.disputed_at, TimesheetEntry.id)).unique().all()


def _checks(coop: Cooperative, today: date) -> list[tuple[WorkerCheck, Person]]:
    until = today + timedelta(days=CHECKS_WITHIN_DAYS)
    return db.session.execute(
        sa.select(WorkerCheck, Person).join(WorkerProfile, WorkerProfile.id == WorkerCheck.worker_profile_id)
        .join(Person, Person.id == WorkerProfile.person_id)
        .where(WorkerProfile.cooperative_id == coop.id, WorkerCheck.expires_on.is_not(None),
               WorkerCheck.expires_on <= until, current_check())
        .order_by(WorkerCheck.expires_on, WorkerCheck.id)).all()


def _old_vacancies(coop: Cooperative, now: datetime, weeks: int) -> list[Vacancy]:
    return db.session.scalars(
        sa.select(Vacancy).where(Vacancy.cooperative_id == coop.id, Vacancy.status == VacancyStatus.open,
                                 Vacancy.created_at <= now - timedelta(weeks=weeks))
        .order_by(Vacancy.created_at, Vacancy.id)).unique().all()


def _match_words(match: Match, what: str) -> str:
    return f"{match.worker.name} and {match.vacancy.team.display_name}'s team: {what}"


def day_for(actor: Actor, coop: Cooperative, now: datetime | None = None) -> list[DaySection]:
    """What needs the co-op's facilitators today, section by section (facilitators and admins only)."""
    ensure(matching_perm.can_view_day(actor, coop.id))
    now = now or utcnow()
    today = _local(now, coop.timezone).date()
    weeks = int(current_app.config.get("DAY_VACANCY_OPEN_WEEKS", 6))

    unbooked = DaySection("unbooked", "Visits in the next 7 days with nobody booked", "Every visit is booked.")
    escalated = DaySection("escalated", "Visits the rota could not fill: passed to facilitators", "None.")
    cover = DaySection("cover", "Cover asked", "Nobody has asked for cover.")
    for shift in _shifts(coop, *upcoming_need_parts(now)):
        zone = _team_zone(shift.team, coop)
        visit = f"{shift.team.display_name}'s team, visit on {_when(shift.starts_at, zone)}"
        if shift.status == ShiftStatus.booked:
            who = shift.booked_person.name if shift.booked_person else "The worker"
            cover.lines.append(DayLine(f"{visit}: {who} asked for cover.", _visit_url(shift), "Open the visit",
                                       shift.starts_at))
        elif shift.escalation_level >= 2:
            escalated.lines.append(DayLine(f"{visit}: nobody took it, and the circle could not fill it.",
                                           _visit_url(shift), "Open the visit to offer it to the co-op's workers",
                                           shift.starts_at))
        else:
            unbooked.lines.append(DayLine(f"{visit}: nobody is booked yet.", _visit_url(shift), "Open the visit",
                                          shift.starts_at))

    missed = DaySection("missed", "Missed visits", "No missed visits this week.")
    for shift in _shifts(coop, missed_visit(now)):
        who = shift.booked_person.name if shift.booked_person else "the worker"
        missed.lines.append(DayLine(
            f"{shift.team.display_name}'s team, visit on {_when(shift.starts_at, _team_zone(shift.team, coop))}: "
            f"{who} was not recorded as arriving.", _visit_url(shift), "Open the visit", shift.starts_at))

    review_matches, stalled_matches, troubled_matches = _matches(coop, now)
    review = DaySection("review", "Matches waiting for review", "Nothing is waiting for review.",
                        [DayLine(_match_words(m, "both said yes; waiting for review."),
                                 url_for("matching.match_page", match_id=m.id), "Review the match")
                         for m in review_matches])
    stalled = DaySection("stalled", "Introductions with no outcome yet", "No introduction is overdue.",
                         [DayLine(_match_words(m, "introduction arranged, no trial started yet."),
                                  url_for("matching.match_page", match_id=m.id), "Open the match")
                          for m in stalled_matches])
    troubled = DaySection("not-working", "Check-ins that say it is not working", "None.",
                          [DayLine(_match_words(m, "a check-in says it is not working."),
                                   url_for("matching.match_page", match_id=m.id), "Open the match")
                           for m in troubled_matches])

    disputes = DaySection("disputes", "Disputed hours", "No hours are in dispute.")
    for entry in _disputes(coop):
        disputes.lines.append(DayLine(
            f"{entry.person.name}'s hours for {_when(entry.started_at, coop.timezone)} in "
            f"{entry.team.display_name}'s team are disputed.",
            url_for("hours.entry_page", entry_id=entry.id), "Settle the dispute", entry.disputed_at))

    checks = DaySection("checks", f"Checks expiring in the next {CHECKS_WITHIN_DAYS} days", "None.")
    for check, person in _checks(coop, today):
        what = check.name or CHECK_KIND_WORDS.get(check.kind.value, check.kind.value.replace("_", " "))
        tense = "expired on" if check.expires_on <= today else "expires on"
        checks.lines.append(DayLine(f"{person.name}'s {what} {tense} {_day(check.expires_on)}.",
                                    url_for("matching.worker_checks_page", slug=coop.slug, person_id=person.id),
                                    f"Record {person.name}'s renewed check",
                                    check.expires_on))

    vacancies = DaySection("vacancies", f"Teams with a vacancy open for {count_of(weeks, 'week')} or more", "None.")
    for vacancy in _old_vacancies(coop, now, weeks):
        days = (now.replace(tzinfo=None) - vacancy.created_at.replace(tzinfo=None)).days
        vacancies.lines.append(DayLine(
            f"{vacancy.team.display_name}'s team has had a vacancy open for {count_of(days // 7, 'week')}.",
            url_for("matching.vacancy_page", vacancy_id=vacancy.id), "See the vacancy and suggestions",
            vacancy.created_at))

    sections = [unbooked, escalated, cover, missed, review, stalled, troubled, disputes, checks, vacancies]
    if not matching_perm.can_view_queue(actor, coop.id):
        # An admin who is not a facilitator sees the day, but the pages that resolve
        # most lines (visits, matches, hours) open only for facilitators: no dead links.
        # Worker checks are the admins' too (matching.permissions.can_record_checks).
        for part in sections:
            if part is checks and matching_perm.can_record_checks(actor, coop.id):
                continue
            part.lines = [replace(line, url=None) for line in part.lines]
    return sections
