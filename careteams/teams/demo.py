"""Demo teams: Ann, Bill and Cath lead teams with circles, hats, plans and workers.

Idempotent: a team that already exists is left as it is. Everything goes through
the same services (and so the same consents and audit log) as real use.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.demo import DEMO_STEPS
from careteams.extensions import db
from careteams.geo import demo_place
from careteams.members.models import Cooperative, Person
from careteams.members.services import actor_for
from careteams.teams.models import HatType, Team, TeamMember, TeamMemberStatus, TeamRole
from careteams.teams.services import circle, plans, team_members, teams
from careteams.teams.services.common import local_today

TEAMS = [
    {
        "leader": "ann", "display_name": "Ann", "postcode": "HD7 5AB",
        "created_by": "ann",
        "family": [("dana", TeamRole.family)],
        "workers": [("wendy", True), ("will", True), ("zoe", False)],
        "hats": [("dana", "Team builder"), ("dana", "Plan keeper"), ("wendy", "Hours checker")],
        "private": {
            "address": "12 Mill Lane, Slaithwaite (demo address)",
            "access_notes": "Key safe by the back door; ask Dana for the code.",
            "emergency_contacts": "Dana Baker (daughter) 07700 900104",
            "if_something_is_wrong": "Call Dana first, then the co-op's facilitator line.",
        },
        "plans": [
            ("ann", {
                "what_matters": {"text": "My garden, my cat Pepper, and a proper cup of tea.", "shared_with_trial": True},
                "outcomes": {"text": "Stay in my own home and get out to the allotment twice a week.", "shared_with_trial": True},
                "routines": {"text": "Up at 8, breakfast in the kitchen, a walk after lunch if it is dry.", "shared_with_trial": True},
                "personal_care": {"text": "Help with a shower on Monday, Wednesday and Friday mornings."},
                "communication": {"text": "I hear better on my left side. Please don't rush me.", "shared_with_trial": True},
                "risks": {"text": "Unsteady on the stairs at night: the hall light stays on."},
            }),
            ("dana", {
                "outcomes": {"text": "Stay in my own home, get out to the allotment twice a week, and see my friends at the Tuesday lunch club.",
                             "shared_with_trial": True},
            }),
        ],
    },
    {
        "leader": "bill", "display_name": "Bill", "postcode": "HD9 7AB",
        "created_by": "fran",
        "family": [("eric", TeamRole.family), ("priya", TeamRole.neighbour)],
        "workers": [("will", True), ("xena", True), ("yusuf", False)],
        "hats": [("eric", "Rota wrangler"), ("eric", "Hours checker")],
        "private": {
            "address": "3 Holme View, Holmfirth (demo address)",
            "access_notes": "Front door; ring twice and wait.",
            "emergency_contacts": "Eric Carter (son) 07700 900105",
            "if_something_is_wrong": "Call Eric.",
        },
        "plans": [
            ("bill", {
                "what_matters": {"text": "Brass band on the radio, the football results, my own chair.", "shared_with_trial": True},
                "outcomes": {"text": "Keep cooking my own tea with a bit of help.", "shared_with_trial": True},
                "routines": {"text": "Late riser: nobody before 10, please.", "shared_with_trial": True},
                "personal_care": {"text": "Help with dressing in the mornings."},
                "communication": {"text": "Straight talking, and a joke or two.", "shared_with_trial": True},
                "risks": {"text": "Diabetic: check the fridge for insulin supplies on Mondays."},
            }),
        ],
        "suggestion": ("fran", {"routines": {"text": "Late riser: nobody before 10, please. A short evening call at 8 to check the door is locked.",
                                             "shared_with_trial": True}},
                       "After the review meeting: an evening check was discussed."),
    },
    {
        "leader": "cath", "display_name": "Cath", "postcode": "HD3 4AB",
        "created_by": "cath",
        "family": [("quinn", TeamRole.volunteer)],
        "workers": [("xena", True), ("wendy", True), ("omar", True)],
        "hats": [("xena", "Rota wrangler")],
        "private": {
            "address": "Flat 5, Park Court, Outlane (demo address)",
            "access_notes": "Door code 1234 (demo).",
            "emergency_contacts": "Neighbour at flat 6.",
            "if_something_is_wrong": "Call the co-op's facilitator line.",
        },
        "plans": [
            ("cath", {
                "what_matters": {"text": "Music, crosswords and my church on Sundays.", "shared_with_trial": True},
                "outcomes": {"text": "Get to church every week.", "shared_with_trial": True},
                "routines": {"text": "Lunch at 12:30 sharp.", "shared_with_trial": True},
                "personal_care": {"text": "Help with a bath on Saturdays."},
                "communication": {"text": "I use a hearing aid; face me when you speak."},
                "risks": {"text": "Mild memory loss: write visits on the kitchen calendar."},
            }),
        ],
    },
]


def _place(postcode: str) -> dict:
    place = demo_place(postcode)
    return {"postcode": postcode, "latitude": place["latitude"], "longitude": place["longitude"]}


def seed_teams(coop: Cooperative, people: dict[str, Person]) -> None:
    """Add the demo teams once; leave existing teams alone."""
    circle.ensure_default_hat_types(coop)
    hat_types = {h.name: h for h in db.session.scalars(sa.select(HatType).where(HatType.cooperative_id == coop.id))}
    actors = {key: actor_for(person) for key, person in people.items()}
    for spec in TEAMS:
        leader = people[spec["leader"]]
        if db.session.scalar(sa.select(Team.id).where(Team.cooperative_id == coop.id, Team.leader_id == leader.id)):
            continue
        lead = actors[spec["leader"]]
        team = teams.create_team(actors[spec["created_by"]], coop, {
            "leader_id": leader.id, "display_name": spec["display_name"], **_place(spec["postcode"])})
        teams.update_private_details(lead, team.id, spec["private"])
        for key, role in spec["family"]:
            member = team_members.invite_to_team(lead, team.id, {"person_id": people[key].id, "role": role})
            team_members.answer_invitation(actors[key], member.id, accept=True)
        for key, hat_name in spec["hats"]:
            hat = circle.offer_hat(lead, team.id, {"person_id": people[key].id, "hat_type_id": hat_types[hat_name].id,
                                                "expires_at": utcnow() + timedelta(days=365)})
            circle.answer_hat(actors[key], hat.id, accept=True)
        # Hats in force change what people may do; build fresh actors' access from here.
        for key, active in spec["workers"]:
            # Seed data: workers the demo treats as already matched (in real use a paid
            # place comes only through matching, which has no demo history for these).
            today = local_today(team, utcnow())
            db.session.add(TeamMember(
                team_id=team.id, person_id=people[key].id, role=TeamRole.paid_worker,
                status=TeamMemberStatus.active if active else TeamMemberStatus.trial, invited_by_id=leader.id,
                invited_at=utcnow(), accepted_at=utcnow(), started_on=today, active_on=today if active else None))
        for author, sections in spec["plans"]:
            plans.save_plan(actors[author], team.id, sections)
        if "suggestion" in spec:
            author, sections, note = spec["suggestion"]
            plans.suggest_plan_change(actors[author], team.id, {"sections": sections, "note": note})
    db.session.flush()


DEMO_STEPS.append(seed_teams)
