"""The worker's rota pages: her visit page (who may see it, when the address shows),
"I have arrived" only around the visit, swaps proposed and answered through pages, and
her calendar feed made and revoked on a page. No JavaScript; plain forms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota.models import (
    CalendarFeed,
    Offer,
    Shift,
    ShiftKind,
    ShiftStatus,
    ShiftSwap,
    SwapStatus,
)
from careteams.rota.services.offers import book_directly, decline_offer, offer_shift
from careteams.teams.models import TeamMember, TeamMemberStatus
from tests.factories import PASSWORD, MembershipFactory, PersonFactory, TeamPrivateDetailsFactory
from tests.helpers import pass_second_factor
from tests.rota.conftest import MONDAY, add_member, csrf_from, make_shift, make_team

ADDRESS = "12 Oak Lane, Halifax"
KEY_SAFE = "Key safe 4821"


def log_in(app, person):
    """A fresh browser logged in as `person` through the real form; (client, csrf token)."""
    db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    r = client.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 302
    pass_second_factor(client, person)  # staff only
    return client, csrf_from(client.get("/my/offers").get_data(as_text=True))


def get(client, url):
    db.session.commit()  # a refused request rolls back the session the test shares
    response = client.get(url)
    db.session.expire_all()
    return response


def post(client, url, data):
    db.session.commit()
    response = client.post(url, data=data)
    db.session.expire_all()
    return response


def booked(world, start, person=None, **kw):
    shift = make_shift(world.team, start, **kw)
    result = book_directly(actor_for(world.leader), shift.id, (person or world.worker).id)
    assert result.ok, result.message
    return shift


@pytest.fixture
def details(world):
    return TeamPrivateDetailsFactory(team_id=world.team.id, address=ADDRESS, access_notes=KEY_SAFE)


# ---------------------------------------------------------------- who sees the visit page

VISIT = {"worker": 200, "worker2": 404, "trial": 404, "other_worker": 404, "foreign_worker": 404,
         "leader": 404, "wrangler": 404, "facilitator": 404, "stranger": 404}


@pytest.mark.parametrize("who", sorted(VISIT))
def test_visit_page_only_for_the_booked_worker(world, app, who):
    # The leader and circle have the team's own visit page; here 404 for all but her.
    foreign_team = make_team(world.other_coop, name="Faye")
    world.foreign_worker = add_member(foreign_team, PersonFactory(name="Fred Foreign"))
    shift = booked(world, MONDAY + timedelta(hours=9), notes="Bring the shopping list")
    client, _ = log_in(app, getattr(world, who))
    r = get(client, f"/my/shifts/{shift.id}")
    assert r.status_code == VISIT[who]
    html = r.get_data(as_text=True)
    assert ("Bring the shopping list" in html) == (VISIT[who] == 200)


def test_visit_page_for_an_offered_worker_until_she_answers(world, app):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9), notes="Walk to the park")
    offer_shift(actor_for(world.leader), shift.id)
    will_offer = db.session.scalar(sa.select(Offer).where(Offer.person_id == world.worker2.id))
    client, _ = log_in(app, world.worker2)
    html = get(client, f"/my/shifts/{shift.id}").get_data(as_text=True)
    assert "Walk to the park" in html and "Offered to you" in html
    assert f'action="/my/offers/{will_offer.id}/accept"' in html
    # Someone in the co-op who was not offered it: no such page.
    other, _ = log_in(app, world.other_worker)
    assert get(other, f"/my/shifts/{shift.id}").status_code == 404
    # Once she has said no, the offer is not live: the page is gone too.
    decline_offer(world.worker2, will_offer.id)
    assert get(client, f"/my/shifts/{shift.id}").status_code == 404
    assert get(client, "/my/shifts/999999").status_code == 404


def test_visit_page_for_a_team_mate_offered_cover(world, app):
    shift = booked(world, MONDAY + timedelta(hours=9), notes="Feed the cat")
    client, token = log_in(app, world.worker)
    assert post(client, f"/my/shifts/{shift.id}/cover", {"csrf_token": token}).status_code == 303
    will, _ = log_in(app, world.worker2)
    offers = get(will, "/my/offers").get_data(as_text=True)
    assert f'href="/my/shifts/{shift.id}"' in offers
    html = get(will, f"/my/shifts/{shift.id}").get_data(as_text=True)
    assert "Feed the cat" in html and "cover for a team-mate" in html


def test_visit_page_needs_a_login(world, client):
    shift = booked(world, MONDAY + timedelta(hours=9))
    db.session.commit()
    r = client.get(f"/my/shifts/{shift.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_visit_page_shows_when_team_and_kind_in_the_teams_zone(world, app):
    # 9:00 UTC on 4 January is 09:00 in London (GMT); a summer visit at 08:00 UTC is 09:00 BST.
    winter = booked(world, MONDAY + timedelta(hours=9), kind=ShiftKind.companionship)
    summer = booked(world, MONDAY.replace(month=7, day=5) + timedelta(hours=8))
    client, _ = log_in(app, world.worker)
    html = get(client, f"/my/shifts/{winter.id}").get_data(as_text=True)
    assert "Monday 4 January 2027" in html and "09:00" in html and "10:00" in html
    assert "Ann's team" in html and "Companionship" in html
    assert "09:00" in get(client, f"/my/shifts/{summer.id}").get_data(as_text=True)


# ---------------------------------------------------------------- the address


def test_address_shows_only_around_the_visit(world, app, details, time_machine):
    start = utcnow().replace(microsecond=0) + timedelta(hours=5)
    shift = booked(world, start)
    client, _ = log_in(app, world.worker)

    def page():
        return get(client, f"/my/shifts/{shift.id}").get_data(as_text=True)

    html = page()  # five hours before: not yet, and she is told when
    assert ADDRESS not in html and KEY_SAFE not in html
    assert "show here from" in html
    time_machine.move_to(start - timedelta(hours=2, minutes=1), tick=False)
    assert ADDRESS not in page()
    time_machine.move_to(start - timedelta(hours=2), tick=False)
    html = page()
    assert ADDRESS in html and KEY_SAFE in html
    assert get(client, f"/my/shifts/{shift.id}").headers["Cache-Control"] == "private, no-store"
    time_machine.move_to(start + timedelta(hours=1), tick=False)  # the visit's end
    assert ADDRESS in page()
    time_machine.move_to(start + timedelta(hours=1, minutes=1), tick=False)
    html = page()
    assert ADDRESS not in html and "has ended" in html


def test_address_never_for_those_the_teams_rules_leave_out(world, app, details, time_machine):
    start = utcnow().replace(microsecond=0) + timedelta(hours=1)
    # A trial worker on her trial visit: the team's rules keep the address from trial workers.
    trial_visit = booked(world, start, person=world.trial, is_trial=True)
    # An offered worker, even around the visit: she has not said yes.
    offered = make_shift(world.team, start + timedelta(hours=1))
    offer_shift(actor_for(world.leader), offered.id)
    time_machine.move_to(start + timedelta(minutes=30), tick=False)  # around both visits
    trial_client, _ = log_in(app, world.trial)
    r = get(trial_client, f"/my/shifts/{trial_visit.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "(trial)" in html
    assert ADDRESS not in html and KEY_SAFE not in html and "privacy settings" in html
    will, _ = log_in(app, world.worker2)
    html = get(will, f"/my/shifts/{offered.id}").get_data(as_text=True)
    assert "Offered to you" in html and ADDRESS not in html and KEY_SAFE not in html


def test_a_worker_who_leaves_the_team_loses_the_address(world, app, details, time_machine):
    start = utcnow().replace(microsecond=0) + timedelta(hours=1)
    shift = booked(world, start)
    client, _ = log_in(app, world.worker)
    assert ADDRESS in get(client, f"/my/shifts/{shift.id}").get_data(as_text=True)
    # Her place ends (still booked: the page stays, the address goes with the place).
    place = db.session.scalar(sa.select(TeamMember).where(TeamMember.person_id == world.worker.id,
                                                          TeamMember.team_id == world.team.id))
    place.status = TeamMemberStatus.left
    html = get(client, f"/my/shifts/{shift.id}").get_data(as_text=True)
    assert ADDRESS not in html and KEY_SAFE not in html


# ---------------------------------------------------------------- arrival


def test_arrival_is_offered_only_around_the_start(world, app, time_machine):
    start = utcnow().replace(microsecond=0) + timedelta(hours=5)
    shift = booked(world, start)
    later = booked(world, MONDAY + timedelta(hours=9))
    client, token = log_in(app, world.worker)
    button = f'action="/my/shifts/{shift.id}/arrival"'
    html = get(client, "/my/shifts").get_data(as_text=True)
    assert button not in html and f'action="/my/shifts/{later.id}/arrival"' not in html
    assert "I have arrived" not in get(client, f"/my/shifts/{shift.id}").get_data(as_text=True)
    # The service refuses it too, so the page offering no button is the truth.
    post(client, f"/my/shifts/{shift.id}/arrival", {"csrf_token": token})
    assert db.session.get(Shift, shift.id).arrived_at is None
    time_machine.move_to(start - timedelta(hours=1), tick=False)
    html = get(client, "/my/shifts").get_data(as_text=True)
    assert button in html and f'action="/my/shifts/{later.id}/arrival"' not in html
    assert "I have arrived" in get(client, f"/my/shifts/{shift.id}").get_data(as_text=True)
    assert post(client, f"/my/shifts/{shift.id}/arrival", {"csrf_token": token}).status_code == 303
    assert db.session.get(Shift, shift.id).arrived_at is not None
    html = get(client, "/my/shifts").get_data(as_text=True)
    assert button not in html and "Arrival recorded" in html


# ---------------------------------------------------------------- offers and my shifts


def test_offers_show_day_time_team_and_kind_and_link_the_visit(world, app):
    shift = make_shift(world.team, MONDAY + timedelta(hours=9), kind=ShiftKind.companionship)
    offer_shift(actor_for(world.leader), shift.id)
    client, _ = log_in(app, world.worker)
    html = get(client, "/my/offers").get_data(as_text=True)
    assert "Monday 4 January, 09:00" in html and "Ann's team" in html and "Companionship" in html
    assert f'href="/my/shifts/{shift.id}"' in html
    assert "Accept" in html and "Decline" in html


def test_my_shifts_link_each_visit_and_its_swap_page(world, app):
    shift = booked(world, MONDAY + timedelta(hours=9))
    client, _ = log_in(app, world.worker)
    html = get(client, "/my/shifts").get_data(as_text=True)
    assert f'href="/my/shifts/{shift.id}"' in html and f'href="/my/shifts/{shift.id}/swap"' in html
    assert "Ask for cover" in html


# ---------------------------------------------------------------- swaps


def test_swap_proposed_and_agreed_through_pages(world, app):
    mine = booked(world, MONDAY + timedelta(hours=9))
    theirs = booked(world, MONDAY + timedelta(days=1, hours=9), person=world.worker2)
    wendy, token = log_in(app, world.worker)
    html = get(wendy, f"/my/shifts/{mine.id}/swap").get_data(as_text=True)
    assert "Tuesday 5 January, 09:00" in html and "(Will)" in html
    assert f'value="{mine.id}"' not in html  # not her own
    r = post(wendy, f"/my/shifts/{mine.id}/swap", {"csrf_token": token, "other_shift_id": str(theirs.id)})
    assert r.status_code == 303
    swap = db.session.scalar(sa.select(ShiftSwap))
    assert (swap.shift_id, swap.other_shift_id, swap.status) == (mine.id, theirs.id, SwapStatus.proposed)
    assert "You asked Will to swap" in get(wendy, "/my/shifts").get_data(as_text=True)
    will, will_token = log_in(app, world.worker2)
    html = get(will, "/my/shifts").get_data(as_text=True)
    assert "Wendy asks to swap" in html and f'action="/my/swaps/{swap.id}/answer"' in html
    r = post(will, f"/my/swaps/{swap.id}/answer", {"csrf_token": will_token, "agree": "yes"})
    assert r.status_code == 303
    assert db.session.get(ShiftSwap, swap.id).status == SwapStatus.agreed
    assert "waiting for the leader" in get(will, "/my/shifts").get_data(as_text=True)
    # Answering twice is told in words, not an error page.
    r = post(will, f"/my/swaps/{swap.id}/answer", {"csrf_token": will_token, "agree": "no"})
    assert r.status_code == 303 and "already been answered" in get(will, "/my/shifts").get_data(as_text=True)
    # Someone else cannot answer it.
    otto, otto_token = log_in(app, world.other_worker)
    assert post(otto, f"/my/swaps/{swap.id}/answer", {"csrf_token": otto_token, "agree": "yes"}).status_code == 404


def test_swap_declined_and_withdrawn_through_pages(world, app):
    mine = booked(world, MONDAY + timedelta(hours=9))
    theirs = booked(world, MONDAY + timedelta(days=1, hours=9), person=world.worker2)
    wendy, token = log_in(app, world.worker)
    post(wendy, f"/my/shifts/{mine.id}/swap", {"csrf_token": token, "other_shift_id": str(theirs.id)})
    will, will_token = log_in(app, world.worker2)
    first = db.session.scalar(sa.select(ShiftSwap))
    post(will, f"/my/swaps/{first.id}/answer", {"csrf_token": will_token, "agree": "no"})
    assert db.session.get(ShiftSwap, first.id).status == SwapStatus.refused
    assert "asks to swap" not in get(will, "/my/shifts").get_data(as_text=True)
    # Asked again, then withdrawn by the one who asked.
    post(wendy, f"/my/shifts/{mine.id}/swap", {"csrf_token": token, "other_shift_id": str(theirs.id)})
    second = db.session.scalar(sa.select(ShiftSwap).where(ShiftSwap.id != first.id))
    post(wendy, f"/my/swaps/{second.id}/answer", {"csrf_token": token, "agree": "no"})
    assert db.session.get(ShiftSwap, second.id).status == SwapStatus.withdrawn


def test_refused_swap_keeps_the_choice_and_names_the_field(world, app):
    mine = booked(world, MONDAY + timedelta(hours=9))
    theirs = booked(world, MONDAY + timedelta(days=1, hours=9), person=world.worker2)
    wendy, token = log_in(app, world.worker)
    url = f"/my/shifts/{mine.id}/swap"
    # Nothing chosen.
    r = post(wendy, url, {"csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'id="other_shift_id-error"[^>]*>.*Choose the visit you would take instead', html)
    assert "There is a problem" in html and 'href="#other_shift_id"' in html
    # The same swap twice: refused beside the field, and her choice is still ticked.
    assert post(wendy, url, {"csrf_token": token, "other_shift_id": str(theirs.id)}).status_code == 303
    r = post(wendy, url, {"csrf_token": token, "other_shift_id": str(theirs.id)})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'id="other_shift_id-error"[^>]*>.*already proposed this swap', html)
    assert re.search(rf'value="{theirs.id}" checked', html)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShiftSwap)) == 1
    # A visit that is not a team-mate's booking (here another team's): refused in words.
    elsewhere = make_shift(world.other_team, MONDAY + timedelta(days=2, hours=9), status=ShiftStatus.booked,
                           person=world.other_worker)
    r = post(wendy, url, {"csrf_token": token, "other_shift_id": str(elsewhere.id)})
    assert r.status_code == 422 and "Choose a team-mate" in r.get_data(as_text=True)
    r = post(wendy, url, {"csrf_token": token, "other_shift_id": "not a number"})
    assert r.status_code == 422 and "Choose one of the visits listed" in r.get_data(as_text=True)


def test_swap_page_is_only_for_her_own_booked_visit(world, app):
    mine = booked(world, MONDAY + timedelta(hours=9))
    theirs = booked(world, MONDAY + timedelta(days=1, hours=9), person=world.worker2)
    for who in ("worker2", "leader", "other_worker", "stranger"):
        client, token = log_in(app, getattr(world, who))
        assert get(client, f"/my/shifts/{mine.id}/swap").status_code == 404
        r = post(client, f"/my/shifts/{mine.id}/swap", {"csrf_token": token, "other_shift_id": str(theirs.id)})
        assert r.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShiftSwap)) == 0


def test_swap_choices_are_team_mates_bookings_that_could_be_approved(world, app):
    mine = booked(world, MONDAY + timedelta(hours=9))
    will = booked(world, MONDAY + timedelta(days=1, hours=9), person=world.worker2)
    open_one = make_shift(world.team, MONDAY + timedelta(days=2, hours=9))
    make_shift(world.other_team, MONDAY + timedelta(days=3, hours=9), status=ShiftStatus.booked,
               person=world.other_worker)
    # Will's visit at a time Wendy works elsewhere: the leader could never approve it.
    clashing = booked(world, MONDAY + timedelta(days=4, hours=9), person=world.worker2)
    make_shift(world.other_team, MONDAY + timedelta(days=4, hours=9, minutes=30), status=ShiftStatus.booked,
               person=world.worker)
    client, _ = log_in(app, world.worker)

    def choices():
        html = get(client, f"/my/shifts/{mine.id}/swap").get_data(as_text=True)
        return set(map(int, re.findall(r'name="other_shift_id" id="[^"]+" value="(\d+)"', html))), html

    values, _ = choices()
    assert values == {will.id}
    assert open_one.id not in values and clashing.id not in values
    # Will now works elsewhere at Wendy's time: none of his visits fit any more.
    make_shift(world.other_team, MONDAY + timedelta(hours=9), status=ShiftStatus.booked, person=world.worker2)
    values, html = choices()
    assert values == set() and "There is no visit you could swap this one with" in html


# ---------------------------------------------------------------- calendar feed


def test_calendar_feed_made_shown_once_and_revoked_on_a_page(world, app):
    booked(world, MONDAY + timedelta(hours=9))
    client, token = log_in(app, world.worker)
    html = get(client, "/my/calendar").get_data(as_text=True)
    assert "You have no calendar links" in html
    assert client.post("/my/calendar").status_code == 400  # no CSRF token: refused
    r = post(client, "/my/calendar", {"csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    link = re.search(r'id="new-link" name="new-link" value="([^"]+)" readonly', html).group(1)
    path = link[link.index("/calendar/"):]
    assert client.get(path).status_code == 200 and client.get(path).mimetype == "text/calendar"
    # Shown once: the list names it, never again with its secret.
    html = get(client, "/my/calendar").get_data(as_text=True)
    assert "My shifts, made" in html and path not in html
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.person_id == world.worker.id))
    # Someone else cannot stop it.
    will, will_token = log_in(app, world.worker2)
    assert post(will, f"/my/calendar/{feed.id}/revoke", {"csrf_token": will_token}).status_code == 404
    assert client.get(path).status_code == 200
    assert post(client, f"/my/calendar/{feed.id}/revoke", {"csrf_token": token}).status_code == 303
    assert client.get(path).status_code == 404
    assert "You have no calendar links" in get(client, "/my/calendar").get_data(as_text=True)


def test_calendar_page_needs_a_login(world, client):
    assert client.get("/my/calendar").status_code == 302


def test_home_links_the_workers_pages(world, app):
    MembershipFactory(cooperative=world.coop, person=world.worker)
    client, _ = log_in(app, world.worker)
    html = get(client, "/").get_data(as_text=True)
    for url in ("/my/offers", "/my/shifts", "/my/calendar"):
        assert f'href="{url}"' in html


# ---------------------------------------------------------------- privacy of URLs


def test_nothing_health_related_or_private_in_any_url(world, app, details, time_machine):
    start = utcnow().replace(microsecond=0) + timedelta(hours=1)
    mine = booked(world, start, kind=ShiftKind.personal_care, notes="Insulin at 8pm")
    theirs = booked(world, start + timedelta(days=1), person=world.worker2, kind=ShiftKind.personal_care,
                    notes="Insulin at 8pm")
    offered = make_shift(world.team, start + timedelta(days=2), kind=ShiftKind.personal_care, notes="Insulin at 8pm")
    offer_shift(actor_for(world.leader), offered.id)
    client, token = log_in(app, world.worker)
    post(client, f"/my/shifts/{mine.id}/swap", {"csrf_token": token, "other_shift_id": str(theirs.id)})
    pages = ["/my/shifts", "/my/offers", f"/my/shifts/{mine.id}", f"/my/shifts/{offered.id}",
             f"/my/shifts/{mine.id}/swap", "/my/calendar"]
    urls = []
    for page in pages:
        html = get(client, page).get_data(as_text=True)
        assert "Insulin at 8pm" in html or page in ("/my/shifts", "/my/offers", "/my/calendar",
                                                    f"/my/shifts/{mine.id}/swap")
        urls += re.findall(r'(?:href|action)="([^"]*)"', html)
    made = post(client, "/my/calendar", {"csrf_token": token}).get_data(as_text=True)
    urls += re.findall(r'value="(http[^"]*)"', made)
    assert any("/calendar/" in u for u in urls) and len(urls) > 20
    for url in urls:
        # The calendar feed's address ends in a random secret, which now and then spells
        # "oak" or "care" by chance (CI once drew ...QtEOakBF6...); check the rest of it.
        lowered = re.sub(r"/calendar/[A-Za-z0-9_-]+\.ics", "/calendar/SECRET.ics", url).lower()
        for word in ("insulin", "personal", "care", "oak", "4821", "halifax"):
            assert word not in lowered, url
