"""Consent on every path into paid work: a volunteer, family or circle place (which the
leader gives by invitation) never makes anyone bookable, offered, or able to log paid
hours. A paid place comes only through matching (with its checks and trial), and a
direct booking checks the place's role and the worker's checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, Shift
from careteams.rota.services.offers import accept_offer, offer_shift
from careteams.teams.models import TeamMemberStatus, TeamRole
from tests.factories import PersonFactory, make_worker_profile
from tests.rota.conftest import MONDAY, add_member, make_shift
from tests.rota.test_views import ask


def _invited_and_accepted(client, auth_headers, world, person, role: str):
    """The leader invites `person` in `role` and they say yes, through the API."""
    r = ask(client, "post", f"/api/v1/teams/{world.team.id}/invitations", auth_headers(world.leader),
            json={"person_id": person.id, "role": role})
    assert r.status_code == 201, r.get_json()
    r = ask(client, "post", f"/api/v1/teams/invitations/{r.get_json()['id']}/accept", auth_headers(person))
    assert r.status_code == 200 and r.get_json()["status"] == "active"


def test_a_paid_worker_invited_as_a_volunteer_is_not_booked_offered_or_paid(world, client, auth_headers):
    """The issue's case: a co-op worker with checks (here an expired DBS) invited as a
    "volunteer" keeps what a volunteer's place allows, and no more."""
    vic = PersonFactory(name="Vic Volunteer")
    make_worker_profile(vic, world.coop.id, dbs_expires=date(2026, 6, 1))
    _invited_and_accepted(client, auth_headers, world, vic, "volunteer")
    # What the leader chose her for stays: she sees the team.
    assert ask(client, "get", f"/api/v1/teams/{world.team.id}", auth_headers(vic)).status_code == 200
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    r = ask(client, "post", f"/api/v1/shifts/{shift.id}/booking", auth_headers(world.leader), json={"person_id": vic.id})
    assert r.status_code == 422 and "person_id" in r.get_json()["error"]["details"]["fields"]
    assert db.session.get(Shift, shift.id).booked_person_id is None
    offers = offer_shift(actor_for(world.leader), shift.id)
    assert vic.id not in {o.person_id for o in offers}
    r = ask(client, "post", f"/api/v1/teams/{world.team.id}/timesheets", auth_headers(vic), json={
        "started_at": "2026-11-02T10:00:00+00:00", "ended_at": "2026-11-02T12:00:00+00:00"})
    assert r.status_code == 403


# --- permission matrix: who can be booked directly, and who can log paid hours -------------

PLACES = {
    # name: (role, status, checks valid) -> booked on an ordinary shift, on a trial shift, logs hours
    "paid_active": (TeamRole.paid_worker, TeamMemberStatus.active, True),
    "paid_trial": (TeamRole.paid_worker, TeamMemberStatus.trial, True),
    "paid_active_expired_dbs": (TeamRole.paid_worker, TeamMemberStatus.active, False),
    "volunteer": (TeamRole.volunteer, TeamMemberStatus.active, True),
    "family": (TeamRole.family, TeamMemberStatus.active, True),
    "neighbour": (TeamRole.neighbour, TeamMemberStatus.active, True),
    "peer_supporter": (TeamRole.peer_supporter, TeamMemberStatus.active, True),
    "paid_invited": (TeamRole.paid_worker, TeamMemberStatus.invited, True),
    "circle_only": (None, None, True),
    "other_team_worker": ("other", None, True),
}
BOOK = {"paid_active": 200, "paid_trial": 422, "paid_active_expired_dbs": 422}
BOOK_TRIAL = {"paid_active": 200, "paid_trial": 200, "paid_active_expired_dbs": 422}
LOG = {"paid_active": 201, "paid_trial": 201, "paid_active_expired_dbs": 201,
       "circle_only": 403, "other_team_worker": 404, "paid_invited": 404}


def _person_in_place(world, name):
    role, status, valid = PLACES[name]
    if role == "other":
        return world.other_worker
    if role is None:
        return world.circle
    person = PersonFactory()
    # Every one of them is a co-op worker with a profile: only the place differs.
    make_worker_profile(person, world.coop.id, dbs_expires=None if valid else date(2026, 6, 1))
    add_member(world.team, person, status, role)
    return person


@pytest.mark.parametrize("trial_shift", [False, True], ids=["shift", "trial_shift"])
@pytest.mark.parametrize("place", list(PLACES))
def test_matrix_direct_booking_checks_the_place_and_the_checks(world, client, auth_headers, place, trial_shift):
    person = _person_in_place(world, place)
    shift = make_shift(world.team, MONDAY + timedelta(hours=9), is_trial=trial_shift)
    r = ask(client, "post", f"/api/v1/shifts/{shift.id}/booking", auth_headers(world.leader), json={"person_id": person.id})
    expected = (BOOK_TRIAL if trial_shift else BOOK).get(place, 422)
    assert r.status_code == expected, r.get_json()
    assert (db.session.get(Shift, shift.id).booked_person_id == person.id) == (expected == 200)


@pytest.mark.parametrize("place", list(PLACES))
def test_matrix_logging_paid_hours_needs_a_paid_place(world, client, auth_headers, place):
    person = _person_in_place(world, place)
    r = ask(client, "post", f"/api/v1/teams/{world.team.id}/timesheets", auth_headers(person), json={
        "started_at": "2026-11-02T10:00:00+00:00", "ended_at": "2026-11-02T12:00:00+00:00"})
    assert r.status_code == LOG.get(place, 403), r.get_json()


@pytest.mark.parametrize("place", list(PLACES))
def test_matrix_offers_reach_only_active_paid_places(world, place):
    person = _person_in_place(world, place)
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    offered = {o.person_id for o in offer_shift(actor_for(world.leader), shift.id)}
    assert (person.id in offered) == (place == "paid_active")


@pytest.mark.parametrize("role", [TeamRole.volunteer, TeamRole.family])
def test_an_offer_left_over_from_before_cannot_be_taken_from_a_circle_place(world, role):
    """An offer made while someone held a paid place (or made by mistake) is refused once
    their place is a volunteer's or family's."""
    person = PersonFactory()
    make_worker_profile(person, world.coop.id)
    add_member(world.team, person, TeamMemberStatus.active, role)
    shift = make_shift(world.team, MONDAY + timedelta(hours=9))
    offer = Offer(shift_id=shift.id, person_id=person.id, code="123", wave=1, status=OfferStatus.open,
                  sent_at=MONDAY - timedelta(days=30), expires_at=shift.starts_at)
    db.session.add(offer)
    db.session.flush()
    result = accept_offer(person, offer.id)
    assert result.outcome == "not_eligible"
    assert db.session.get(Shift, shift.id).booked_person_id is None
