"""The demo seed: idempotent, people in every class and role, every login works."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.auth.services import authenticate
from careteams.demo import seed
from careteams.extensions import db
from careteams.members.models import MemberClass, Membership, Person, StaffRole, StaffRoleName


def test_seed_is_idempotent_and_every_login_works(app):
    with app.test_request_context():
        first = seed()
        people_after_first = db.session.scalar(sa.select(sa.func.count()).select_from(Person))
        second = seed()
    assert first == second
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == people_after_first
    for _label, email in first["people"]:
        assert authenticate(email, first["password"]).email == email

    classes = db.session.execute(sa.select(Membership.member_class, sa.func.count()).group_by(Membership.member_class)).all()
    counts = {c: n for c, n in classes}
    assert counts[MemberClass.supported] >= 3 and counts[MemberClass.worker] >= 8
    assert counts[MemberClass.advocate] >= 2 and counts[MemberClass.investor] >= 2
    roles = set(db.session.scalars(sa.select(StaffRole.role)))
    assert {StaffRoleName.facilitator, StaffRoleName.secretary, StaffRoleName.admin} <= roles
