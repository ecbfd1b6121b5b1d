"""The facilitators' view: the queue of what needs them, the fairness report and the figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import (
    EqualityData,
    Match,
    MatchState,
    ReviewPrompt,
    Side,
    Suggestion,
    Vacancy,
    VacancyStatus,
    WorkerCheck,
    WorkerProfile,
)
from careteams.matching.services.checks import current_check
from careteams.matching.services.common import iso, local_today
from careteams.matching.services.match_summaries import match_view
from careteams.matching.services.settings import matching_settings
from careteams.matching.services.suggestions import rank_candidates
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor


def facilitator_queue(actor: Actor, coop: Cooperative, now: datetime | None = None) -> dict:
    """What needs a facilitator: reviews, stalled introductions, vacancies nobody fits, expiring checks."""
    ensure(perm.can_view_queue(actor, coop.id))
    now = now or utcnow()
    settings = matching_settings(coop.id)
    # A held match is listed once, under "held" (with its note), not again under what it is waiting for.
    not_held = Match.held.is_not(True)
    in_review = db.session.scalars(sa.select(Match).where(Match.cooperative_id == coop.id, not_held,
                                                          Match.state == MatchState.review).order_by(Match.mutual_at)).all()
    stale_before = now - timedelta(days=settings.introduction_stale_days)
    stalled = db.session.scalars(sa.select(Match).where(
        Match.cooperative_id == coop.id, Match.state == MatchState.introduction, not_held,
        Match.approved_at <= stale_before).order_by(Match.approved_at)).all()
    held = db.session.scalars(sa.select(Match).where(Match.cooperative_id == coop.id, Match.held.is_(True),
                                                     Match.state.in_(rules.OPEN_STATES)).order_by(Match.id)).all()
    not_working = rules.CheckInAnswer.not_working.value
    troubled = db.session.scalars(sa.select(Match).where(
        Match.cooperative_id == coop.id, Match.state.in_(rules.OPEN_STATES | {MatchState.active}), not_held,
        sa.exists().where(ReviewPrompt.match_id == Match.id,
                          sa.or_(ReviewPrompt.team_answer == not_working, ReviewPrompt.worker_answer == not_working)))
        .order_by(Match.id)).all()
    open_vacancies = db.session.scalars(sa.select(Vacancy).where(
        Vacancy.cooperative_id == coop.id, Vacancy.status == VacancyStatus.open,
        ~sa.exists().where(Match.vacancy_id == Vacancy.id, Match.state.in_(rules.OPEN_STATES)))).all()
    lonely = [v for v in open_vacancies if not rank_candidates(v, now, limit=1)]
    today = local_today(now, coop.id)
    until = today + timedelta(days=settings.check_warning_days)
    expiring = db.session.execute(
        sa.select(WorkerCheck, Person).join(WorkerProfile, WorkerProfile.id == WorkerCheck.worker_profile_id)
        .join(Person, Person.id == WorkerProfile.person_id)
        .where(WorkerProfile.cooperative_id == coop.id, WorkerCheck.expires_on.is_not(None), WorkerCheck.expires_on <= until,
               current_check())  # a renewed check is history, not a problem
        .order_by(WorkerCheck.expires_on)).all()
    sides = frozenset({Side.facilitator})
    return {
        "in_review": [match_view(m, sides, actor=actor) for m in in_review],
        "stalled_introductions": [match_view(m, sides, actor=actor) for m in stalled],
        "held": [match_view(m, sides, actor=actor) for m in held],
        "check_ins_not_working": [match_view(m, sides, actor=actor) for m in troubled],
        "vacancies_without_candidates": [{"id": v.id, "team_id": v.team_id, "district": v.district,
                                          "created_at": iso(v.created_at)} for v in lonely],
        "expiring_checks": [{"person_id": p.id, "name": p.name, "kind": c.kind.value, "item": c.name,
                             "expires_on": iso(c.expires_on), "expired": c.expires_on <= today} for c, p in expiring],
    }


EQUALITY_DIMENSIONS = ("ethnicity", "gender", "age_band", "disability")
NOT_STATED = "not stated"


def fairness_report(actor: Actor, coop: Cooperative) -> dict:
    """Suggestion, yes, no and join counts by group; small cells suppressed, nobody named."""
    ensure(perm.can_view_fairness(actor, coop.id))
    equality = {row.person_id: row for row in db.session.scalars(
        sa.select(EqualityData).where(EqualityData.cooperative_id == coop.id))}
    per_person: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(rules.FAIRNESS_MEASURES, 0))
    for person_id, n in db.session.execute(
            sa.select(Suggestion.person_id, sa.func.count()).join(Vacancy, Vacancy.id == Suggestion.vacancy_id)
            .where(Vacancy.cooperative_id == coop.id).group_by(Suggestion.person_id)):
        per_person[person_id]["suggested"] = n
    yes = sa.func.sum(sa.case((Match.team_said_yes.is_(True), 1), else_=0))
    no = sa.func.sum(sa.case((Match.team_said_yes.is_(False), 1), else_=0))
    joined = sa.func.sum(sa.case((Match.joined_at.is_not(None), 1), else_=0))
    for person_id, y, n, j in db.session.execute(
            sa.select(Match.worker_id, yes, no, joined).where(Match.cooperative_id == coop.id).group_by(Match.worker_id)):
        per_person[person_id].update(team_yes=int(y or 0), team_no=int(n or 0), joined=int(j or 0))
    report = {}
    for dimension in EQUALITY_DIMENSIONS:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(rules.FAIRNESS_MEASURES, 0))
        for person_id, measures in per_person.items():
            row = equality.get(person_id)
            group = (getattr(row, dimension) if row else None) or NOT_STATED
            for key, value in measures.items():
                counts[group][key] += value
        report[dimension] = rules.fairness_rows(counts)
    return {"threshold": rules.SMALL_CELL, "dimensions": report}


def matching_figures(actor: Actor, coop: Cooperative) -> dict:
    """Matching success (share of mutual matches that became active) and median days vacancy to join."""
    ensure(perm.can_view_fairness(actor, coop.id))
    decided = db.session.execute(sa.select(Match.state, sa.func.count()).where(
        Match.cooperative_id == coop.id, Match.mutual_at.is_not(None),
        Match.state.in_([MatchState.active, MatchState.withdrawn])).group_by(Match.state)).all()
    counts = {state: n for state, n in decided}
    joins = db.session.execute(sa.select(Vacancy.created_at, Match.joined_at).join(Vacancy, Vacancy.id == Match.vacancy_id)
                               .where(Match.cooperative_id == coop.id, Match.joined_at.is_not(None))).all()
    return _matching_summary(counts.get(MatchState.active, 0), sum(counts.values()),
                             [(joined - created).total_seconds() / 86400 for created, joined in joins])


def _matching_summary(active: int, mutual: int, days: list[float]) -> dict:
    return {"mutual_matches_decided": mutual, "became_active": active,
            "success_percent": rules.success_share(mutual, active),
            "median_days_vacancy_to_join": rules.median_days(days), "joins": len(days)}


def matching_figures_by_month(actor: Actor, coop: Cooperative, months: Sequence[date]) -> tuple[list[dict], dict]:
    """`matching_figures` per month (the 1sts in `months`, on the co-op's clock) and over them all.

    A mutual match counts in the month it was decided (closed: it became active, or was
    withdrawn); a join counts in the month the worker joined. Two queries whatever the range."""
    ensure(perm.can_view_fairness(actor, coop.id))
    if not months:
        return [], _matching_summary(0, 0, [])
    zone = ZoneInfo(coop.timezone)
    lo, hi = _local_month_start(months[0], zone), _local_month_start(_next_month(months[-1]), zone)

    def month_of(moment: datetime) -> date:
        local = moment.astimezone(zone)
        return date(local.year, local.month, 1)

    decided = db.session.execute(sa.select(Match.state, Match.closed_at).where(
        Match.cooperative_id == coop.id, Match.mutual_at.is_not(None),
        Match.state.in_([MatchState.active, MatchState.withdrawn]),
        Match.closed_at >= lo, Match.closed_at < hi)).all()
    joins = db.session.execute(sa.select(Vacancy.created_at, Match.joined_at).join(Vacancy, Vacancy.id == Match.vacancy_id)
                               .where(Match.cooperative_id == coop.id, Match.joined_at >= lo,
                                      Match.joined_at < hi)).all()
    active: dict[date, int] = defaultdict(int)
    mutual: dict[date, int] = defaultdict(int)
    for state, closed_at in decided:
        mutual[month_of(closed_at)] += 1
        active[month_of(closed_at)] += state == MatchState.active
    days: dict[date, list[float]] = defaultdict(list)
    for created, joined in joins:
        days[month_of(joined)].append((joined - created).total_seconds() / 86400)
    rows = [{"month": m.isoformat()[:7], **_matching_summary(active[m], mutual[m], days[m])} for m in months]
    return rows, _matching_summary(sum(active.values()), sum(mutual.values()), [d for v in days.values() for d in v])


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _local_month_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=zone).astimezone(UTC)
