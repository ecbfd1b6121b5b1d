"""Vacancies: posting, changing and reading them (in full for the team side, a summary for workers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from careteams import geo
from careteams.db import utcnow
from careteams.errors import NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import (
    Match,
    Skill,
    Vacancy,
    VacancyStatus,
    VacancyWindow,
    vacancy_skill,
)
from careteams.matching.services.common import profile_of, windows_of
from careteams.matching.services.settings import skills_by_id
from careteams.members.permissions import Actor
from careteams.teams.models import Team
from careteams.teams.permissions import TeamAccess
from careteams.teams.services import places
from careteams.teams.services.access import get_visible_team, team_access


def vacancy_and_access(actor: Actor, vacancy_id: int) -> tuple[Vacancy, TeamAccess]:
    vacancy = db.session.get(Vacancy, vacancy_id)
    if vacancy is None:
        raise NotFound("No such vacancy.")
    return vacancy, team_access(actor, vacancy.team)


def post_vacancy(actor: Actor, team_id: int, data: dict) -> Vacancy:
    """Publish a vacancy for a team (the leader, an arranger or a Team builder)."""
    team, access = get_visible_team(actor, team_id)
    ensure(perm.can_post_vacancy(access))
    skills_required = skills_by_id(team.cooperative_id, data.pop("required_skill_ids", []), "required_skill_ids")
    skills_nice = skills_by_id(team.cooperative_id, data.pop("nice_skill_ids", []), "nice_skill_ids")
    if {s.id for s in skills_required} & {s.id for s in skills_nice}:
        raise ValidationError(details={"fields": {"nice_skill_ids": ["A skill is either required or nice to have."]}})
    windows = data.pop("windows")
    postcode, latitude, longitude = data.pop("postcode", None), data.pop("latitude", None), data.pop("longitude", None)
    vacancy = Vacancy(team_id=team.id, cooperative_id=team.cooperative_id, posted_by_id=actor.person_id,
                      status=VacancyStatus.open, **data)
    if postcode or latitude is not None:
        geo.set_place(vacancy, postcode, latitude, longitude)
    elif team.postcode or team.latitude is not None:
        # Where the team is (its point as found, or its postcode still waiting for the geocoder).
        vacancy.postcode, vacancy.latitude, vacancy.longitude = team.postcode, team.latitude, team.longitude
        vacancy.geocode_pending = team.geocode_pending
    else:
        raise ValidationError("Say where the support happens.", details={"fields": {"postcode": [
            "Enter the postcode where the support happens, or give the team's postcode in its settings."]}})
    vacancy.district = (data.get("district") or (geo.district_of(vacancy.postcode) if vacancy.postcode else None)
                        or team.postcode_district)
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
    vacancy, access = vacancy_and_access(actor, vacancy_id)
    ensure(perm.can_view_team_vacancies(access), not_found=True)
    ensure(perm.can_post_vacancy(access))
    required_ids = changes.pop("required_skill_ids", None)
    nice_ids = changes.pop("nice_skill_ids", None)
    if "windows" in changes:
        vacancy.windows = [VacancyWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in changes.pop("windows")]
    if "status" in changes and changes["status"] != vacancy.status:
        vacancy.status_changed_at = utcnow()
    if any(k in changes for k in ("postcode", "latitude", "longitude")):
        geo.set_place(vacancy, changes.pop("postcode", vacancy.postcode), changes.pop("latitude", None),
                      changes.pop("longitude", None))
        if vacancy.postcode and not changes.get("district"):
            changes["district"] = geo.district_of(vacancy.postcode)
    for key, value in changes.items():
        setattr(vacancy, key, value)
    if required_ids is not None or nice_ids is not None:
        current = vacancy_skills([vacancy.id])[vacancy.id]
        required = (skills_by_id(vacancy.cooperative_id, required_ids, "required_skill_ids")
                    if required_ids is not None else current["required"])
        nice = skills_by_id(vacancy.cooperative_id, nice_ids, "nice_skill_ids") if nice_ids is not None else current["nice"]
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
    vacancy, access = vacancy_and_access(actor, vacancy_id)
    skills = vacancy_skills([vacancy.id])[vacancy.id]
    if perm.can_view_team_vacancies(access):
        return _vacancy_full(vacancy, skills, access)
    match = db.session.scalar(sa.select(Match).where(Match.vacancy_id == vacancy.id, Match.worker_id == actor.person_id))
    has_profile = profile_of(vacancy.cooperative_id, actor.person_id) is not None
    if match is None and not (has_profile and vacancy.status == VacancyStatus.open):
        raise NotFound("No such vacancy.")
    return vacancy_summary(vacancy, skills, mutual=match is not None and match.state in rules.MUTUAL_STATES)


def vacancy_summary(vacancy: Vacancy, skills: dict[str, list[Skill]], mutual: bool) -> dict:
    """What a worker sees: no name and no exact place until interest is mutual."""
    windows = windows_of(vacancy.windows)
    summary = {
        "id": vacancy.id, "status": vacancy.status.value, "district": vacancy.district,
        "place_found": vacancy.latitude is not None, "geocode_pending": vacancy.geocode_pending,
        "needs": vacancy.needs, "what_matters": vacancy.what_matters,
        "hours": [rules.format_window(w) for w in windows], "hours_per_week": rules.window_minutes(windows) / 60,
        "required_skills": [s.name for s in skills["required"]], "nice_skills": [s.name for s in skills["nice"]],
        "languages": list(vacancy.languages), "interests": list(vacancy.interests), "mutual": mutual,
    }
    if mutual:
        summary["team_name"] = vacancy.team.display_name
        summary["leader_first_name"] = vacancy.team.leader.first_name
    return summary


def _vacancy_full(vacancy: Vacancy, skills: dict[str, list[Skill]], access: TeamAccess) -> dict:
    # The place is exact only for those allowed the team's address (facilitators see an area).
    place = places.place_for(access, vacancy.latitude, vacancy.longitude)
    summary = vacancy_summary(vacancy, skills, mutual=True)
    exact = place.exact
    summary.update(team_id=vacancy.team_id, latitude=place.latitude, longitude=place.longitude,
                   postcode=vacancy.postcode if exact else None,
                   required_skill_ids=[s.id for s in skills["required"]], nice_skill_ids=[s.id for s in skills["nice"]],
                   created_at=vacancy.created_at.isoformat())
    return summary
