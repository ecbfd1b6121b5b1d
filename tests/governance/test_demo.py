"""The demo seed adds one open resolution and one closed one with results, once."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.demo import seed
from careteams.extensions import db
from careteams.governance.demo import CLOSED_TITLE, OPEN_TITLE
from careteams.governance.models import Ballot, Resolution, ResolutionStatus


def test_demo_votes_are_seeded_once(app, sms_outbox):
    seed()
    seed()
    resolutions = {r.title: r for r in db.session.scalars(sa.select(Resolution))}
    assert set(resolutions) == {OPEN_TITLE, CLOSED_TITLE}
    closed, open_ = resolutions[CLOSED_TITLE], resolutions[OPEN_TITLE]
    assert open_.status == ResolutionStatus.open and closed.status == ResolutionStatus.closed
    # Ten non-investor ballots for an option, two investors against: each weighs 5/9.
    assert closed.result["investor_weight"] == "5/9"
    assert {o["key"]: o["total"] for o in closed.result["options"]} == {"for": "6", "against": "46/9"}
    assert closed.carried is True and len(closed.result["receipts"]) == 13
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(Ballot.resolution_id == open_.id)) == 3
    assert sms_outbox == []  # past votes tell nobody anything


def test_demo_has_one_application_to_admit(app, sms_outbox):
    from careteams.governance.demo import APPLICANT
    from careteams.members.models import Membership, MembershipStatus, Person

    seed()
    seed()
    waiting = db.session.scalars(sa.select(Membership).where(Membership.status == MembershipStatus.applicant)).all()
    assert [m.person.name for m in waiting] == [APPLICANT[0]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.email == APPLICANT[1])) == 1
