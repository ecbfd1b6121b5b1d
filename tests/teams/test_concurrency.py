"""Two people saving the plan at the same moment: one version wins, the other is
told to reload, never two "version 2"s (PostgreSQL, real connections)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.models import MemberClass, StaffRoleName
from careteams.members.services import actor_for
from careteams.teams.models import HatStatus, SupportPlanVersion
from careteams.teams.services import circle, plans
from tests.conftest import requires_postgres
from tests.factories import (
    CooperativeFactory,
    HatFactory,
    MembershipFactory,
    PersonFactory,
    StaffRoleFactory,
    TeamFactory,
)


def _wait_for_a_blocked_backend(attempts: int = 200) -> None:
    with db.engine.connect() as conn:
        for _ in range(attempts):
            waiting = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar()
            # pg_stat_activity is a snapshot per transaction: end it to see changes.
            conn.commit()
            if waiting:
                return
            conn.execute(sa.text("SELECT pg_sleep(0.02)"))
            conn.commit()
    raise AssertionError("the second save never waited for the first")


@pytest.mark.postgres
@pytest.mark.concurrency
def test_simultaneous_saves_make_one_new_version(committed_app, database_url):
    requires_postgres(database_url)
    with committed_app.app_context():
        coop = CooperativeFactory()
        hats = {h.name: h for h in circle.ensure_default_hat_types(coop)}
        team = TeamFactory(cooperative=coop)
        keeper = PersonFactory()
        HatFactory(team=team, person=keeper, hat_type=hats["Plan keeper"], status=HatStatus.accepted)
        StaffRoleFactory(cooperative=coop, role=StaffRoleName.facilitator)
        MembershipFactory(cooperative=coop, person=keeper, member_class=MemberClass.advocate)
        plans.save_plan(actor_for(team.leader), team.id, {"risks": {"text": "Stairs."}})
        db.session.commit()
        team_id, leader_id, keeper_id = team.id, team.leader_id, keeper.id

    first_flushed = threading.Event()
    results: dict[str, str] = {}

    def save(name: str, person_id: int, text: str, hold: bool):
        with committed_app.app_context():
            try:
                from careteams.members.models import Person

                actor = actor_for(db.session.get(Person, person_id))
                plans.save_plan(actor, team_id, {"risks": {"text": text}})
                if hold:
                    first_flushed.set()
                    # Keep this transaction open until the other save is blocked on it.
                    _wait_for_a_blocked_backend()
                db.session.commit()
                results[name] = "saved"
            except sa.exc.IntegrityError:
                db.session.rollback()
                results[name] = "conflict"
            finally:
                if hold:
                    first_flushed.set()
                db.session.remove()

    a = threading.Thread(target=save, args=("leader", leader_id, "Rug.", True))
    a.start()
    first_flushed.wait(5)
    b = threading.Thread(target=save, args=("keeper", keeper_id, "Cat.", False))
    b.start()
    a.join(10)
    b.join(10)
    assert sorted(results.values()) == ["conflict", "saved"], results
    with committed_app.app_context():
        numbers = db.session.scalars(sa.select(SupportPlanVersion.number).where(
            SupportPlanVersion.team_id == team_id)).all()
        assert sorted(numbers) == [1, 2]
