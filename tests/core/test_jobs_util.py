"""The per-item runner every clock job uses: one poison item is rolled back alone and said once."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.extensions import db
from careteams.jobs_util import failure_notice, run_each
from careteams.matching.models import Notification
from careteams.members.models import Person
from tests.factories import CooperativeFactory, PersonFactory, StaffRoleFactory


def test_a_poison_item_is_rolled_back_alone_logged_and_said_once(app, caplog):
    coop = CooperativeFactory()
    facilitator = PersonFactory()
    StaffRoleFactory(cooperative=coop, person=facilitator)
    people = [PersonFactory(name=f"P{i}") for i in range(3)]
    ids = [p.id for p in people]

    def rename(person_id):
        db.session.get(Person, person_id).name = "renamed"
        db.session.flush()
        if person_id == ids[1]:
            raise RuntimeError("poison")
        return person_id

    for _ in range(2):  # a second run (the clock retries) does not tell anybody again
        result = run_each("test.rename", ids, rename, cooperative=lambda _item: coop.id)
        assert result.done == [ids[0], ids[2]]
        assert result.failed == [str(ids[1])]
    db.session.expire_all()
    assert [db.session.get(Person, i).name for i in ids] == ["renamed", "P1", "renamed"]
    notices = db.session.scalars(sa.select(Notification.body).where(Notification.person_id == facilitator.id)).all()
    assert notices == [failure_notice("test.rename", str(ids[1]))]
    assert "test.rename: item" in caplog.text
