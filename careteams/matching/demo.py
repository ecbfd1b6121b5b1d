"""Demo matching data: the co-op's skill list, worker profiles for the demo
workers, one open vacancy in Ann's team with suggestions, and two matches in review.

Idempotent: each piece is looked up before it is made.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.demo import DEMO_STEPS
from careteams.extensions import db
from careteams.geo import demo_place
from careteams.matching.models import (
    AvailabilityWindow,
    CheckKind,
    EmploymentType,
    Match,
    MatchingSettings,
    Skill,
    Vacancy,
    VacancyStatus,
    WorkerCheck,
    WorkerProfile,
)
from careteams.matching.rules import Action, parse_windows
from careteams.matching.services.matches import act_on_match, invite_worker
from careteams.matching.services.suggestions import suggest_candidates
from careteams.matching.services.vacancies import post_vacancy
from careteams.members.models import Cooperative, Person
from careteams.members.services import actor_for
from careteams.teams.models import Team

SKILLS = ("Personal care", "Medication support", "Dementia", "Learning disability", "Moving and handling",
          "Driving", "Cooking", "Companionship")

# Hebden Bridge and around. (key, postcode (its point: careteams/geo.py's fixed table), travel km, employment, rate pence, skills, languages, interests,
# windows, DBS expiry offset in days: negative = expired)
WORKERS = [
    ("wendy", "HX7 8AD", 8, EmploymentType.independent, 1450, ("Personal care", "Cooking", "Companionship"),
     ("English",), ("gardening", "baking"), ("Monday 07:30-12:00", "Wednesday 07:30-12:00", "Friday 07:30-12:00"), 400),
    ("will", "HX7 5AA", 12, EmploymentType.employed, None, ("Personal care", "Driving", "Moving and handling"),
     ("English", "Welsh"), ("football", "gardening"), ("Monday 08:00-16:00", "Tuesday 08:00-16:00"), 300),
    ("xena", "HX7 6AB", 10, EmploymentType.independent, 1500, ("Personal care", "Dementia"),
     ("English",), ("music",), ("Monday 08:00-11:00", "Wednesday 08:00-11:00"), -20),  # DBS expired: never suggested
    ("yusuf", "HX7 7AA", 20, EmploymentType.independent, 1400, ("Personal care", "Medication support"),
     ("English", "Urdu", "Punjabi"), ("cricket", "cooking"), ("Wednesday 08:00-14:00", "Saturday 09:00-13:00"), 500),
    ("zoe", "HX7 8BA", 5, EmploymentType.employed, None, ("Companionship", "Cooking"),
     ("English",), ("films", "walking"), ("Tuesday 13:00-18:00", "Thursday 13:00-18:00"), 250),
    ("omar", "HX7 8AE", 15, EmploymentType.independent, 1550, ("Personal care", "Learning disability", "Driving"),
     ("English", "Arabic"), ("gardening", "chess"), ("Monday 06:00-10:00", "Thursday 06:00-10:00"), 600),
    ("priya", "HX7 5AB", 25, EmploymentType.independent, 1600, ("Personal care", "Medication support", "Cooking"),
     ("English", "Gujarati"), ("baking", "crafts"), ("Monday 09:00-15:00", "Wednesday 09:00-15:00"), 28),
    ("quinn", "HX7 6AA", 6, EmploymentType.employed, None, ("Driving", "Companionship"),
     ("English",), ("birds", "walking"), ("Saturday 10:00-16:00", "Sunday 10:00-16:00"), 700),
]

ANN_HOME = "HX7 8AB"
VACANCY_NEEDS = "Help getting up, washed and dressed, and breakfast, three mornings a week"


def _windows(lines) -> list[AvailabilityWindow]:
    return [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in parse_windows("\n".join(lines))]


def seed_matching(coop: Cooperative, people: dict[str, Person]) -> None:
    today = utcnow().date()
    if db.session.scalar(sa.select(MatchingSettings.id).where(MatchingSettings.cooperative_id == coop.id)) is None:
        db.session.add(MatchingSettings(cooperative_id=coop.id, review_required=True, required_training=[]))
    skills = {s.name: s for s in db.session.scalars(sa.select(Skill).where(Skill.cooperative_id == coop.id))}
    for name in SKILLS:
        if name not in skills:
            skills[name] = Skill(cooperative_id=coop.id, name=name)
            db.session.add(skills[name])
    db.session.flush()

    for key, postcode, km, employment, rate, skill_names, languages, interests, windows, dbs_days in WORKERS:
        person = people[key]
        if db.session.scalar(sa.select(WorkerProfile.id).where(WorkerProfile.cooperative_id == coop.id,
                                                               WorkerProfile.person_id == person.id)):
            continue
        profile = WorkerProfile(cooperative_id=coop.id, person_id=person.id, employment_type=employment,
                                hourly_rate_pence=rate, travel_km=km, **demo_place(postcode),
                                languages=list(languages), interests=list(interests),
                                opt_out_48h_signed_on=date(2026, 1, 12) if key == "will" else None)
        profile.skills = [skills[n] for n in skill_names]
        profile.windows = _windows(windows)
        profile.checks = [
            WorkerCheck(kind=CheckKind.enhanced_dbs, checked_on=today - timedelta(days=700),
                        expires_on=today + timedelta(days=dbs_days)),
            WorkerCheck(kind=CheckKind.right_to_work, checked_on=today - timedelta(days=700), expires_on=None),
            WorkerCheck(kind=CheckKind.training, name="Moving and handling", checked_on=today - timedelta(days=200),
                        expires_on=today + timedelta(days=165)),
        ]
        db.session.add(profile)
    db.session.flush()

    ann = people["ann"]
    team = db.session.scalar(sa.select(Team).where(Team.cooperative_id == coop.id, Team.leader_id == ann.id))
    if team is None:
        # The teams demo normally makes Ann's team first; make it here if it has not.
        home = demo_place(ANN_HOME)
        team = Team(cooperative_id=coop.id, leader_id=ann.id, display_name="Ann", postcode=ANN_HOME,
                    latitude=home["latitude"], longitude=home["longitude"], postcode_district=home["district"],
                    created_by_id=ann.id)
        db.session.add(team)
        db.session.flush()
    vacancy = db.session.scalar(sa.select(Vacancy).where(Vacancy.team_id == team.id, Vacancy.needs == VACANCY_NEEDS))
    if vacancy is None:
        vacancy = post_vacancy(actor_for(ann), team.id, {
            "needs": VACANCY_NEEDS, "what_matters": "Her garden, Radio 4 and a proper cup of tea",
            # The team's own place (its postcode, found in the fixed table when the team was made).
            "required_skill_ids": [skills["Personal care"].id],
            "nice_skill_ids": [skills["Cooking"].id, skills["Moving and handling"].id],
            "languages": ["English"], "interests": ["gardening", "baking"],
            "windows": [(0, 480, 600), (2, 480, 600), (4, 480, 600)],
        })
    if vacancy.status == VacancyStatus.open:
        # Record who Ann was shown, so the facilitators' report has something to count.
        suggest_candidates(actor_for(ann), vacancy.id)
    # Two matches in review, so facilitators have a queue to work through:
    # Ann invited Priya and Omar (neither has a place in her team yet), and both said yes.
    for key, team_note, worker_note in (("priya", "Lovely on the phone", "Close to home"),
                                        ("omar", "Good with the garden", "Happy to do early mornings")):
        worker = people[key]
        match = db.session.scalar(sa.select(Match).where(Match.vacancy_id == vacancy.id, Match.worker_id == worker.id))
        if match is None and vacancy.status == VacancyStatus.open:
            match = invite_worker(actor_for(ann), vacancy.id, worker.id, note=team_note)
            act_on_match(actor_for(worker), match.id, Action.answer_yes, note=worker_note)
    db.session.flush()


DEMO_STEPS.append(seed_matching)
