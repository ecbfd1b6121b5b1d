"""The demo seed gives every demo worker a profile, an open vacancy with
suggestions and two matches in review, and running it twice changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from careteams import demo
from careteams.extensions import db
from careteams.matching.models import (
    Match,
    MatchState,
    Suggestion,
    Vacancy,
    VacancyStatus,
    WorkerProfile,
)
from careteams.matching.services.suggestions import suggest_candidates
from careteams.members.models import Person
from careteams.members.services import actor_for
from careteams.teams.models import TeamMember


def counts():
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (WorkerProfile, Vacancy, Match, Suggestion)}


def test_demo_matching_data_is_complete_and_idempotent(app):
    demo.seed()
    first = counts()
    demo.seed()
    assert counts() == first
    assert first["WorkerProfile"] == 8 and first["Vacancy"] == 1 and first["Match"] == 2
    people = {p.email.split("@")[0]: p for p in db.session.scalars(sa.select(Person))}
    vacancy = db.session.scalar(sa.select(Vacancy))
    assert vacancy.status == VacancyStatus.open
    matches = db.session.scalars(sa.select(Match)).all()
    assert {m.state for m in matches} == {MatchState.review}
    assert {m.worker_id for m in matches} == {people["priya"].id, people["omar"].id}
    suggested = {r["person_id"] for r in suggest_candidates(actor_for(people["ann"]), vacancy.id)}
    # Nobody already in Ann's team is suggested for it (the teams demo put Wendy,
    # Will and Zoe there); other workers with valid checks are.
    in_team = set(db.session.scalars(sa.select(TeamMember.person_id).where(
        TeamMember.team_id == vacancy.team_id, TeamMember.status.in_(["invited", "trial", "active"]))))
    assert suggested and not (suggested & in_team)
    assert suggested <= {p.id for k, p in people.items() if k in {"will", "omar", "yusuf", "zoe", "priya", "quinn"}}
    assert people["xena"].id not in suggested  # her DBS check has expired
    assert people["wendy"].id not in suggested  # already in the team
    assert people["priya"].id not in suggested  # already matched
    assert people["omar"].id not in suggested
