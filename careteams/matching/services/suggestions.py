"""Suggestions both ways: ranked, explained candidates for a vacancy and vacancies for a worker."""

from __future__ import annotations

import heapq
import json
from collections import defaultdict
from datetime import date, datetime

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.errors import Conflict, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import (
    AvailabilityWindow,
    CheckKind,
    Match,
    Skill,
    Suggestion,
    Vacancy,
    VacancyStatus,
    WorkerCheck,
    WorkerProfile,
    vacancy_skill,
    worker_skill,
)
from careteams.matching.services.common import (
    CURRENT_MEMBER_STATUSES,
    MAX_TRAVEL_KM,
    SUGGESTION_LIMIT,
    check_facts,
    local_today,
    windows_of,
)
from careteams.matching.services.profiles import get_own_profile
from careteams.matching.services.settings import matching_settings
from careteams.matching.services.vacancies import (
    vacancy_and_access,
    vacancy_skills,
    vacancy_summary,
)
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor
from careteams.teams.models import Team, TeamMember


def _valid_check_clause(kind: CheckKind, on: date, name: str | None = None):
    clause = sa.exists().where(
        WorkerCheck.worker_profile_id == WorkerProfile.id, WorkerCheck.kind == kind, WorkerCheck.checked_on <= on,
        sa.or_(WorkerCheck.expires_on.is_(None), WorkerCheck.expires_on > on))
    if name:
        clause = clause.where(sa.func.lower(WorkerCheck.name) == name.lower())
    return clause


def _widest_reach(cooperative_id: int) -> int | None:
    """The longest distance any available worker of the co-op travels (None: nobody to suggest).

    One backward step of ix_worker_profile_reach (co-op, available, travel_km); it sizes the constant box below, which
    MAX_TRAVEL_KM (the largest reach allowed, 200 km) would make as wide as a region."""
    P = WorkerProfile  # noqa: N806
    return db.session.scalar(sa.select(sa.func.max(P.travel_km)).where(
        P.cooperative_id == cooperative_id, P.available.is_(True), P.latitude.is_not(None)))


def _candidate_filter(vacancy: Vacancy, windows: list[rules.Window], required_ids: list[int], on: date,
                      required_training: list[str], reach_km: float = MAX_TRAVEL_KM) -> list:
    """The hard filters as SQL, so ranking only ever sees plausible candidates."""
    P = WorkerProfile  # noqa: N806
    lat, lon = vacancy.latitude, vacancy.longitude
    reach_km = min(reach_km, MAX_TRAVEL_KM)
    min_lat, max_lat, min_lon, max_lon = rules.bounding_box(lat, lon, reach_km)
    lon_scale = rules.km_per_degree_lon(min(abs(lat) + MAX_TRAVEL_KM / rules.KM_PER_DEGREE_LAT, 89.9))
    clauses = [
        P.cooperative_id == vacancy.cooperative_id, P.available.is_(True),
        P.person_id != vacancy.team.leader_id,
        # A constant box the index can use (as wide as the co-op's widest reach), then each
        # worker's own reach (still a box: the exact distance is checked in Python on what
        # is left). A profile whose postcode waits for the geocoder has no point (NULL) and
        # is left out here.
        P.latitude.is_not(None), P.longitude.is_not(None),
        P.latitude.between(min_lat, max_lat), P.longitude.between(min_lon, max_lon),
        sa.func.abs(P.latitude - lat) * rules.KM_PER_DEGREE_LAT <= P.travel_km * 1.001,
        sa.func.abs(P.longitude - lon) * lon_scale <= P.travel_km * 1.001,
        ~sa.exists().where(TeamMember.team_id == vacancy.team_id, TeamMember.person_id == P.person_id,
                           TeamMember.status.in_(CURRENT_MEMBER_STATUSES)),
        ~sa.exists().where(Match.vacancy_id == vacancy.id, Match.worker_id == P.person_id),
    ]
    for kind in rules.REQUIRED_KINDS:
        clauses.append(_valid_check_clause(kind, on))
    for name in required_training:
        clauses.append(_valid_check_clause(CheckKind.training, on, name))
    for skill_id in sorted(set(required_ids)):
        # One EXISTS per skill: an index probe on the primary key, whatever the planner thinks.
        clauses.append(sa.exists().where(worker_skill.c.worker_profile_id == P.id, worker_skill.c.skill_id == skill_id))
    if windows:
        # An alias: the ranking query also joins the worker's windows, and must not correlate with them.
        aw = sa.orm.aliased(AvailabilityWindow)
        clauses.append(sa.exists().where(aw.worker_profile_id == P.id, sa.or_(*[
            sa.and_(aw.weekday == d, aw.start_minute < e, aw.end_minute > s) for d, s, e in windows])))
    else:
        clauses.append(sa.false())
    return clauses


def prefilter_clauses(vacancy: Vacancy, now: datetime) -> list:
    """The hard filters of `rank_candidates` as SQL clauses on WorkerProfile (scripts/bench_matching.py
    times them alone)."""
    skills = vacancy_skills([vacancy.id])[vacancy.id]
    training = matching_settings(vacancy.cooperative_id).required_training or []
    reach = _widest_reach(vacancy.cooperative_id)
    return _candidate_filter(vacancy, windows_of(vacancy.windows), [s.id for s in skills["required"]],
                             local_today(now, vacancy.cooperative_id), training, reach or 0)


def rank_candidates(vacancy: Vacancy, now: datetime, limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """Ranked, explained candidate workers for a vacancy (no permission check: callers do it).

    A fixed number of queries however many profiles there are: the hard filters
    run in SQL, the exact distance and the score in Python.
    """
    if vacancy.latitude is None or vacancy.longitude is None:
        return []  # no place yet (the geocoder has not found its postcode): no distances to filter by
    on = local_today(now, vacancy.cooperative_id)
    skills = vacancy_skills([vacancy.id])[vacancy.id]
    required_ids = [s.id for s in skills["required"]]
    nice = {s.id: s.name for s in skills["nice"]}
    windows = windows_of(vacancy.windows)
    training = matching_settings(vacancy.cooperative_id).required_training or []
    reach = _widest_reach(vacancy.cooperative_id)
    if reach is None:
        return []
    clauses = _candidate_filter(vacancy, windows, required_ids, on, training, reach)
    P = WorkerProfile  # noqa: N806
    weekdays = sorted({d for d, _, _ in windows})
    nice_columns = [sa.select(worker_skill.c.skill_id)
                    .where(worker_skill.c.worker_profile_id == P.id, worker_skill.c.skill_id == sid)
                    .correlate(P).exists().label(f"nice_{sid}") for sid in nice]
    # One pass over the filtered profiles: a row per (worker, window on a needed day),
    # with a flag per nice-to-have skill, so the filter is evaluated once. Names are read
    # for the top few only, with their skills (not a join of every person here).
    # Languages and interests as their JSON text: thousands of workers share a few dozen
    # lists, each parsed once (`parsed`) rather than once per row.
    rows = db.session.execute(
        sa.select(P.id, P.person_id, P.latitude, P.longitude, P.travel_km, sa.cast(P.languages, sa.Text),
                  sa.cast(P.interests, sa.Text),
                  AvailabilityWindow.weekday, AvailabilityWindow.start_minute, AvailabilityWindow.end_minute,
                  *nice_columns)
        .join(AvailabilityWindow, sa.and_(AvailabilityWindow.worker_profile_id == P.id,
                                          AvailabilityWindow.weekday.in_(weekdays)))
        .where(*clauses)).all()
    parsed: dict[str | None, tuple[str, ...]] = {None: ()}

    def listed(text: str | None) -> tuple[str, ...]:
        if text not in parsed:
            parsed[text] = tuple(json.loads(text) or ())
        return parsed[text]

    nice_names = list(nice.values())
    near: dict[int, tuple] = {}
    found_windows: dict[int, list[rules.Window]] = defaultdict(list)
    for pid, person_id, lat, lon, travel_km, languages, interests, weekday, start, end, *flags in rows:
        if pid not in near:
            km = rules.haversine_km(vacancy.latitude, vacancy.longitude, lat, lon)
            held = frozenset(name for name, flag in zip(nice_names, flags, strict=True) if flag)
            near[pid] = (person_id, travel_km, listed(languages), listed(interests), held, km)
        found_windows[pid].append((weekday, start, end))
    near = {pid: facts for pid, facts in near.items() if facts[5] <= facts[1]}
    if not near:
        return []
    wanted = rules.Wanted(
        required_skills=frozenset(s.name for s in skills["required"]), nice_skills=frozenset(nice.values()),
        windows=windows, languages=frozenset(vacancy.languages), interests=frozenset(vacancy.interests))
    scorer = rules.Scorer(wanted)
    # Every candidate gets its total (no reasons written); only the top `limit` are explained.
    totals, candidates = [], {}
    for pid, (_, travel_km, languages, interests, held, km) in near.items():
        candidate = rules.Candidate(
            skills=held | wanted.required_skills, windows=found_windows[pid],
            languages=frozenset(languages), interests=frozenset(interests), distance_km=km, travel_km=travel_km)
        common = scorer.hours(candidate)
        if common <= 0:
            continue  # touching windows pass the SQL filter but give no hours
        candidates[pid] = (candidate, common)
        totals.append((-scorer.total(candidate, common), pid))
    best = heapq.nsmallest(limit, totals)  # best total first, ties by id (as rules.rank)
    top = rules.rank((pid, scorer.score(*candidates[pid])) for _, pid in best)
    names: dict[int, str] = {}
    all_skills: dict[int, list[str]] = defaultdict(list)
    for pid, name, skill in db.session.execute(
            sa.select(P.id, Person.name, Skill.name).join(Person, Person.id == P.person_id)
            .outerjoin(worker_skill, worker_skill.c.worker_profile_id == P.id)
            .outerjoin(Skill, Skill.id == worker_skill.c.skill_id)
            .where(P.id.in_([pid for pid, _ in top])).order_by(P.id, Skill.name)):
        names[pid] = name
        if skill is not None:
            all_skills[pid].append(skill)
    results = []
    for pid, result in top:
        person_id, _, languages, interests, _, km = near[pid]
        results.append({
            "person_id": person_id, "score": result.total, "parts": result.parts, "reasons": result.reasons,
            "worker": {"first_name": names[pid].split()[0], "skills": all_skills[pid],
                       "languages": list(languages), "interests": list(interests),
                       "distance_band": rules.distance_band(km)},
        })
    return results


def suggest_candidates(actor: Actor, vacancy_id: int, now: datetime | None = None,
                       limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """Ranked candidates for a vacancy, with reasons, for the team side."""
    now = now or utcnow()
    vacancy, access = vacancy_and_access(actor, vacancy_id)
    ensure(perm.can_view_team_vacancies(access), not_found=True)
    if vacancy.status != VacancyStatus.open:
        raise Conflict("Suggestions are made for open vacancies only.")
    results = rank_candidates(vacancy, now, limit)
    _remember_suggestions(vacancy.id, results, now)
    return results


def _remember_suggestions(vacancy_id: int, results: list[dict], now: datetime) -> None:
    # The fairness report counts who was put in front of a team, once per vacancy.
    if not results:
        return
    shown = set(db.session.scalars(sa.select(Suggestion.person_id).where(
        Suggestion.vacancy_id == vacancy_id, Suggestion.person_id.in_([r["person_id"] for r in results]))))
    new = [{"vacancy_id": vacancy_id, "person_id": r["person_id"], "score": r["score"], "first_shown_at": now}
           for r in results if r["person_id"] not in shown]
    if new:
        db.session.execute(sa.insert(Suggestion), new)
        db.session.flush()


def suggest_vacancies(actor: Actor, coop: Cooperative, now: datetime | None = None) -> dict:
    """Open vacancies that fit the worker, ranked with reasons (summaries only)."""
    now = now or utcnow()
    profile = get_own_profile(actor, coop)
    training = matching_settings(coop.id).required_training or []
    problems = rules.check_problems(check_facts(profile.checks), local_today(now, coop.id), training)
    # No point yet: the postcode waits for the geocoder (or it found none): no distances to filter by.
    place = {"place_missing": True, "geocode_pending": profile.geocode_pending} if profile.latitude is None else {}
    if problems or place:
        return {"problems": problems, "vacancies": [], **place}
    min_lat, max_lat, min_lon, max_lon = rules.bounding_box(profile.latitude, profile.longitude, profile.travel_km)
    held_ids = {s.id for s in profile.skills}
    vacancies = list(db.session.scalars(sa.select(Vacancy).join(Team, Team.id == Vacancy.team_id).where(
        Vacancy.cooperative_id == coop.id, Vacancy.status == VacancyStatus.open, Team.leader_id != actor.person_id,
        Vacancy.latitude.is_not(None), Vacancy.longitude.is_not(None),  # a vacancy still waiting for its point: left out
        Vacancy.latitude.between(min_lat, max_lat), Vacancy.longitude.between(min_lon, max_lon),
        ~sa.exists().where(Match.vacancy_id == Vacancy.id, Match.worker_id == actor.person_id),
        ~sa.exists().where(TeamMember.team_id == Vacancy.team_id, TeamMember.person_id == actor.person_id,
                           TeamMember.status.in_(CURRENT_MEMBER_STATUSES)),
        ~sa.exists().where(vacancy_skill.c.vacancy_id == Vacancy.id, vacancy_skill.c.required.is_(True),
                           vacancy_skill.c.skill_id.not_in(held_ids or {-1})),
    )))
    skills = vacancy_skills([v.id for v in vacancies])
    candidate_windows = windows_of(profile.windows)
    scored, by_id = [], {}
    for vacancy in vacancies:
        km = rules.haversine_km(profile.latitude, profile.longitude, vacancy.latitude, vacancy.longitude)
        s = skills[vacancy.id]
        wanted = rules.Wanted(frozenset(x.name for x in s["required"]), frozenset(x.name for x in s["nice"]),
                              windows_of(vacancy.windows), frozenset(vacancy.languages), frozenset(vacancy.interests))
        candidate = rules.Candidate(frozenset(x.name for x in profile.skills), candidate_windows,
                                    frozenset(profile.languages), frozenset(profile.interests), km, profile.travel_km)
        if rules.hard_filter_problems(wanted, candidate):
            continue
        scored.append((vacancy.id, rules.score(wanted, candidate)))
        by_id[vacancy.id] = (vacancy, km)
    results = []
    for vid, result in rules.rank(scored):
        vacancy, km = by_id[vid]
        results.append({"score": result.total, "parts": result.parts, "reasons": result.reasons,
                        "distance_band": rules.distance_band(km),
                        "vacancy": vacancy_summary(vacancy, skills[vid], mutual=False)})
    return {"problems": [], "vacancies": results}
