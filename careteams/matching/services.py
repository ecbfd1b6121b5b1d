"""Use-cases for matching by mutual consent. Services flush; the caller commits once.

Other domains use `worker_eligibility` and `weekly_hours_opt_out` (the rota
checks a worker's skills and checks before offering a shift).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams import notify
from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import (
    AvailabilityWindow,
    CheckKind,
    EqualityData,
    Match,
    MatchingSettings,
    MatchShift,
    MatchState,
    Notification,
    ReviewPrompt,
    Side,
    Skill,
    Suggestion,
    Vacancy,
    VacancyStatus,
    VacancyWindow,
    WorkerCheck,
    WorkerProfile,
    vacancy_skill,
    worker_skill,
)
from careteams.matching.rules import Action, IllegalTransition
from careteams.members.models import (
    ContactChannel,
    Cooperative,
    Membership,
    MembershipStatus,
    Person,
    StaffRole,
    StaffRoleName,
)
from careteams.members.permissions import Actor, is_facilitator
from careteams.teams.models import Hat, HatStatus, Team, TeamMember, TeamMemberStatus, TeamRole
from careteams.teams.permissions import TeamAccess, TeamPermission
from careteams.teams.services import get_visible_team, team_access

CURRENT_MEMBER_STATUSES = (TeamMemberStatus.invited, TeamMemberStatus.trial, TeamMemberStatus.active)
MAX_TRAVEL_KM = 200  # the check constraint's upper bound: the widest SQL box ever needed
SUGGESTION_LIMIT = 20
DEFAULT_CHECK_WARNING_DAYS = 30
DEFAULT_INTRODUCTION_STALE_DAYS = 14


def _today(now: datetime, cooperative_id: int) -> date:
    """The calendar date at `now` where the co-op is. Checks expire, and members
    start and leave, on local dates: a DBS check that expires on 1 June stops
    counting at midnight in London, not an hour later at midnight UTC."""
    return now.astimezone(ZoneInfo(db.session.get(Cooperative, cooperative_id).timezone)).date()


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- settings and skills -------------------------------------------------------------


def matching_settings(cooperative_id: int) -> MatchingSettings:
    """The co-op's matching settings (defaults when never changed; not added to the session)."""
    found = db.session.scalar(sa.select(MatchingSettings).where(MatchingSettings.cooperative_id == cooperative_id))
    return found or MatchingSettings(cooperative_id=cooperative_id, review_required=True,
                                     introduction_stale_days=DEFAULT_INTRODUCTION_STALE_DAYS,
                                     check_warning_days=DEFAULT_CHECK_WARNING_DAYS, required_training=[])


def update_matching_settings(actor: Actor, coop: Cooperative, changes: dict) -> MatchingSettings:
    """Change the co-op's matching settings (admins), e.g. switch facilitator review off."""
    ensure(perm.can_edit_matching_settings(actor, coop.id))
    current = matching_settings(coop.id)
    if current.id is None:
        db.session.add(current)
    for key, value in changes.items():
        setattr(current, key, value)
    db.session.flush()
    return current


def list_skills(actor: Actor, coop: Cooperative) -> list[Skill]:
    """The co-op's skill list (anyone who belongs to or works for the co-op)."""
    return list(db.session.scalars(sa.select(Skill).where(Skill.cooperative_id == coop.id).order_by(Skill.name)))


def add_skill(actor: Actor, coop: Cooperative, name: str) -> Skill:
    """Add a skill to the co-op's list (facilitators and admins)."""
    ensure(perm.can_edit_skills(actor, coop.id))
    name = name.strip()
    if db.session.scalar(sa.select(Skill.id).where(Skill.cooperative_id == coop.id,
                                                   sa.func.lower(Skill.name) == name.lower())):
        raise Conflict("That skill is already on the list.", details={"fields": {"name": ["Already on the list."]}})
    skill = Skill(cooperative_id=coop.id, name=name, active=True)
    db.session.add(skill)
    db.session.flush()
    return skill


def update_skill(actor: Actor, coop: Cooperative, skill_id: int, changes: dict) -> Skill:
    """Rename a skill or take it off the list for new choices (facilitators and admins)."""
    ensure(perm.can_edit_skills(actor, coop.id))
    skill = db.session.get(Skill, skill_id)
    if skill is None or skill.cooperative_id != coop.id:
        raise NotFound("No such skill.")
    for key, value in changes.items():
        setattr(skill, key, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return skill


def _skills_by_id(coop_id: int, ids: Iterable[int], field: str) -> list[Skill]:
    ids = set(ids)
    if not ids:
        return []
    found = list(db.session.scalars(sa.select(Skill).where(Skill.cooperative_id == coop_id, Skill.id.in_(ids),
                                                             Skill.active.is_(True))))
    if len(found) != len(ids):
        raise ValidationError(details={"fields": {field: ["Choose skills from the co-op's list."]}})
    return found


# --- worker profiles ------------------------------------------------------------------


def _member_class(actor: Actor, coop_id: int):
    return db.session.scalar(sa.select(Membership.member_class).where(
        Membership.cooperative_id == coop_id, Membership.person_id == actor.person_id,
        Membership.status == MembershipStatus.active))


def _profile_of(coop_id: int, person_id: int) -> WorkerProfile | None:
    return db.session.scalar(sa.select(WorkerProfile).where(
        WorkerProfile.cooperative_id == coop_id, WorkerProfile.person_id == person_id))


def get_own_profile(actor: Actor, coop: Cooperative) -> WorkerProfile:
    """The actor's own worker profile in this co-op."""
    profile = _profile_of(coop.id, actor.person_id)
    if profile is None:
        raise NotFound("You have no worker profile here yet.")
    return profile


def save_profile(actor: Actor, coop: Cooperative, data: dict) -> WorkerProfile:
    """Create or update the actor's own worker profile (worker members only)."""
    ensure(perm.can_keep_worker_profile(actor, coop.id, _member_class(actor, coop.id)))
    skills = _skills_by_id(coop.id, data.pop("skill_ids", []), "skill_ids")
    windows = data.pop("windows", [])
    profile = _profile_of(coop.id, actor.person_id)
    if profile is None:
        profile = WorkerProfile(cooperative_id=coop.id, person_id=actor.person_id)
        db.session.add(profile)
    for key, value in data.items():
        setattr(profile, key, value)
    profile.skills = skills
    profile.windows = [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in windows]
    db.session.flush()
    return profile


def record_check(actor: Actor, coop: Cooperative, person_id: int, data: dict) -> WorkerCheck:
    """Record a check or training item a facilitator has seen the evidence for."""
    ensure(perm.can_record_checks(actor, coop.id))
    profile = _profile_of(coop.id, person_id)
    if profile is None:
        raise NotFound("That person has no worker profile here.")
    check = WorkerCheck(worker_profile_id=profile.id, kind=data["kind"], name=data.get("name") or "",
                        checked_on=data["checked_on"], expires_on=data.get("expires_on"), recorded_by_id=actor.person_id)
    db.session.add(check)
    db.session.flush()
    db.session.expire(profile, ["checks"])
    return check


def save_equality_data(actor: Actor, coop: Cooperative, data: dict) -> EqualityData:
    """The worker's own, voluntary equality data (only ever reported in aggregate)."""
    ensure(perm.can_keep_worker_profile(actor, coop.id, _member_class(actor, coop.id)))
    row = db.session.scalar(sa.select(EqualityData).where(EqualityData.cooperative_id == coop.id,
                                                          EqualityData.person_id == actor.person_id))
    if row is None:
        row = EqualityData(cooperative_id=coop.id, person_id=actor.person_id)
        db.session.add(row)
    for key in ("ethnicity", "gender", "age_band", "disability"):
        setattr(row, key, data.get(key) or None)
    db.session.flush()
    return row


def forget_equality_data(actor: Actor, coop: Cooperative) -> None:
    """Remove the actor's equality data entirely."""
    db.session.execute(sa.delete(EqualityData).where(EqualityData.cooperative_id == coop.id,
                                                     EqualityData.person_id == actor.person_id))
    db.session.flush()


def _check_facts(checks: Iterable[WorkerCheck]) -> list[rules.CheckFact]:
    return [rules.CheckFact(c.kind, c.name, c.checked_on, c.expires_on) for c in checks]


def worker_eligibility(person_ids: Iterable[int], required_skills: Iterable[str], at: datetime | date,
                       cooperative_id: int | None = None) -> dict[int, list[str]]:
    """For each person: why they may not work at `at` (an empty list means they may).

    Looks at the worker profile (in `cooperative_id`, or any), the skills held by
    name and whether every required check is valid on that day. Two queries.
    """
    ids = list(dict.fromkeys(person_ids))
    needed = {s.strip().casefold(): s.strip() for s in required_skills if s.strip()}
    query = (sa.select(WorkerProfile, Cooperative.timezone)
             .join(Cooperative, Cooperative.id == WorkerProfile.cooperative_id)
             .where(WorkerProfile.person_id.in_(ids)).order_by(WorkerProfile.id))
    if cooperative_id is not None:
        query = query.where(WorkerProfile.cooperative_id == cooperative_id)
    profiles, zones = {}, {}
    for profile, zone in db.session.execute(query):
        profiles[profile.person_id], zones[profile.person_id] = profile, zone
    training = {s.cooperative_id: s.required_training for s in db.session.scalars(
        sa.select(MatchingSettings).where(MatchingSettings.cooperative_id.in_({p.cooperative_id for p in profiles.values()})))}
    result: dict[int, list[str]] = {}
    for pid in ids:
        profile = profiles.get(pid)
        if profile is None:
            result[pid] = ["no worker profile"]
            continue
        # A check is valid or not on the co-op's local date at `at` (a visit at 00:30 BST
        # on 1 June is on 1 June, though it is still 31 May in UTC).
        on = at.astimezone(ZoneInfo(zones[pid])).date() if isinstance(at, datetime) else at
        reasons = rules.check_problems(_check_facts(profile.checks), on, training.get(profile.cooperative_id, []))
        held = {s.name.casefold() for s in profile.skills}
        reasons += [f"missing skill: {needed[k]}" for k in sorted(needed) if k not in held]
        result[pid] = reasons
    return result


def weekly_hours_opt_out(person_id: int) -> date | None:
    """The date the worker signed out of the 48-hour average week, or None."""
    return db.session.scalar(sa.select(sa.func.max(WorkerProfile.opt_out_48h_signed_on)).where(
        WorkerProfile.person_id == person_id))


# --- vacancies -----------------------------------------------------------------------------


def _vacancy_and_access(actor: Actor, vacancy_id: int) -> tuple[Vacancy, TeamAccess]:
    vacancy = db.session.get(Vacancy, vacancy_id)
    if vacancy is None:
        raise NotFound("No such vacancy.")
    return vacancy, team_access(actor, vacancy.team)


def post_vacancy(actor: Actor, team_id: int, data: dict) -> Vacancy:
    """Publish a vacancy for a team (the leader, an arranger or a Team builder)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_post_vacancy(access))
    skills_required = _skills_by_id(team.cooperative_id, data.pop("required_skill_ids", []), "required_skill_ids")
    skills_nice = _skills_by_id(team.cooperative_id, data.pop("nice_skill_ids", []), "nice_skill_ids")
    if {s.id for s in skills_required} & {s.id for s in skills_nice}:
        raise ValidationError(details={"fields": {"nice_skill_ids": ["A skill is either required or nice to have."]}})
    windows = data.pop("windows")
    if data.get("latitude") is None or data.get("longitude") is None:
        if team.latitude is None or team.longitude is None:
            raise ValidationError("Say where the support happens.",
                                  details={"fields": {"latitude": ["Give the place, or set the team's location."]}})
        data["latitude"], data["longitude"] = team.latitude, team.longitude
    data["district"] = data.get("district") or team.postcode_district
    vacancy = Vacancy(team_id=team.id, cooperative_id=team.cooperative_id, posted_by_id=actor.person_id,
                      status=VacancyStatus.open, **data)
    vacancy.windows = [VacancyWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in windows]
    db.session.add(vacancy)
    db.session.flush()
    _set_vacancy_skills(vacancy, skills_required, skills_nice)
    return vacancy


def _set_vacancy_skills(vacancy: Vacancy, required: list[Skill], nice: list[Skill]) -> None:
    db.session.execute(sa.delete(vacancy_skill).where(vacancy_skill.c.vacancy_id == vacancy.id))
    rows = [{"vacancy_id": vacancy.id, "skill_id": s.id, "required": True} for s in required]
    rows += [{"vacancy_id": vacancy.id, "skill_id": s.id, "required": False} for s in nice]
    if rows:
        db.session.execute(sa.insert(vacancy_skill), rows)
    db.session.flush()


def vacancy_skills(vacancy_ids: Iterable[int]) -> dict[int, dict[str, list[Skill]]]:
    """Required and nice-to-have skills for each vacancy (one query)."""
    out: dict[int, dict[str, list[Skill]]] = defaultdict(lambda: {"required": [], "nice": []})
    ids = list(vacancy_ids)
    if not ids:
        return out
    rows = db.session.execute(sa.select(vacancy_skill.c.vacancy_id, vacancy_skill.c.required, Skill)
                              .join(Skill, Skill.id == vacancy_skill.c.skill_id)
                              .where(vacancy_skill.c.vacancy_id.in_(ids)).order_by(Skill.name))
    for vid, required, skill in rows:
        out[vid]["required" if required else "nice"].append(skill)
    return out


def update_vacancy(actor: Actor, vacancy_id: int, changes: dict) -> Vacancy:
    """Change a vacancy's details or status (open, paused, filled, closed)."""
    vacancy, access = _vacancy_and_access(actor, vacancy_id)
    ensure(perm.can_view_team_vacancies(access), not_found=True)
    ensure(perm.can_post_vacancy(access))
    required_ids = changes.pop("required_skill_ids", None)
    nice_ids = changes.pop("nice_skill_ids", None)
    if "windows" in changes:
        vacancy.windows = [VacancyWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in changes.pop("windows")]
    if "status" in changes and changes["status"] != vacancy.status:
        vacancy.status_changed_at = utcnow()
    for key, value in changes.items():
        setattr(vacancy, key, value)
    if required_ids is not None or nice_ids is not None:
        current = vacancy_skills([vacancy.id])[vacancy.id]
        required = (_skills_by_id(vacancy.cooperative_id, required_ids, "required_skill_ids")
                    if required_ids is not None else current["required"])
        nice = _skills_by_id(vacancy.cooperative_id, nice_ids, "nice_skill_ids") if nice_ids is not None else current["nice"]
        _set_vacancy_skills(vacancy, required, nice)
    db.session.flush()
    return vacancy


def list_team_vacancies(actor: Actor, team_id: int) -> tuple[Team, list[Vacancy]]:
    """A team's vacancies, newest first (the team side and facilitators)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_view_team_vacancies(access))
    return team, list(db.session.scalars(sa.select(Vacancy).where(Vacancy.team_id == team.id)
                                         .order_by(Vacancy.id.desc())))


def view_vacancy(actor: Actor, vacancy_id: int) -> dict:
    """A vacancy as the actor may see it: in full for the team side, a summary for workers."""
    vacancy, access = _vacancy_and_access(actor, vacancy_id)
    skills = vacancy_skills([vacancy.id])[vacancy.id]
    if perm.can_view_team_vacancies(access):
        return _vacancy_full(vacancy, skills)
    match = db.session.scalar(sa.select(Match).where(Match.vacancy_id == vacancy.id, Match.worker_id == actor.person_id))
    has_profile = _profile_of(vacancy.cooperative_id, actor.person_id) is not None
    if match is None and not (has_profile and vacancy.status == VacancyStatus.open):
        raise NotFound("No such vacancy.")
    return _vacancy_summary(vacancy, skills, mutual=match is not None and match.state in rules.MUTUAL_STATES)


def _windows(items) -> list[rules.Window]:
    return [(w.weekday, w.start_minute, w.end_minute) for w in items]


def _vacancy_summary(vacancy: Vacancy, skills: dict[str, list[Skill]], mutual: bool) -> dict:
    """What a worker sees: no name and no exact place until interest is mutual."""
    windows = _windows(vacancy.windows)
    summary = {
        "id": vacancy.id, "status": vacancy.status.value, "district": vacancy.district,
        "needs": vacancy.needs, "what_matters": vacancy.what_matters,
        "hours": [rules.format_window(w) for w in windows], "hours_per_week": rules.window_minutes(windows) / 60,
        "required_skills": [s.name for s in skills["required"]], "nice_skills": [s.name for s in skills["nice"]],
        "languages": list(vacancy.languages), "interests": list(vacancy.interests), "mutual": mutual,
    }
    if mutual:
        summary["team_name"] = vacancy.team.display_name
        summary["leader_first_name"] = vacancy.team.leader.first_name
    return summary


def _vacancy_full(vacancy: Vacancy, skills: dict[str, list[Skill]]) -> dict:
    summary = _vacancy_summary(vacancy, skills, mutual=True)
    summary.update(team_id=vacancy.team_id, latitude=vacancy.latitude, longitude=vacancy.longitude,
                   required_skill_ids=[s.id for s in skills["required"]], nice_skill_ids=[s.id for s in skills["nice"]],
                   created_at=vacancy.created_at.isoformat())
    return summary


# --- suggestions ------------------------------------------------------------------------------


def _valid_check_clause(kind: CheckKind, on: date, name: str | None = None):
    clause = sa.exists().where(
        WorkerCheck.worker_profile_id == WorkerProfile.id, WorkerCheck.kind == kind, WorkerCheck.checked_on <= on,
        sa.or_(WorkerCheck.expires_on.is_(None), WorkerCheck.expires_on > on))
    if name:
        clause = clause.where(sa.func.lower(WorkerCheck.name) == name.lower())
    return clause


def _candidate_filter(vacancy: Vacancy, windows: list[rules.Window], required_ids: list[int], on: date,
                      required_training: list[str]) -> list:
    """The hard filters as SQL, so ranking only ever sees plausible candidates."""
    P = WorkerProfile  # noqa: N806
    lat, lon = vacancy.latitude, vacancy.longitude
    min_lat, max_lat, min_lon, max_lon = rules.bounding_box(lat, lon, MAX_TRAVEL_KM)
    lon_scale = rules.km_per_degree_lon(min(abs(lat) + MAX_TRAVEL_KM / rules.KM_PER_DEGREE_LAT, 89.9))
    clauses = [
        P.cooperative_id == vacancy.cooperative_id, P.available.is_(True),
        P.person_id != vacancy.team.leader_id,
        # A constant box the index can use, then each worker's own reach (still a box:
        # the exact distance is checked in Python on what is left).
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


def rank_candidates(vacancy: Vacancy, now: datetime, limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """Ranked, explained candidate workers for a vacancy (no permission check: callers do it).

    A fixed number of queries however many profiles there are: the hard filters
    run in SQL, the exact distance and the score in Python.
    """
    on = _today(now, vacancy.cooperative_id)
    skills = vacancy_skills([vacancy.id])[vacancy.id]
    required_ids = [s.id for s in skills["required"]]
    nice = {s.id: s.name for s in skills["nice"]}
    windows = _windows(vacancy.windows)
    training = matching_settings(vacancy.cooperative_id).required_training or []
    clauses = _candidate_filter(vacancy, windows, required_ids, on, training)
    P = WorkerProfile  # noqa: N806
    weekdays = sorted({d for d, _, _ in windows})
    nice_columns = [sa.select(worker_skill.c.skill_id)
                    .where(worker_skill.c.worker_profile_id == P.id, worker_skill.c.skill_id == sid)
                    .correlate(P).exists().label(f"nice_{sid}") for sid in nice]
    # One pass over the filtered profiles: a row per (worker, window on a needed day),
    # with a flag per nice-to-have skill, so the filter is evaluated once.
    rows = db.session.execute(
        sa.select(P.id, P.person_id, P.latitude, P.longitude, P.travel_km, P.languages, P.interests, Person.name,
                  AvailabilityWindow.weekday, AvailabilityWindow.start_minute, AvailabilityWindow.end_minute,
                  *nice_columns)
        .join(Person, Person.id == P.person_id)
        .join(AvailabilityWindow, sa.and_(AvailabilityWindow.worker_profile_id == P.id,
                                          AvailabilityWindow.weekday.in_(weekdays)))
        .where(*clauses)).all()
    near: dict[int, tuple] = {}
    found_windows: dict[int, list[rules.Window]] = defaultdict(list)
    nice_held: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        if row.id not in near:
            km = rules.haversine_km(vacancy.latitude, vacancy.longitude, row.latitude, row.longitude)
            near[row.id] = (row, km)
            nice_held[row.id] = {name for sid, name in nice.items() if getattr(row, f"nice_{sid}")}
        found_windows[row.id].append((row.weekday, row.start_minute, row.end_minute))
    near = {pid: (row, km) for pid, (row, km) in near.items() if km <= row.travel_km}
    if not near:
        return []
    wanted = rules.Wanted(
        required_skills=frozenset(s.name for s in skills["required"]), nice_skills=frozenset(nice.values()),
        windows=windows, languages=frozenset(vacancy.languages), interests=frozenset(vacancy.interests))
    scored = []
    for pid, (row, km) in near.items():
        candidate = rules.Candidate(
            skills=frozenset(nice_held[pid]) | wanted.required_skills, windows=found_windows[pid],
            languages=frozenset(row.languages or []), interests=frozenset(row.interests or []),
            distance_km=km, travel_km=row.travel_km)
        if rules.overlap_minutes(windows, candidate.windows) <= 0:
            continue  # touching windows pass the SQL filter but give no hours
        scored.append((pid, rules.score(wanted, candidate)))
    top = rules.rank(scored)[:limit]
    all_skills: dict[int, list[str]] = defaultdict(list)
    for pid, name in db.session.execute(
            sa.select(worker_skill.c.worker_profile_id, Skill.name).join(Skill, Skill.id == worker_skill.c.skill_id)
            .where(worker_skill.c.worker_profile_id.in_([pid for pid, _ in top])).order_by(Skill.name)):
        all_skills[pid].append(name)
    results = []
    for pid, result in top:
        row, km = near[pid]
        results.append({
            "person_id": row.person_id, "score": result.total, "parts": result.parts, "reasons": result.reasons,
            "worker": {"first_name": row.name.split()[0], "skills": all_skills[pid], "languages": list(row.languages or []),
                       "interests": list(row.interests or []), "distance_band": rules.distance_band(km)},
        })
    return results


def suggest_candidates(actor: Actor, vacancy_id: int, now: datetime | None = None,
                       limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """Ranked candidates for a vacancy, with reasons, for the team side."""
    now = now or utcnow()
    vacancy, access = _vacancy_and_access(actor, vacancy_id)
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
    problems = rules.check_problems(_check_facts(profile.checks), _today(now, coop.id), training)
    if problems:
        return {"problems": problems, "vacancies": []}
    min_lat, max_lat, min_lon, max_lon = rules.bounding_box(profile.latitude, profile.longitude, profile.travel_km)
    held_ids = {s.id for s in profile.skills}
    vacancies = list(db.session.scalars(sa.select(Vacancy).join(Team, Team.id == Vacancy.team_id).where(
        Vacancy.cooperative_id == coop.id, Vacancy.status == VacancyStatus.open, Team.leader_id != actor.person_id,
        Vacancy.latitude.between(min_lat, max_lat), Vacancy.longitude.between(min_lon, max_lon),
        ~sa.exists().where(Match.vacancy_id == Vacancy.id, Match.worker_id == actor.person_id),
        ~sa.exists().where(TeamMember.team_id == Vacancy.team_id, TeamMember.person_id == actor.person_id,
                           TeamMember.status.in_(CURRENT_MEMBER_STATUSES)),
        ~sa.exists().where(vacancy_skill.c.vacancy_id == Vacancy.id, vacancy_skill.c.required.is_(True),
                           vacancy_skill.c.skill_id.not_in(held_ids or {-1})),
    )))
    skills = vacancy_skills([v.id for v in vacancies])
    candidate_windows = _windows(profile.windows)
    scored, by_id = [], {}
    for vacancy in vacancies:
        km = rules.haversine_km(profile.latitude, profile.longitude, vacancy.latitude, vacancy.longitude)
        s = skills[vacancy.id]
        wanted = rules.Wanted(frozenset(x.name for x in s["required"]), frozenset(x.name for x in s["nice"]),
                              _windows(vacancy.windows), frozenset(vacancy.languages), frozenset(vacancy.interests))
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
                        "vacancy": _vacancy_summary(vacancy, skills[vid], mutual=False)})
    return {"problems": [], "vacancies": results}


# --- matches: starting, answering and moving on ----------------------------------------------


def _sides(actor: Actor, match: Match, access: TeamAccess) -> frozenset[Side]:
    sides = set()
    if match.worker_id == actor.person_id:
        sides.add(Side.worker)
    if perm.can_answer_for_team(access):
        sides.add(Side.team)
    if is_facilitator(actor, match.cooperative_id):
        sides.add(Side.facilitator)
    return frozenset(sides)


def _visible_match(actor: Actor, match_id: int, for_update: bool = False) -> tuple[Match, frozenset[Side], TeamAccess]:
    query = sa.select(Match).where(Match.id == match_id)
    if for_update:
        # Both sides may answer at the same moment: serialise on the match row.
        query = query.with_for_update(of=Match)
    match = db.session.scalar(query)
    if match is None:
        raise NotFound("No such match.")
    access = team_access(actor, match.vacancy.team)
    sides = _sides(actor, match, access)
    # Anyone on the team side who can see vacancies may look; only answer_matches acts.
    if not sides and not perm.can_view_team_vacancies(access):
        raise NotFound("No such match.")
    return match, sides, access


def _facts(match: Match, review_required: bool) -> rules.MatchFacts:
    return rules.MatchFacts(
        state=match.state, started_by=match.started_by, held=match.held, review_required=review_required,
        introduction_recorded=match.introduction_on is not None, shifts_recorded=len(match.shifts),
        team_confirmed=match.team_confirmed_at is not None, worker_confirmed=match.worker_confirmed_at is not None)


def _checks_problems(coop_id: int, person_id: int, on: date) -> list[str]:
    profile = _profile_of(coop_id, person_id)
    if profile is None:
        return ["no worker profile"]
    return rules.check_problems(_check_facts(profile.checks), on, matching_settings(coop_id).required_training or [])


def invite_worker(actor: Actor, vacancy_id: int, person_id: int, note: str | None = None,
                  now: datetime | None = None) -> Match:
    """The team side invites a worker to a vacancy; the worker then answers."""
    now = now or utcnow()
    vacancy, access = _vacancy_and_access(actor, vacancy_id)
    ensure(perm.can_view_team_vacancies(access), not_found=True)
    ensure(perm.can_answer_for_team(access))
    profile = _profile_of(vacancy.cooperative_id, person_id)
    if profile is None or not profile.available:
        raise NotFound("No such worker.")
    return _start_match(vacancy, person_id, Side.team, note, now)


def ask_to_join(actor: Actor, vacancy_id: int, note: str | None = None, now: datetime | None = None) -> Match:
    """A worker asks to join a vacancy; the team side then answers."""
    now = now or utcnow()
    vacancy = db.session.get(Vacancy, vacancy_id)
    profile = vacancy and _profile_of(vacancy.cooperative_id, actor.person_id)
    if vacancy is None or profile is None or vacancy.status != VacancyStatus.open:
        raise NotFound("No such vacancy.")
    return _start_match(vacancy, actor.person_id, Side.worker, note, now)


def _start_match(vacancy: Vacancy, person_id: int, side: Side, note: str | None, now: datetime) -> Match:
    if vacancy.status != VacancyStatus.open:
        raise Conflict("This vacancy is not open.")
    if person_id == vacancy.team.leader_id:
        raise Conflict("The team's leader cannot be matched to their own team.")
    if db.session.scalar(sa.select(Match.id).where(Match.vacancy_id == vacancy.id, Match.worker_id == person_id)):
        raise Conflict("There is already a match between this worker and this vacancy.", code="already_matched")
    problems = _checks_problems(vacancy.cooperative_id, person_id, _today(now, vacancy.cooperative_id))
    if problems:
        raise Conflict("The worker's checks are not in date: " + "; ".join(problems), code="checks_not_valid")
    match = Match(vacancy_id=vacancy.id, team_id=vacancy.team_id, cooperative_id=vacancy.cooperative_id,
                  worker_id=person_id, started_by=side,
                  state=MatchState.invited if side == Side.team else MatchState.asked,
                  team_said_yes=True if side == Side.team else None,
                  worker_said_yes=True if side == Side.worker else None, created_at=now)
    _set_note(match, side, note)
    db.session.add(match)
    db.session.flush()
    if side == Side.team:
        _notify_worker(match, "A team would like you to join them. Log in to careteams to see the vacancy and answer.")
    else:
        _notify_team(match, "A worker has asked to join your team. Log in to careteams to see them and answer.")
    return match


def _set_note(match: Match, side: Side, note: str | None) -> None:
    if note is None:
        return
    if side == Side.team:
        match.team_note = note
    elif side == Side.worker:
        match.worker_note = note


def act_on_match(actor: Actor, match_id: int, action: Action, note: str | None = None, on: date | None = None,
                 now: datetime | None = None) -> Match:
    """Move a match through the consent flow: answer, approve, hold, introduce, trial, confirm, withdraw."""
    now = now or utcnow()
    match, sides, _ = _visible_match(actor, match_id, for_update=True)
    ensure(perm.may_take(action, sides))
    side = perm.side_for(action, sides)
    settings = matching_settings(match.cooperative_id)
    try:
        new_state = rules.next_state(_facts(match, settings.review_required), action, side)
    except IllegalTransition as exc:
        raise Conflict(str(exc), code="illegal_transition") from None
    old_state = match.state
    if action == Action.answer_yes and match.vacancy.status != VacancyStatus.open:
        raise Conflict("This vacancy is no longer open.")

    if action in (Action.answer_yes, Action.answer_no):
        setattr(match, "team_said_yes" if side == Side.team else "worker_said_yes", action == Action.answer_yes)
        _set_note(match, side, note)
        if action == Action.answer_no:
            match.declined_by = side
            match.closed_at = now
            _notify_other(match, side, "There is news about a match on careteams. Log in to see it.")
        else:
            match.mutual_at = now
            if new_state == MatchState.introduction:
                match.approved_at = now
            _notify_both(match, "You and a match have both said yes. Log in to careteams to see what happens next.")
            if new_state == MatchState.review:
                _notify_facilitators(match, "A match is waiting for review on careteams.")
    elif action == Action.approve:
        match.reviewed_by_id = actor.person_id
        match.approved_at = now
        _notify_both(match, "A facilitator has approved your match. Log in to careteams to arrange an introduction.")
    elif action == Action.hold:
        if not note:
            raise ValidationError(details={"fields": {"note": ["Say why the match is held (only facilitators see it)."]}})
        match.held, match.hold_note, match.held_by_id = True, note, actor.person_id
    elif action == Action.release:
        match.held = False
        if note:
            match.hold_note = note
    elif action == Action.record_introduction:
        if on is None:
            raise ValidationError(details={"fields": {"on": ["Give the date of the introduction."]}})
        match.introduction_on = on
    elif action == Action.start_trial:
        problems = _checks_problems(match.cooperative_id, match.worker_id, _today(now, match.cooperative_id))
        if problems:
            raise Conflict("The worker's checks are not in date: " + "; ".join(problems), code="checks_not_valid")
        if db.session.scalar(sa.select(TeamMember.id).where(
                TeamMember.team_id == match.team_id, TeamMember.person_id == match.worker_id,
                TeamMember.status.in_(CURRENT_MEMBER_STATUSES))):
            raise Conflict("This worker already has a place in the team.")
        member = TeamMember(team_id=match.team_id, person_id=match.worker_id, role=TeamRole.paid_worker,
                            status=TeamMemberStatus.trial, invited_at=now, started_on=_today(now, match.cooperative_id))
        db.session.add(member)
        db.session.flush()
        match.team_member_id = member.id
        match.joined_at = now
        _notify_both(match, "The trial has started. Log in to careteams to record the trial shifts.")
    elif action == Action.record_shift:
        if on is None:
            raise ValidationError(details={"fields": {"on": ["Give the date of the shift."]}})
        before = len(match.shifts)
        db.session.add(MatchShift(match_id=match.id, worked_on=on, trial=match.state == MatchState.trial,
                                  recorded_by_id=actor.person_id, recorded_at=now))
        db.session.flush()
        db.session.expire(match, ["shifts"])
        for after in rules.review_prompts_due(before, before + 1):
            db.session.add(ReviewPrompt(match_id=match.id, after_shift=after, due_at=now))
            _notify_both(match, f"After {after} shifts together: is it working? Log in to careteams to say.")
    elif action == Action.confirm:
        if side == Side.team:
            match.team_confirmed_at = now
        else:
            match.worker_confirmed_at = now
        if new_state == MatchState.active:
            member = db.session.get(TeamMember, match.team_member_id)
            member.status = TeamMemberStatus.active
            member.active_on = _today(now, match.cooperative_id)
            match.active_at = now
            match.closed_at = now
            if match.vacancy.status == VacancyStatus.open:
                match.vacancy.status = VacancyStatus.filled
                match.vacancy.status_changed_at = now
            _notify_both(match, "Both sides have confirmed: welcome to the team.")
    elif action == Action.withdraw:
        match.withdrawn_by = side
        match.withdrawn_from = old_state
        match.closed_at = now
        _set_note(match, side, note)
        if old_state == MatchState.trial and match.team_member_id:
            member = db.session.get(TeamMember, match.team_member_id)
            member.status = TeamMemberStatus.left
            member.ended_on = _today(now, match.cooperative_id)
        _notify_other(match, side, "There is news about a match on careteams. Log in to see it.")
    match.state = new_state
    db.session.flush()
    return match


# --- check-ins after the 3rd and 8th shift ----------------------------------------------------


def answer_check_in(actor: Actor, match_id: int, after_shift: int, answer: rules.CheckInAnswer) -> ReviewPrompt:
    """Say whether it is working at a check-in, once per side. Each side sees only its own
    answer; facilitators see both, and are told when either side says it is not working."""
    match, sides, _ = _visible_match(actor, match_id, for_update=True)
    # The same people who confirm a trial answer for their side; a facilitator only reads.
    ensure(perm.may_take(Action.confirm, sides))
    side = perm.side_for(Action.confirm, sides)
    prompt = db.session.scalar(sa.select(ReviewPrompt).where(ReviewPrompt.match_id == match.id,
                                                             ReviewPrompt.after_shift == after_shift))
    if prompt is None:
        raise NotFound("There is no check-in after that many shifts yet.")
    column = "team_answer" if side == Side.team else "worker_answer"
    if getattr(prompt, column) is not None:
        raise Conflict("Your side has already answered this check-in.", code="already_answered")
    setattr(prompt, column, answer.value)
    if answer == rules.CheckInAnswer.not_working:
        _notify_facilitators(match, "A check-in on a match says it is not working. Log in to careteams to see it.")
    db.session.flush()
    return prompt


def _check_ins(match: Match, sides: frozenset[Side]) -> list[dict]:
    prompts = db.session.scalars(sa.select(ReviewPrompt).where(ReviewPrompt.match_id == match.id)
                                 .order_by(ReviewPrompt.after_shift)).all()
    answering = perm.side_for(Action.confirm, sides) if perm.may_take(Action.confirm, sides) else None
    views = []
    for prompt in prompts:
        view = {"after_shift": prompt.after_shift, "due_at": _iso(prompt.due_at)}
        if Side.team in sides or Side.facilitator in sides:
            view["team_answer"] = prompt.team_answer
        if Side.worker in sides or Side.facilitator in sides:
            view["worker_answer"] = prompt.worker_answer
        if answering is not None:
            view["your_answer"] = prompt.team_answer if answering == Side.team else prompt.worker_answer
        views.append(view)
    return views


# --- what each side sees of a match ---------------------------------------------------------


def view_match(actor: Actor, match_id: int) -> dict:
    """A match as the actor may see it (private notes and contact details by side)."""
    match, sides, access = _visible_match(actor, match_id)
    return match_view(match, sides, team_side_viewer=perm.can_view_team_vacancies(access))


def match_view(match: Match, sides: frozenset[Side], team_side_viewer: bool = False) -> dict:
    mutual = match.state in rules.MUTUAL_STATES
    skills = vacancy_skills([match.vacancy_id])[match.vacancy_id]
    view = {
        "id": match.id, "state": match.state.value, "started_by": match.started_by.value,
        "vacancy_id": match.vacancy_id, "held": match.held, "introduction_on": _iso(match.introduction_on),
        "shifts": [s.worked_on.isoformat() for s in match.shifts], "created_at": _iso(match.created_at),
        "team_confirmed": match.team_confirmed_at is not None, "worker_confirmed": match.worker_confirmed_at is not None,
        "mutual": mutual, "vacancy": _vacancy_summary(match.vacancy, skills, mutual),
        # Both sides are asked whether it is working after these shifts.
        "reviews_due": sorted(db.session.scalars(sa.select(ReviewPrompt.after_shift)
                                                 .where(ReviewPrompt.match_id == match.id))),
        "check_ins": _check_ins(match, sides),
    }
    if Side.team in sides or team_side_viewer or Side.facilitator in sides:
        view["worker"] = worker_summary(match.cooperative_id, match.worker_id, match.vacancy, mutual)
    if Side.team in sides or team_side_viewer:
        view["team_note"] = match.team_note
    if Side.worker in sides:
        view["worker_note"] = match.worker_note
    if Side.facilitator in sides:
        view["hold_note"] = match.hold_note
    view["can"] = sorted(a.value for a in _possible_actions(match, sides))
    return view


def _possible_actions(match: Match, sides: frozenset[Side]) -> set[Action]:
    settings_review = matching_settings(match.cooperative_id).review_required
    facts = _facts(match, settings_review)
    possible = set()
    for action in Action:
        if not perm.may_take(action, sides):
            continue
        try:
            rules.next_state(facts, action, perm.side_for(action, sides))
        except IllegalTransition:
            continue
        possible.add(action)
    return possible


def worker_summary(coop_id: int, person_id: int, vacancy: Vacancy, mutual: bool) -> dict:
    """What the team side sees of a worker: first name and fit; contact only once mutual."""
    profile = _profile_of(coop_id, person_id)
    person = db.session.get(Person, person_id)
    summary = {"person_id": person_id, "first_name": person.first_name}
    if profile is not None:
        km = rules.haversine_km(vacancy.latitude, vacancy.longitude, profile.latitude, profile.longitude)
        summary.update(skills=[s.name for s in profile.skills], languages=list(profile.languages),
                       interests=list(profile.interests), distance_band=rules.distance_band(km))
    if mutual:
        summary.update(name=person.name, email=person.email, phone=person.phone)
        if profile is not None:
            summary.update(employment_type=profile.employment_type.value, hourly_rate_pence=profile.hourly_rate_pence)
    return summary


def list_vacancy_matches(actor: Actor, vacancy_id: int) -> list[dict]:
    """The matches on a vacancy (the team side and facilitators)."""
    vacancy, access = _vacancy_and_access(actor, vacancy_id)
    ensure(perm.can_view_team_vacancies(access), not_found=True)
    matches = db.session.scalars(sa.select(Match).where(Match.vacancy_id == vacancy.id).order_by(Match.id)).all()
    return [match_view(m, _sides(actor, m, access), team_side_viewer=True) for m in matches]


def list_my_matches(actor: Actor, coop: Cooperative) -> list[dict]:
    """The worker's own matches in a co-op."""
    matches = db.session.scalars(sa.select(Match).where(Match.cooperative_id == coop.id, Match.worker_id == actor.person_id)
                                 .order_by(Match.id.desc())).all()
    return [match_view(m, frozenset({Side.worker})) for m in matches]


# --- facilitators ----------------------------------------------------------------------------


def facilitator_queue(actor: Actor, coop: Cooperative, now: datetime | None = None) -> dict:
    """What needs a facilitator: reviews, stalled introductions, vacancies nobody fits, expiring checks."""
    ensure(perm.can_view_queue(actor, coop.id))
    now = now or utcnow()
    settings = matching_settings(coop.id)
    in_review = db.session.scalars(sa.select(Match).where(Match.cooperative_id == coop.id,
                                                          Match.state == MatchState.review).order_by(Match.mutual_at)).all()
    stale_before = now - timedelta(days=settings.introduction_stale_days)
    stalled = db.session.scalars(sa.select(Match).where(
        Match.cooperative_id == coop.id, Match.state == MatchState.introduction,
        Match.approved_at <= stale_before).order_by(Match.approved_at)).all()
    held = db.session.scalars(sa.select(Match).where(Match.cooperative_id == coop.id, Match.held.is_(True))).all()
    not_working = rules.CheckInAnswer.not_working.value
    troubled = db.session.scalars(sa.select(Match).where(
        Match.cooperative_id == coop.id, Match.state.in_(rules.OPEN_STATES | {MatchState.active}),
        sa.exists().where(ReviewPrompt.match_id == Match.id,
                          sa.or_(ReviewPrompt.team_answer == not_working, ReviewPrompt.worker_answer == not_working)))
        .order_by(Match.id)).all()
    open_vacancies = db.session.scalars(sa.select(Vacancy).where(
        Vacancy.cooperative_id == coop.id, Vacancy.status == VacancyStatus.open,
        ~sa.exists().where(Match.vacancy_id == Vacancy.id, Match.state.in_(rules.OPEN_STATES)))).all()
    lonely = [v for v in open_vacancies if not rank_candidates(v, now, limit=1)]
    today = _today(now, coop.id)
    until = today + timedelta(days=settings.check_warning_days)
    expiring = db.session.execute(
        sa.select(WorkerCheck, Person).join(WorkerProfile, WorkerProfile.id == WorkerCheck.worker_profile_id)
        .join(Person, Person.id == WorkerProfile.person_id)
        .where(WorkerProfile.cooperative_id == coop.id, WorkerCheck.expires_on.is_not(None), WorkerCheck.expires_on <= until)
        .order_by(WorkerCheck.expires_on)).all()
    sides = frozenset({Side.facilitator})
    return {
        "in_review": [match_view(m, sides) for m in in_review],
        "stalled_introductions": [match_view(m, sides) for m in stalled],
        "held": [match_view(m, sides) for m in held],
        "check_ins_not_working": [match_view(m, sides) for m in troubled],
        "vacancies_without_candidates": [{"id": v.id, "team_id": v.team_id, "district": v.district,
                                          "created_at": _iso(v.created_at)} for v in lonely],
        "expiring_checks": [{"person_id": p.id, "name": p.name, "kind": c.kind.value, "item": c.name,
                             "expires_on": _iso(c.expires_on), "expired": c.expires_on <= today} for c, p in expiring],
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
    mutual = sum(counts.values())
    joins = db.session.execute(sa.select(Vacancy.created_at, Match.joined_at).join(Vacancy, Vacancy.id == Match.vacancy_id)
                               .where(Match.cooperative_id == coop.id, Match.joined_at.is_not(None))).all()
    days = [(joined - created).total_seconds() / 86400 for created, joined in joins]
    return {"mutual_matches_decided": mutual, "became_active": counts.get(MatchState.active, 0),
            "success_percent": rules.success_share(mutual, counts.get(MatchState.active, 0)),
            "median_days_vacancy_to_join": rules.median_days(days), "joins": len(days)}


# --- notifications ---------------------------------------------------------------------------


def notify_person(person_id: int, body: str, match: Match | None = None, cooperative_id: int | None = None) -> None:
    """Record a notification for the web and send it by the person's channel."""
    # The text never says anything about anybody's health or plan.
    db.session.add(Notification(person_id=person_id, match_id=match.id if match else None,
                                vacancy_id=match.vacancy_id if match else None, body=body))
    person = db.session.get(Person, person_id)
    if person is None or not person.active:
        return
    coop_id = match.cooperative_id if match else cooperative_id
    if person.preferred_channel == ContactChannel.sms and person.phone:
        coop = db.session.get(Cooperative, coop_id) if coop_id else None
        notify.queue(notify.Text(to=person.phone, body=body, from_number=coop.sms_number if coop else None))
    elif person.email:
        notify.queue(notify.Email(to=person.email, subject="careteams: news about a match", body=body))


def _team_side_people(team: Team, now: datetime | None = None) -> set[int]:
    now = now or utcnow()
    people = {team.leader_id}
    for hat in db.session.scalars(sa.select(Hat).where(Hat.team_id == team.id, Hat.status == HatStatus.accepted)):
        if hat.in_force(now) and TeamPermission.answer_matches.value in hat.hat_type.permissions:
            people.add(hat.person_id)
    return people


def _notify_worker(match: Match, body: str) -> None:
    notify_person(match.worker_id, body, match)


def _notify_team(match: Match, body: str) -> None:
    for person_id in sorted(_team_side_people(match.vacancy.team)):
        notify_person(person_id, body, match)


def _notify_both(match: Match, body: str) -> None:
    _notify_worker(match, body)
    _notify_team(match, body)


def _notify_other(match: Match, side: Side, body: str) -> None:
    if side == Side.worker:
        _notify_team(match, body)
    elif side == Side.team:
        _notify_worker(match, body)


def _notify_facilitators(match: Match, body: str) -> None:
    for person_id in db.session.scalars(sa.select(StaffRole.person_id).where(
            StaffRole.cooperative_id == match.cooperative_id, StaffRole.role == StaffRoleName.facilitator)):
        notify_person(person_id, body, match)


def list_notifications(actor: Actor, limit: int = 50) -> list[Notification]:
    """The actor's own matching notifications, newest first."""
    return list(db.session.scalars(sa.select(Notification).where(Notification.person_id == actor.person_id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_notification_read(actor: Actor, notification_id: int, now: datetime | None = None) -> Notification:
    """Mark one of the actor's notifications read."""
    found = db.session.get(Notification, notification_id)
    if found is None or found.person_id != actor.person_id:
        raise NotFound("No such notification.")
    found.read_at = found.read_at or now or utcnow()
    db.session.flush()
    return found
