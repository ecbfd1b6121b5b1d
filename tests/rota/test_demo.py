"""The demo step adds a rota to the demo teams when they exist, and is idempotent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from careteams.extensions import db
from careteams.rota.demo import seed_rota
from careteams.rota.models import Offer, Shift, ShiftSeries, ShiftStatus
from tests.rota.conftest import add_member, make_team


def test_demo_step_skips_without_teams_and_is_idempotent(world):
    seed_rota(world.coop, {})  # no demo people: nothing to do
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 0
    team = make_team(world.coop, name="Demo")
    add_member(team, world.worker)
    seed_rota(world.coop, {"ann": team.leader})
    first = db.session.scalar(sa.select(sa.func.count()).select_from(Shift))
    assert first > 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShiftSeries)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift).where(Shift.status == ShiftStatus.booked)) == 1
    open_offers = db.session.scalars(sa.select(Offer).where(Offer.status == "open")).all()
    assert len(open_offers) == 3
    # Open for a week (or until the shift starts), so the demo can answer them tomorrow.
    assert all(o.expires_at >= min(o.sent_at + timedelta(days=7), o.shift.starts_at) for o in open_offers)
    # One visit the clock passed to the facilitators, with no offer open (Fran acts on it).
    [escalated] = db.session.scalars(sa.select(Shift).where(Shift.escalation_level == 2)).all()
    assert escalated.status == ShiftStatus.offered and not escalated.booked_person_id
    assert not any(o.shift_id == escalated.id for o in open_offers)
    seed_rota(world.coop, {"ann": team.leader})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == first
