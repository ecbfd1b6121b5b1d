"""Facilitators act on a visit the rota escalated to them (issue 18): the clock passes an
unfilled visit from the team's waves to the circle and then to the co-op's facilitators; a
facilitator of the team's co-op offers it to eligible workers of the co-op outside the team
(the escalation stands in for the team's consent, for this visit alone); a worker who says
yes, by text or on the website, is booked by the offer's own accept path. Both steps are in
the team's audit and told to the leader, with no health details. Facilitators never book
anyone directly; another co-op's facilitators see nothing (404); members without the role
are refused (403); a visit not escalated, or already waiting for answers, is a 409."""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, Shift, ShiftStatus
from careteams.rota.services.offers import expire_and_escalate, offer_shift, send_outside_wave
from careteams.sms import services as sms
from careteams.sms.models import OutboundMessage, WebNotice
from careteams.teams.models import AuditEntry
from tests.rota.conftest import CLOCK, MONDAY, make_shift
from tests.rota.test_outside_offers import coop_worker

API = "/api/v1/shifts/{}/outside-offers"
HEALTH = "Insulin before breakfast"  # what the visit is for: never in a notice or the audit


def visit_url(shift) -> str:
    return f"/teams/{shift.team_id}/rota/visits/{shift.id}"


def escalate(world, shift) -> Shift:
    """Run the rota's clock until it passes the visit to the co-op's facilitators: the
    team's waves expire unanswered, the circle is told, then the facilitators."""
    offer_shift(actor_for(world.leader), shift.id, now=CLOCK)
    at = CLOCK
    for _ in range(12):
        at += timedelta(minutes=70)
        expire_and_escalate(at)
        if shift.escalation_level >= 2:
            return shift
    raise AssertionError(f"not escalated: level {shift.escalation_level}")


def unfilled(world, **kw) -> Shift:
    shift = make_shift(world.team, MONDAY + timedelta(hours=9), notes=HEALTH, tasks=[HEALTH], **kw)
    return shift


@pytest.fixture
def nia(world):
    """A worker member of the co-op, outside the team, free and with valid checks."""
    return coop_worker(world.coop, "Nia Near")


def audit(team, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.team_id == team.id,
                                                               AuditEntry.action == action)))


def notices(person, kind: str) -> list[str]:
    """What `person` was told of this kind, on the website or by text."""
    db.session.flush()
    web = db.session.scalars(sa.select(WebNotice.body).where(WebNotice.person_id == person.id,
                                                             WebNotice.kind == kind)).all()
    texts = db.session.scalars(sa.select(OutboundMessage.body).where(OutboundMessage.to_number == person.phone,
                                                                     OutboundMessage.kind == kind)).all()
    return list(web) + list(texts)


def outside_offers(shift) -> list[Offer]:
    return list(db.session.scalars(sa.select(Offer).where(Offer.shift_id == shift.id, Offer.outside_team)))


def _post(client, url: str, token: str, data: dict | None = None):
    return client.post(url, data={**(data or {}), "csrf_token": token})


# ---------------------------------------------------------------- the journey


def test_the_clock_escalates_a_facilitator_offers_it_and_a_coop_worker_books_it_by_text(world, nia, client, login):
    shift = escalate(world, unfilled(world))
    token = login(world.facilitator)
    page = unescape(client.get(visit_url(shift)).get_data(as_text=True))
    assert "Passed to the co-op's facilitators" in page and "Offer to workers of the co-op" in page

    response = _post(client, visit_url(shift) + "/outside/offer", token)
    assert response.status_code == 303
    flashed = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Offered to 1 worker of the co-op outside the team." in flashed
    assert "The leader is told" in flashed
    assert "waiting for their answers" in flashed  # no second button while the wave waits
    [offer] = outside_offers(shift)
    assert offer.person_id == nia.id and offer.status == OfferStatus.open
    # The team's consent stays the leader's or Rota wrangler's: the escalation is recorded apart.
    assert shift.outside_consent_by_id is None

    [entry] = audit(world.team, "rota.escalated_outside_offer")
    assert (entry.actor_id, entry.on_behalf, entry.subject) == (world.facilitator.id, "facilitator", f"shift:{shift.id}")
    assert entry.after == {"offered": 1, "wave": offer.wave}
    [told] = notices(world.leader, "rota.escalated_offered")
    assert "facilitator offered it to the co-op's workers" in told

    # Nia says yes by text: the offer's own accept path books her.
    reply = sms.receive_text("SMESC" + "0" * 29, nia.phone, world.coop.sms_number, f"Y {offer.code}")
    assert reply.startswith("Booked:")
    db.session.refresh(shift)
    assert (shift.status, shift.booked_person_id) == (ShiftStatus.booked, nia.id)
    [booked] = audit(world.team, "rota.escalated_outside_booked")
    assert (booked.actor_id, booked.on_behalf) == (nia.id, "self")
    [taken] = notices(world.leader, "rota.escalated_booked")
    assert taken.startswith("Nia, a worker of the co-op, took the shift")

    # The leader reads both steps in the team's history, with on whose behalf.
    client.post("/logout", data={"csrf_token": token})
    login(world.leader)
    history = unescape(client.get(f"/teams/{world.team.id}/history").get_data(as_text=True))
    assert "offered an unfilled visit to the co-op's workers" in history and "as facilitator" in history
    assert "took an unfilled visit offered to the co-op's workers" in history

    # No health details anywhere the leader is told or the audit keeps.
    everything = notices(world.leader, "rota.escalated_offered") + [taken] + [
        json.dumps(e.after) for e in audit(world.team, "rota.escalated_outside_offer") + [booked]]
    assert not any(HEALTH.split()[0] in text for text in everything)


def test_a_coop_worker_accepts_on_the_website_and_exactly_one_wins(world, client, login):
    first = coop_worker(world.coop, "Fay First", km_north=1)
    second = coop_worker(world.coop, "Sid Second", km_north=2)
    shift = escalate(world, unfilled(world))
    assert send_outside_wave(actor_for(world.facilitator), shift.id).offered == 2
    offers = {o.person_id: o for o in outside_offers(shift)}
    token = login(first)
    assert _post(client, f"/my/offers/{offers[first.id].id}/accept", token).status_code == 303
    client.post("/logout", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).booked_person_id == first.id
    token = login(second)
    page = client.post(f"/my/offers/{offers[second.id].id}/accept", data={"csrf_token": token},
                       follow_redirects=True)
    assert "already been filled" in unescape(page.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).booked_person_id == first.id
    assert len(audit(world.team, "rota.escalated_outside_booked")) == 1
    assert len(notices(world.leader, "rota.escalated_booked")) == 1


def test_the_day_pages_escalated_line_leads_to_the_offer(world, nia, client, login):
    shift = escalate(world, unfilled(world))
    login(world.facilitator)
    day = client.get(f"/coops/{world.coop.slug}/day").get_data(as_text=True)
    block = day.split('id="escalated"', 1)[1].split("</section>", 1)[0]
    assert f'href="{visit_url(shift)}"' in block
    assert "Offer to workers of the co-op" in client.get(visit_url(shift)).get_data(as_text=True)


# ---------------------------------------------------------------- refusals


def test_a_visit_not_escalated_to_facilitators_is_a_409_in_plain_words(world, nia, client, login):
    shift = unfilled(world)
    token = login(world.facilitator)
    assert "Offer to workers of the co-op" not in client.get(visit_url(shift)).get_data(as_text=True)
    for level in (0, 1):
        shift.escalation_level = level
        db.session.flush()
        response = _post(client, visit_url(shift) + "/outside/offer", token)
        assert response.status_code == 409
        assert "has not been passed to the co-op's facilitators" in unescape(response.get_data(as_text=True))
    assert outside_offers(shift) == [] and audit(world.team, "rota.escalated_outside_offer") == []


def test_a_double_click_sends_one_wave_and_then_a_clear_409(world, nia, client, login):
    coop_worker(world.coop, "Ned Next", km_north=3)
    shift = escalate(world, unfilled(world))
    token = login(world.facilitator)
    assert _post(client, visit_url(shift) + "/outside/offer", token).status_code == 303
    sent = len(outside_offers(shift))
    again = _post(client, visit_url(shift) + "/outside/offer", token)
    assert again.status_code == 409
    assert "already offered to" in unescape(again.get_data(as_text=True))
    assert len(outside_offers(shift)) == sent
    assert len(audit(world.team, "rota.escalated_outside_offer")) == 1
    assert len(notices(world.leader, "rota.escalated_offered")) == 1


def test_a_next_wave_once_the_first_closed_unanswered(world, client, login, time_machine):
    from careteams.rota.services.settings import settings_for

    settings = settings_for(world.coop.id)
    settings.offer_wave_size = 1
    db.session.add(settings)
    near = coop_worker(world.coop, "Nia Near", km_north=1)
    far = coop_worker(world.coop, "Fred Far", km_north=5)
    shift = escalate(world, unfilled(world))
    assert send_outside_wave(actor_for(world.facilitator), shift.id, now=CLOCK).offered == 1
    assert {o.person_id for o in outside_offers(shift)} == {near.id}
    later = CLOCK + timedelta(minutes=settings.offer_ttl_minutes + 1)
    assert send_outside_wave(actor_for(world.facilitator), shift.id, now=later).offered == 1
    assert {o.person_id for o in outside_offers(shift)} == {near.id, far.id}
    assert len(notices(world.leader, "rota.escalated_offered")) == 2


def test_the_api_carries_it_on_the_same_operation(world, nia, client, auth_headers):
    shift = unfilled(world)
    db.session.commit()
    headers = auth_headers(world.facilitator)
    refused = client.post(API.format(shift.id), headers=headers, json={})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_escalated"
    escalate(world, shift)
    db.session.commit()
    response = client.post(API.format(shift.id), headers=headers, json={})
    assert response.status_code == 201 and response.json == {"offered": 1}
    again = client.post(API.format(shift.id), headers=headers, json={})
    assert again.status_code == 409 and again.json["error"]["code"] == "outside_offers_open"


def test_facilitators_never_book_directly(world, nia, client, login):
    shift = escalate(world, unfilled(world))
    token = login(world.facilitator)
    html = client.get(visit_url(shift)).get_data(as_text=True)
    assert "Book a team worker" not in html
    for person_id in (nia.id, world.worker.id):
        assert _post(client, visit_url(shift) + "/book", token, {"person_id": str(person_id)}).status_code == 403
    assert db.session.get(Shift, shift.id).booked_person_id is None


def test_a_visit_that_was_booked_meanwhile_cannot_be_offered(world, nia, client, login):
    shift = escalate(world, unfilled(world))
    shift.status, shift.booked_person_id = ShiftStatus.booked, world.worker.id
    db.session.flush()
    token = login(world.facilitator)
    response = _post(client, visit_url(shift) + "/outside/offer", token)
    assert response.status_code == 409
    assert "Only an open shift in the future can be offered." in unescape(response.get_data(as_text=True))
    assert outside_offers(shift) == []


# ---------------------------------------------------------------- who may act

# The co-op's facilitator acts; the leader and the Rota wrangler have their own path (their
# consent, then the outside wave), so without consent they are told it is needed (409);
# the circle without a rota hat, the team's workers and the co-op's admin (not a facilitator)
# are refused; another co-op's facilitator and people the team is private from get 404.
MATRIX = {"facilitator": 303, "leader": 409, "wrangler": 409, "circle": 403, "worker": 403, "trial": 403,
          "other_facilitator": 404, "other_worker": 404, "stranger": 404, "admin": 404}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_who_may_offer_an_escalated_visit_on_the_web(world, nia, client, login, who):
    shift = escalate(world, unfilled(world))
    token = login(getattr(world, who))
    page = client.get(visit_url(shift))
    shown = "Offer to workers of the co-op" in page.get_data(as_text=True)
    assert shown == (who == "facilitator")
    response = _post(client, visit_url(shift) + "/outside/offer", token)
    assert response.status_code == MATRIX[who], response.get_data(as_text=True)[:300]
    assert len(outside_offers(shift)) == (1 if MATRIX[who] == 303 else 0)
    assert len(audit(world.team, "rota.escalated_outside_offer")) == (1 if MATRIX[who] == 303 else 0)


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_who_may_offer_an_escalated_visit_by_the_api(world, nia, client, auth_headers, who):
    shift = escalate(world, unfilled(world))
    db.session.commit()
    response = client.post(API.format(shift.id), headers=auth_headers(getattr(world, who)), json={})
    assert response.status_code == (201 if MATRIX[who] == 303 else MATRIX[who])
    db.session.expire_all()
    assert len(outside_offers(shift)) == (1 if MATRIX[who] == 303 else 0)


def test_a_leader_who_consented_keeps_the_teams_own_path(world, nia):
    from careteams.rota.services.offers import consent_outside_offer

    shift = escalate(world, unfilled(world))
    consent_outside_offer(actor_for(world.leader), shift.id)
    wave = send_outside_wave(actor_for(world.leader), shift.id)
    assert (wave.offered, wave.by_facilitator) == (1, False)
    assert audit(world.team, "rota.escalated_outside_offer") == []
