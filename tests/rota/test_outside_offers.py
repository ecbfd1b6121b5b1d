"""Outside offers go as a wave to the co-op's eligible workers, chosen by the rota's rules
(issue 14): never to ids the caller picks, never to another co-op's workers, and the answer
says only how many were offered. Consent per shift stays required; acceptance re-checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.matching.models import CheckKind, WorkerCheck
from careteams.members.models import Membership, MembershipStatus
from careteams.members.services import actor_for
from careteams.rota.models import Offer, Shift, ShiftStatus
from careteams.rota.services.offers import accept_offer, consent_outside_offer, offer_outside
from careteams.rota.services.settings import settings_for
from careteams.teams.models import TeamMemberStatus
from tests.factories import MembershipFactory, PersonFactory, make_worker_profile
from tests.rota.conftest import MONDAY, add_member, make_shift

URL = "/api/v1/shifts/{}/outside-offers"


def coop_worker(coop, name, *, km_north: float = 1.0, membership=MembershipStatus.active, **profile):
    """A worker member of `coop` outside the team, living `km_north` of the team's place."""
    person = PersonFactory(name=name)
    MembershipFactory(cooperative=coop, person=person, status=membership)
    make_worker_profile(person, coop.id, lat=53.6458 + km_north / 111.2, lon=-1.7850, **profile)
    return person


def wave_size(coop, n: int) -> None:
    settings = settings_for(coop.id)
    settings.offer_wave_size = n
    db.session.add(settings)
    db.session.flush()


def offered_ids(shift) -> set[int]:
    return set(db.session.scalars(sa.select(Offer.person_id).where(Offer.shift_id == shift.id)))


def consented_shift(world, skills=()) -> Shift:
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    shift.required_skills = list(skills)
    consent_outside_offer(actor_for(world.leader), shift.id)
    return shift


def post(client, shift, headers, body=None):
    db.session.commit()
    response = client.post(URL.format(shift.id), headers=headers, json={} if body is None else body)
    db.session.expire_all()
    return response


# --- who is offered --------------------------------------------------------------


def test_another_coops_worker_is_never_offered(world, client, auth_headers):
    near = coop_worker(world.coop, "Nia Near")
    # A worker of another co-op, living next door, with valid checks there and here-less.
    other = coop_worker(world.other_coop, "Oona Othercoop", km_north=0.1)
    # Even a profile in this co-op does not help without a membership here.
    make_worker_profile(PersonFactory(name="Pat Profileonly"), world.coop.id)
    shift = consented_shift(world)
    response = post(client, shift, auth_headers(world.leader))
    assert response.status_code == 201
    assert offered_ids(shift) == {near.id}
    assert other.id not in offered_ids(shift)


def test_only_eligible_coop_workers_are_offered(world):
    shift = consented_shift(world)
    ok = coop_worker(world.coop, "Olga Ok")
    expired = coop_worker(world.coop, "Eddie Expired", dbs_expires=date(2026, 12, 20))
    unavailable = coop_worker(world.coop, "Una Unavailable")
    unavailable_profile = make_worker_profile(unavailable, world.coop.id)
    unavailable_profile.available = False
    applicant = coop_worker(world.coop, "Abe Applicant", membership=MembershipStatus.applicant)
    left = coop_worker(world.coop, "Lou Left", membership=MembershipStatus.left)
    busy = coop_worker(world.coop, "Bea Busy")
    make_shift(world.other_team, shift.starts_at, status=ShiftStatus.booked, person=busy)
    invited = coop_worker(world.coop, "Ivy Invited")
    add_member(world.team, invited, TeamMemberStatus.invited)
    # The team's own workers are offered by the team's waves, not as outsiders.
    MembershipFactory(cooperative=world.coop, person=world.worker)
    db.session.flush()
    sent = offer_outside(actor_for(world.wrangler), shift.id)
    assert offered_ids(shift) == {ok.id}
    assert sent == 1
    assert {expired.id, unavailable.id, applicant.id, left.id, busy.id, invited.id, world.worker.id}.isdisjoint(
        offered_ids(shift))
    assert all(o.outside_team for o in db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id)))


def test_a_missing_skill_is_not_offered(world):
    shift = consented_shift(world, ["Hoist"])
    coop_worker(world.coop, "Nina Noskill")
    assert offer_outside(actor_for(world.leader), shift.id) == 0
    assert offered_ids(shift) == set()


def test_waves_follow_the_coops_setting_nearest_first_and_never_repeat(world):
    wave_size(world.coop, 2)
    far = coop_worker(world.coop, "Fay Far", km_north=9)
    near = coop_worker(world.coop, "Ned Near", km_north=1)
    middle = coop_worker(world.coop, "Mo Middle", km_north=4)
    shift = consented_shift(world)
    assert offer_outside(actor_for(world.leader), shift.id) == 2
    assert offered_ids(shift) == {near.id, middle.id}
    assert offer_outside(actor_for(world.leader), shift.id) == 1
    assert offered_ids(shift) == {near.id, middle.id, far.id}
    assert offer_outside(actor_for(world.leader), shift.id) == 0
    waves = dict(db.session.execute(sa.select(Offer.person_id, Offer.wave).where(Offer.shift_id == shift.id)).all())
    assert waves[near.id] == waves[middle.id] < waves[far.id]


# --- what the caller may send, and what the answer says ---------------------------


def test_caller_chosen_ids_are_refused_422(world, client, auth_headers):
    chosen = coop_worker(world.coop, "Chloe Chosen")
    shift = consented_shift(world)
    response = post(client, shift, auth_headers(world.leader), {"person_ids": [chosen.id]})
    assert response.status_code == 422
    assert "person_ids" in str(response.json["error"]["details"])
    assert offered_ids(shift) == set()


def test_the_answer_reveals_nothing_about_anyone(world, client, auth_headers):
    found = coop_worker(world.coop, "Fiona Found")
    coop_worker(world.coop, "Xena Expired", dbs_expires=date(2026, 12, 2))
    shift = consented_shift(world)
    response = post(client, shift, auth_headers(world.leader))
    assert response.status_code == 201
    assert response.json == {"offered": 1}
    # The team does not see who was offered until someone accepts.
    rota = client.get(f"/api/v1/teams/{world.team.id}/rota?week=2027-01-04", headers=auth_headers(world.leader))
    assert "Fiona" not in rota.get_data(as_text=True)
    offer = db.session.scalar(sa.select(Offer).where(Offer.shift_id == shift.id))
    assert accept_offer(found, offer.id).outcome == "booked"
    db.session.commit()
    rota = client.get(f"/api/v1/teams/{world.team.id}/rota?week=2027-01-04", headers=auth_headers(world.leader))
    assert "Fiona Found" in rota.get_data(as_text=True)


def test_consent_is_still_needed(world, client, auth_headers):
    coop_worker(world.coop, "Cora Coop")
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    response = post(client, shift, auth_headers(world.wrangler))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "outside_consent_needed"
    assert offered_ids(shift) == set()


# --- acceptance re-checks ---------------------------------------------------------


def _offer_to(world, person):
    shift = consented_shift(world)
    assert offer_outside(actor_for(world.leader), shift.id) == 1
    return shift, db.session.scalar(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.person_id == person.id))


def test_a_check_that_expired_before_acceptance_is_refused(world):
    person = coop_worker(world.coop, "Kit Checks")
    shift, offer = _offer_to(world, person)
    profile = make_worker_profile(person, world.coop.id)
    profile.checks = [c for c in profile.checks if c.kind != CheckKind.enhanced_dbs] + [
        WorkerCheck(kind=CheckKind.enhanced_dbs, checked_on=date(2020, 1, 1), expires_on=date(2026, 12, 31))]
    db.session.flush()
    result = accept_offer(person, offer.id)
    assert result.outcome == "not_eligible"
    assert db.session.get(Shift, shift.id).booked_person_id is None


def test_leaving_the_coop_before_acceptance_is_refused(world):
    person = coop_worker(world.coop, "Lena Leaving")
    shift, offer = _offer_to(world, person)
    for membership in db.session.scalars(sa.select(Membership).where(Membership.person_id == person.id)):
        membership.status = MembershipStatus.left
    db.session.flush()
    assert accept_offer(person, offer.id).outcome == "not_eligible"
    assert db.session.get(Shift, shift.id).booked_person_id is None


def test_an_eligible_worker_accepts_and_books(world):
    person = coop_worker(world.coop, "Ada Accepts")
    shift, offer = _offer_to(world, person)
    assert accept_offer(person, offer.id).outcome == "booked"
    assert db.session.get(Shift, shift.id).booked_person_id == person.id


# --- who may send an outside wave -------------------------------------------------

# A facilitator acts only on a visit the rota escalated to facilitators (409 before then):
# tests/rota/test_facilitator_escalation.py.
MATRIX = {"leader": 201, "wrangler": 201, "circle": 403, "facilitator": 409, "worker": 403, "trial": 403,
          "other_facilitator": 404, "other_coop_worker": 404, "stranger": 404, "anonymous": 401}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_actors_matrix(world, client, auth_headers, who):
    coop_worker(world.coop, "Mat Matrix")
    shift = consented_shift(world)
    if who == "anonymous":
        headers = {}
    elif who == "other_coop_worker":
        headers = auth_headers(coop_worker(world.other_coop, "Oz Other"))
    else:
        headers = auth_headers(getattr(world, who))
    response = post(client, shift, headers)
    assert response.status_code == MATRIX[who]
    assert len(offered_ids(shift)) == (1 if MATRIX[who] == 201 else 0)
    if MATRIX[who] != 201:
        assert "offered" not in response.json
