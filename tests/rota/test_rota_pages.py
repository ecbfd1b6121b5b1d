"""The team's rota on the web: finding it (home and team pages), the week with what needs
attention first, the four-week list, and the team's visit page with where its offers stand."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from careteams.extensions import db
from careteams.members.models import ContactChannel, MemberClass, Membership
from careteams.members.services import actor_for
from careteams.rota.models import Offer, OfferStatus, RotaSettings, Shift, ShiftKind, ShiftStatus
from careteams.rota.services.offers import expire_and_escalate, offer_shift
from careteams.sms.models import WebNotice
from careteams.sms.rules import segments
from tests.factories import ArrangerFactory, MembershipFactory, OfferFactory, PersonFactory
from tests.helpers import QueryCounter
from tests.rota.conftest import CLOCK, MONDAY, add_member, make_shift

# Who may see the team's rota pages, and what everyone else gets.
ALLOWED = ["leader", "wrangler", "arranger", "circle", "facilitator", "worker"]
REFUSED = [("trial", 403), ("other_worker", 404), ("other_facilitator", 404), ("stranger", 404)]
MATRIX = [(who, 200) for who in ALLOWED] + REFUSED
# Who follows a visit's offers (who said no, who has not answered): those who offer shifts
# and the co-op's facilitators; the rest of the rota's readers see the visit only.
FOLLOW_OFFERS = {"leader", "wrangler", "arranger", "facilitator"}


@pytest.fixture
def people(world):
    world.arranger = ArrangerFactory(team=world.team, person=PersonFactory(name="Arlo Arranger")).person
    db.session.flush()
    return world


def _visit_url(team, shift) -> str:
    return f"/teams/{team.id}/rota/visits/{shift.id}"


def _pages(world, shift) -> list[str]:
    return [f"/teams/{world.team.id}/rota", f"/teams/{world.team.id}/rota?view=list", _visit_url(world.team, shift)]


@pytest.mark.parametrize(("who", "status"), MATRIX)
def test_each_rota_page_admits_the_rota_readers_only(people, client, login, who, status):
    shift = make_shift(people.team, CLOCK + timedelta(days=2))
    login(getattr(people, who))
    for url in _pages(people, shift):
        assert client.get(url).status_code == status, (who, url)


def test_anonymous_is_sent_to_log_in(people, client):
    shift = make_shift(people.team, CLOCK + timedelta(days=2))
    for url in _pages(people, shift):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_visit_page_is_404_for_a_shift_of_another_team(people, client, login):
    theirs = make_shift(people.other_team, CLOCK + timedelta(days=2))
    login(people.leader)
    assert client.get(_visit_url(people.team, theirs)).status_code == 404
    assert client.get(f"/teams/{people.team.id}/rota/visits/999999").status_code == 404
    # The other team's leader reaches it through their own team.
    login(people.other_team.leader)
    assert client.get(_visit_url(people.other_team, theirs)).status_code == 200


@pytest.mark.parametrize("who", ALLOWED)
def test_offers_on_the_visit_page_only_for_those_who_follow_them(people, client, login, who):
    shift = make_shift(people.team, CLOCK + timedelta(days=2), status=ShiftStatus.offered)
    OfferFactory(shift=shift, person=people.worker2, status=OfferStatus.declined, answered_at=CLOCK)
    login(getattr(people, who))
    html = client.get(_visit_url(people.team, shift)).get_data(as_text=True)
    assert ("Said no" in html and "Will Worker" in html) == (who in FOLLOW_OFFERS), who


# ---------------------------------------------------------------- finding it


def _member(world, who: str):
    """The home page lists the co-ops one belongs to or works for: make `who` a member."""
    person = getattr(world, who)
    coop = world.other_coop if who == "other_facilitator" else world.coop
    if db.session.query(Membership).filter_by(person_id=person.id, cooperative_id=coop.id).first() is None:
        MembershipFactory(person=person, cooperative=coop, member_class=MemberClass.supported
                          if who == "leader" else MemberClass.worker)
    return person


def _home_rota_links(client) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    return re.findall(r'href="(/teams/\d+/rota)"', html)


@pytest.mark.parametrize("who", ALLOWED)
def test_home_page_links_to_the_rota_for_everyone_who_may_see_it(people, client, login, who):
    login(_member(people, who))
    assert f"/teams/{people.team.id}/rota" in _home_rota_links(client)


@pytest.mark.parametrize("who", ["trial", "other_worker", "stranger"])
def test_home_page_has_no_link_to_a_rota_one_may_not_see(people, client, login, who):
    login(_member(people, who))
    assert f"/teams/{people.team.id}/rota" not in _home_rota_links(client)


@pytest.mark.parametrize(("who", "linked"), [(w, True) for w in ALLOWED] + [("trial", False)])
def test_team_page_links_to_the_rota_by_the_rota_rule(people, client, login, who, linked):
    login(getattr(people, who))
    html = client.get(f"/teams/{people.team.id}").get_data(as_text=True)
    assert (f'href="/teams/{people.team.id}/rota"' in html) == linked, who


# ---------------------------------------------------------------- needs attention


def _attention(html: str) -> str:
    return html.split('id="attention"', 1)[1].split("</section>", 1)[0]


def test_week_lists_what_needs_attention_first_soonest_first(people, client, login):
    team = people.team
    # Future visits, each needing someone, in order of their start:
    open_one = make_shift(team, CLOCK + timedelta(days=1))
    unanswered = make_shift(team, CLOCK + timedelta(days=2), status=ShiftStatus.offered)
    OfferFactory(shift=unanswered, person=people.worker, status=OfferStatus.declined, answered_at=CLOCK)
    OfferFactory(shift=unanswered, person=people.worker2, status=OfferStatus.expired)
    cover = make_shift(team, CLOCK + timedelta(days=3), status=ShiftStatus.booked, person=people.worker,
                       cover_requested_at=CLOCK)
    blocked = make_shift(team, CLOCK + timedelta(days=4), hours=0.2, kind=ShiftKind.personal_care,
                         status=ShiftStatus.booked, person=people.worker2)
    # And some that need nobody: booked, already past, cancelled, waiting for answers.
    fine = make_shift(team, CLOCK + timedelta(days=1, hours=3), status=ShiftStatus.booked, person=people.worker2)
    past = make_shift(team, CLOCK - timedelta(days=1))
    cancelled = make_shift(team, CLOCK + timedelta(days=1, hours=5), status=ShiftStatus.cancelled)
    waiting = make_shift(team, CLOCK + timedelta(days=5), status=ShiftStatus.offered)
    OfferFactory(shift=waiting, person=people.worker)
    login(people.wrangler)
    section = _attention(client.get(f"/teams/{team.id}/rota").get_data(as_text=True))
    linked = [int(i) for i in re.findall(rf'href="/teams/{team.id}/rota/visits/(\d+)"', section)]
    assert linked == [open_one.id, unanswered.id, cover.id, blocked.id, waiting.id]
    for shift in (fine, past, cancelled):
        assert f"/visits/{shift.id}\"" not in section
    assert "nobody is booked and it has not been offered" in section
    assert "Nobody answered" in section and "Cover asked by Wendy Worker" in section
    assert "Not allowed:" in section
    # The visit still waiting for answers is open, but nobody is said to have not answered.
    waiting_line = section.split(f"/visits/{waiting.id}", 1)[1]
    assert "offered, nobody is booked yet" in waiting_line and "Nobody answered" not in waiting_line


def test_nothing_needs_attention_says_so(people, client, login):
    make_shift(people.team, CLOCK + timedelta(days=1), status=ShiftStatus.booked, person=people.worker)
    login(people.leader)
    assert "Nothing needs attention" in _attention(client.get(f"/teams/{people.team.id}/rota").get_data(as_text=True))


# ---------------------------------------------------------------- the four-week list


def test_agenda_lists_the_next_four_weeks_by_day_linked_both_ways(people, client, login):
    team = people.team
    soon = make_shift(team, CLOCK + timedelta(hours=2), status=ShiftStatus.booked, person=people.worker)
    last_day = make_shift(team, CLOCK + timedelta(days=27, hours=1))
    too_far = make_shift(team, CLOCK + timedelta(days=29))
    yesterday = make_shift(team, CLOCK - timedelta(days=1))
    login(people.worker)
    week = client.get(f"/teams/{team.id}/rota").get_data(as_text=True)
    assert f'href="/teams/{team.id}/rota?view=list"' in week
    page = client.get(f"/teams/{team.id}/rota?view=list")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'href="/teams/{team.id}/rota"' in html
    visits = [int(i) for i in re.findall(rf'<li>\s*<a href="/teams/{team.id}/rota/visits/(\d+)"', html.split('id="days"')[1])]
    assert visits == [soon.id, last_day.id]
    assert too_far.id not in visits and yesterday.id not in visits
    # 28 days, each a heading, empty ones said so; the day and time in the team's zone.
    assert html.count("<h3>") == 28 and "No visits." in html
    assert "<h3>Tuesday 1 December</h3>" in html and "Monday 28 December" in html
    assert "Wendy Worker" in html and "11:00" in html


# ---------------------------------------------------------------- the visit page


def test_visit_page_shows_the_visit_in_the_team_zone_with_checks(people, client, login):
    summer = datetime(2027, 6, 7, 8, tzinfo=UTC)  # 09:00 in London (summer time)
    shift = make_shift(people.team, summer, hours=0.2, kind=ShiftKind.personal_care, status=ShiftStatus.booked,
                       person=people.worker, notes="Key in the safe; ring twice.")
    login(people.leader)
    page = client.get(_visit_url(people.team, shift))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Monday 7 June 2027" in html and ">09:00</time>" in html and ">09:12</time>" in html
    assert "Europe/London time" in html
    assert "Personal care" in html and "Wendy Worker" in html and "Key in the safe; ring twice." in html
    assert "Not allowed:" in html  # a 12-minute personal care visit, in plain words
    assert f'href="/teams/{people.team.id}/rota?week=2027-06-07"' in html


def test_visit_page_says_who_was_offered_who_said_no_and_who_has_not_answered(people, client, login):
    team = people.team
    db.session.add(RotaSettings(cooperative_id=people.coop.id, offer_wave_size=1, offer_ttl_minutes=90))
    third = add_member(team, PersonFactory(name="Xena Extra"))
    shift = make_shift(team, CLOCK + timedelta(days=2), status=ShiftStatus.offered)
    OfferFactory(shift=shift, person=people.worker, wave=1, status=OfferStatus.declined, answered_at=CLOCK)
    OfferFactory(shift=shift, person=people.worker2, wave=2, sent_at=CLOCK,
                 expires_at=CLOCK + timedelta(minutes=90))
    outsiders = [add_member(people.other_team, PersonFactory(name=f"Out Sider{i}")) for i in range(3)]
    OfferFactory(shift=shift, person=outsiders[0], wave=0, outside_team=True)
    OfferFactory(shift=shift, person=outsiders[1], wave=0, outside_team=True, status=OfferStatus.declined)
    OfferFactory(shift=shift, person=outsiders[2], wave=0, outside_team=True, status=OfferStatus.expired)
    login(people.wrangler)
    html = unescape(client.get(_visit_url(team, shift)).get_data(as_text=True))
    offers = html.split('id="offers"', 1)[1]

    def said(term: str) -> str:
        return re.search(rf"<dt>{term}</dt>\s*<dd>(.*?)</dd>", offers, re.S).group(1)

    assert said("Offered to") == "Wendy Worker, Will Worker"  # in the order they were asked
    assert said("Said no") == "Wendy Worker" and said("Not answered yet") == "Will Worker"
    assert "Xena Extra" not in said("Offered to")
    # Outside the team: counts only, no names (nobody outside took it).
    outside = said("Outside the team")
    assert "Offered to 3 workers" in outside and "1 not answered yet, 1 said no, 1 did not answer in time" in outside
    assert "Sider" not in html
    # When the offers close (10:30 in London, 90 minutes after they went out), the next
    # wave of one goes to the worker not yet asked.
    assert "If nobody takes it when the offers close, the next wave goes to 1 more of the team's workers" in html
    assert "Tue 1 Dec 10:30" in html
    assert "in waves of 1" in html and "90 minutes" in html
    assert third.id  # Xena is the one the next wave would ask


def test_visit_page_names_an_outside_worker_only_once_they_took_it(people, client, login):
    outsider = add_member(people.other_team, PersonFactory(name="Olga Outside"))
    shift = make_shift(people.team, CLOCK + timedelta(days=2), status=ShiftStatus.booked, person=outsider)
    OfferFactory(shift=shift, person=outsider, wave=0, outside_team=True, status=OfferStatus.accepted,
                 answered_at=CLOCK)
    OfferFactory(shift=shift, person=people.other_worker, wave=0, outside_team=True, status=OfferStatus.filled)
    login(people.leader)
    html = client.get(_visit_url(people.team, shift)).get_data(as_text=True)
    assert "Taken by Olga Outside" in html and "Otto Other" not in html
    assert "What happens next" not in html  # booked: nothing more to do


@pytest.mark.parametrize(("level", "expected"), [
    (0, "the circle (the leader and the hats) is told within 5 minutes"),
    (1, "the co-op's facilitators are told at"),
    (2, "The co-op's facilitators were told 30 minutes ago"),
])
def test_visit_page_says_when_the_clock_escalates(people, client, login, level, expected):
    shift = make_shift(people.team, CLOCK + timedelta(days=2), status=ShiftStatus.offered,
                       escalation_level=level, escalated_at=CLOCK - timedelta(minutes=30) if level else None)
    for person in (people.worker, people.worker2):
        OfferFactory(shift=shift, person=person, status=OfferStatus.declined, answered_at=CLOCK)
    login(people.facilitator)
    html = unescape(client.get(_visit_url(people.team, shift)).get_data(as_text=True))
    assert expected in html
    if level == 1:
        assert "Tue 1 Dec 10:30" in html  # told 08:30 + the default 120 minutes


def test_an_open_visit_not_yet_offered_says_so(people, client, login):
    shift = make_shift(people.team, CLOCK + timedelta(days=2))
    login(people.leader)
    html = client.get(_visit_url(people.team, shift)).get_data(as_text=True)
    assert "Nobody has been offered this visit." in html and "Not offered yet" in html


def test_visit_page_leaves_room_for_the_action_forms(app):
    source = app.jinja_env.loader.get_source(app.jinja_env, "rota/visit.html")[0]
    assert '{% include "rota/_visit_actions.html" ignore missing %}' in source


# ---------------------------------------------------------------- notices link to the page


def test_not_filled_notices_link_to_the_visit_page_and_texts_stay_one_segment(people, app, monkeypatch,
                                                                               mail_outbox, sms_outbox):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://care.example.org/")
    people.leader.preferred_channel = ContactChannel.email
    people.wrangler.preferred_channel = ContactChannel.sms
    shift = make_shift(people.team, CLOCK + timedelta(days=2), status=ShiftStatus.offered)
    for person in (people.worker, people.worker2):
        OfferFactory(shift=shift, person=person, status=OfferStatus.declined, answered_at=CLOCK)
    db.session.flush()
    assert expire_and_escalate(CLOCK)["circle"] == 1
    path = f"/teams/{people.team.id}/rota/visits/{shift.id}"
    notice = db.session.query(WebNotice).filter_by(person_id=people.leader.id).one()
    assert notice.text.endswith("Please check the rota.") and notice.link.endswith(path)
    # The email carries the full address (the clock knows the host from PUBLIC_BASE_URL).
    assert any(f"Open the page: https://care.example.org{path}" in m.body and m.to == [people.leader.email]
               for m in mail_outbox)
    texts = [t for t in sms_outbox if t.to == people.wrangler.phone]
    assert texts and all("/teams/" not in t.body and segments(t.body) == 1 for t in texts)


def test_my_notices_shows_the_link(people, client, login):
    db.session.add(WebNotice(person_id=people.leader.id, kind="rota.not_filled_circle",
                             body=WebNotice.with_link("Nobody has taken the shift.", "/teams/1/rota/visits/2")))
    db.session.flush()
    login(people.leader)
    html = client.get("/my/notices").get_data(as_text=True)
    assert 'Nobody has taken the shift. <a href="/teams/1/rota/visits/2">Open the page</a>' in html


# ---------------------------------------------------------------- constant queries


def test_week_page_takes_the_same_queries_for_5_and_50_shifts(people, client, login, app):
    team = people.team
    login(people.leader)

    def fill(indices: range) -> None:
        for i in indices:
            start = MONDAY + timedelta(days=i % 7, hours=6 + (i // 7) * 2, minutes=(i * 13) % 60)
            kind = ShiftKind.personal_care if i % 4 == 0 else ShiftKind.practical_help
            person = (people.worker, people.worker2)[i % 2] if i % 3 == 0 else None
            shift = make_shift(team, start, kind=kind, status=ShiftStatus.booked if person else ShiftStatus.offered,
                               person=person, cover_requested_at=CLOCK if person and i % 5 == 0 else None)
            if person is None:
                OfferFactory(shift=shift, person=people.worker, status=OfferStatus.declined)
        db.session.flush()

    def statements() -> int:
        db.session.expire_all()
        with QueryCounter(db.engine) as counter:
            assert client.get(f"/teams/{team.id}/rota?week=2027-01-04").status_code == 200
        return counter.count

    fill(range(5))
    small = statements()
    assert db.session.query(Shift).count() == 5
    fill(range(5, 50))
    assert db.session.query(Offer).count() > 5
    assert statements() == small


def test_an_offer_by_email_links_to_the_offers_page_and_its_text_has_no_link(people, mail_outbox, sms_outbox):
    people.worker.preferred_channel = ContactChannel.email
    shift = make_shift(people.team, CLOCK + timedelta(days=2))
    offer_shift(actor_for(people.leader), shift.id)
    notice = db.session.query(WebNotice).filter_by(person_id=people.worker.id).one()
    assert notice.kind == "rota.offer" and notice.link.endswith("/my/offers")
    assert any(m.to == [people.worker.email] and "/my/offers" in m.body for m in mail_outbox)
    texts = [t for t in sms_outbox if t.to == people.worker2.phone]
    assert len(texts) == 1 and "/my/" not in texts[0].body and segments(texts[0].body) == 1
