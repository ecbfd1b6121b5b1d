"""Both sides acting on one match at the same moment (PostgreSQL, real connections)."""

from __future__ import annotations

import threading
from datetime import date

import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import Match, MatchState
from careteams.matching.rules import Action
from careteams.matching.services.matches import act_on_match, invite_worker
from careteams.matching.services.vacancies import post_vacancy
from careteams.members.models import MemberClass, Person
from careteams.members.services import actor_for
from careteams.teams.models import Team, TeamMember, TeamMemberStatus
from tests.conftest import requires_postgres
from tests.factories import CooperativeFactory, MembershipFactory, PersonFactory, StaffRoleFactory
from tests.matching.conftest import HOME, NOW, make_worker


def test_simultaneous_confirmations_make_the_worker_active(committed_app, database_url):
    requires_postgres(database_url)
    with committed_app.app_context():
        coop = CooperativeFactory()
        leader = PersonFactory(name="Ann Baker")
        MembershipFactory(cooperative=coop, person=leader, member_class=MemberClass.supported)
        facilitator = StaffRoleFactory(cooperative=coop).person
        team = Team(cooperative_id=coop.id, leader_id=leader.id, display_name="Ann", latitude=HOME[0],
                    longitude=HOME[1], postcode_district="HX7")
        db.session.add(team)
        db.session.flush()
        worker = make_worker(coop)
        vacancy = post_vacancy(actor_for(leader), team.id, {"needs": "Mornings", "windows": [(0, 480, 660)]})
        match = invite_worker(actor_for(leader), vacancy.id, worker.id, now=NOW)
        act_on_match(actor_for(worker), match.id, Action.answer_yes, now=NOW)
        act_on_match(actor_for(facilitator), match.id, Action.approve, now=NOW)
        act_on_match(actor_for(leader), match.id, Action.record_introduction, on=date(2026, 11, 20), now=NOW)
        act_on_match(actor_for(worker), match.id, Action.start_trial, now=NOW)
        act_on_match(actor_for(worker), match.id, Action.record_shift, on=date(2026, 11, 21), now=NOW)
        db.session.commit()
        ids = {"match": match.id, "leader": leader.id, "worker": worker.id, "team": team.id}

    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def confirm(person_key: str) -> None:
        with committed_app.app_context():
            person = db.session.get(Person, ids[person_key])
            actor = actor_for(person)
            barrier.wait()
            try:
                act_on_match(actor, ids["match"], Action.confirm, now=NOW)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(key,)) for key in ("leader", "worker")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with committed_app.app_context():
        match = db.session.get(Match, ids["match"])
        assert match.state == MatchState.active
        assert match.team_confirmed_at and match.worker_confirmed_at
        status = db.session.scalar(sa.select(TeamMember.status).where(TeamMember.team_id == ids["team"],
                                                                       TeamMember.person_id == ids["worker"]))
        assert status == TeamMemberStatus.active
