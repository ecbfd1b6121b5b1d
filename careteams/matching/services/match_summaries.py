"""What each side sees of a match: private notes and contact details by side."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.errors import ensure
from careteams.extensions import db
from careteams.matching import permissions as perm
from careteams.matching import rules
from careteams.matching.models import Match, ReviewPrompt, Side, Vacancy
from careteams.matching.rules import Action, IllegalTransition
from careteams.matching.services.check_ins import check_in_views
from careteams.matching.services.common import iso, profile_of
from careteams.matching.services.matches import match_facts, sides_of, visible_match
from careteams.matching.services.settings import matching_settings
from careteams.matching.services.vacancies import (
    vacancy_and_access,
    vacancy_skills,
    vacancy_summary,
)
from careteams.members.models import Cooperative, Person
from careteams.members.permissions import Actor


def view_match(actor: Actor, match_id: int) -> dict:
    """A match as the actor may see it (private notes and contact details by side)."""
    match, sides, access = visible_match(actor, match_id)
    return match_view(match, sides, team_side_viewer=perm.can_view_team_vacancies(access), actor=actor,
                      team_note_reader=perm.can_read_team_note(access))


def match_view(match: Match, sides: frozenset[Side], team_side_viewer: bool = False, actor: Actor | None = None,
               team_note_reader: bool = False) -> dict:
    """`sides`: what the reader acts for; `team_side_viewer`: may see the team's side of it (facilitators too);
    `team_note_reader`: may read the team's private note (the team side only, never a facilitator as such)."""
    mutual = match.state in rules.MUTUAL_STATES
    skills = vacancy_skills([match.vacancy_id])[match.vacancy_id]
    view = {
        "id": match.id, "state": match.state.value, "state_words": rules.match_state_words(match.state),
        "started_by": match.started_by.value,
        "vacancy_id": match.vacancy_id, "held": match.held, "introduction_on": iso(match.introduction_on),
        "shifts": [s.worked_on.isoformat() for s in match.shifts], "created_at": iso(match.created_at),
        "team_confirmed": match.team_confirmed_at is not None, "worker_confirmed": match.worker_confirmed_at is not None,
        "mutual": mutual, "vacancy": vacancy_summary(match.vacancy, skills, mutual),
        # Both sides are asked whether it is working after these shifts.
        "reviews_due": sorted(db.session.scalars(sa.select(ReviewPrompt.after_shift)
                                                 .where(ReviewPrompt.match_id == match.id))),
        "check_ins": check_in_views(match, sides),
    }
    # Who reads decides the page's wording: the worker, the team side, or a facilitator as such.
    if Side.worker in sides:
        view["reader"] = Side.worker.value
    elif Side.facilitator in sides and not (Side.team in sides or team_note_reader):
        view["reader"] = Side.facilitator.value
    else:
        view["reader"] = Side.team.value
    if Side.team in sides or team_side_viewer or Side.facilitator in sides:
        view["worker"] = worker_summary(match.cooperative_id, match.worker_id, match.vacancy, mutual)
    if Side.team in sides or team_note_reader:
        view["team_note"] = match.team_note
    if Side.worker in sides:
        view["worker_note"] = match.worker_note
    if Side.facilitator in sides:
        view["hold_note"] = match.hold_note
    possible = _possible_actions(match, sides)
    if actor is not None and not perm.can_review_match(actor, match.cooperative_id, match.team_answered_by_id,
                                                       match.worker_id):
        # Separation of duties: whoever answered the match is not offered its review.
        possible -= perm.REVIEW_ACTIONS
        if Side.facilitator in sides:
            view["reviewed_by_another"] = True
    view["can"] = sorted(a.value for a in possible)
    return view


def _possible_actions(match: Match, sides: frozenset[Side]) -> set[Action]:
    settings_review = matching_settings(match.cooperative_id).review_required
    facts = match_facts(match, settings_review)
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
    profile = profile_of(coop_id, person_id)
    person = db.session.get(Person, person_id)
    summary = {"person_id": person_id, "first_name": person.first_name}
    if profile is not None:
        points = (vacancy.latitude, vacancy.longitude, profile.latitude, profile.longitude)
        # A place still waiting for the geocoder has no distance yet (never a made-up one).
        band = rules.distance_band(rules.haversine_km(*points)) if None not in points else "not known yet"
        summary.update(skills=[s.name for s in profile.skills], languages=list(profile.languages),
                       interests=list(profile.interests), distance_band=band)
    if mutual:
        summary.update(name=person.name, email=person.email, phone=person.phone)
        if profile is not None:
            summary.update(employment_type=profile.employment_type.value, hourly_rate_pence=profile.hourly_rate_pence)
    return summary


def list_vacancy_matches(actor: Actor, vacancy_id: int) -> list[dict]:
    """The matches on a vacancy (the team side and facilitators)."""
    vacancy, access = vacancy_and_access(actor, vacancy_id)
    ensure(perm.can_view_team_vacancies(access), not_found=True)
    matches = db.session.scalars(sa.select(Match).where(Match.vacancy_id == vacancy.id).order_by(Match.id)).all()
    return [match_view(m, sides_of(actor, m, access), team_side_viewer=True, actor=actor,
                       team_note_reader=perm.can_read_team_note(access)) for m in matches]


def list_my_matches(actor: Actor, coop: Cooperative) -> list[dict]:
    """The worker's own matches in a co-op."""
    matches = db.session.scalars(sa.select(Match).where(Match.cooperative_id == coop.id, Match.worker_id == actor.person_id)
                                 .order_by(Match.id.desc())).all()
    return [match_view(m, frozenset({Side.worker})) for m in matches]
