"""Adding, changing and cancelling a visit on the web (issue 16): who may, the rota's
checks before saving (blocking ones stop it, warnings need a tick), refused forms that
keep what was typed, "this" and "this and following", the notice and cancellation pay,
and wall-clock times across the clock changes (last Sundays of March and October)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.members.services import actor_for
from careteams.rota import rules
from careteams.rota.models import Shift, ShiftKind, ShiftStatus
from careteams.rota.services.series import create_series
from careteams.teams.models import SupportPlanVersion
from tests.factories import ArrangerFactory, PersonFactory
from tests.rota.conftest import CLOCK, make_shift

# Who may add, change and cancel visits (rota.permissions: can_edit_rota, can_cancel_shift),
# and what everyone else gets: 403 for those who see the team, 404 for the rest.
EDITORS = ["leader", "wrangler", "arranger"]
REFUSED = [("circle", 403), ("facilitator", 403), ("worker", 403), ("trial", 403),
           ("other_worker", 404), ("other_facilitator", 404), ("stranger", 404)]
MATRIX = [(who, 200) for who in EDITORS] + REFUSED

SPRING = date(2027, 3, 28)  # the clocks go forward (last Sunday of March)
AUTUMN = date(2027, 10, 31)  # the clocks go back (last Sunday of October)


@pytest.fixture
def people(world):
    world.arranger = ArrangerFactory(team=world.team, person=PersonFactory(name="Arlo Arranger")).person
    db.session.add(SupportPlanVersion(team_id=world.team.id, number=1, author_id=world.leader.id, on_behalf="leader",
                                      sections={"routines": {"text": "- Breakfast\n- Medication reminder",
                                                             "shared_with_trial": False},
                                                "personal_care": {"text": "Shower", "shared_with_trial": False}}))
    db.session.flush()
    return world


def _new(team) -> str:
    return f"/teams/{team.id}/rota/visits/new"


def _edit(team, shift) -> str:
    return f"/teams/{team.id}/rota/visits/{shift.id}/edit"


def _cancel(team, shift) -> str:
    return f"/teams/{team.id}/rota/visits/{shift.id}/cancel"


def _shifts(team) -> list[Shift]:
    return list(db.session.scalars(sa.select(Shift).where(Shift.team_id == team.id).order_by(Shift.starts_at)))


def _form(token, **values) -> dict:
    data = {"csrf_token": token, "day": "2027-01-05", "start": "09:00", "end": "10:00", "length": "",
            "kind": "practical_help", "notes": "", "break_minutes": "0"}
    data.update(values)
    return data


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="error-message" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert found, f"no error beside {field_id}"
    return re.sub(r"<[^>]+>", "", found.group(1))


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize(("who", "status"), MATRIX)
def test_each_visit_form_admits_those_who_edit_the_rota_only(people, client, login, who, status):
    shift = make_shift(people.team, CLOCK + timedelta(days=3))
    login(getattr(people, who))
    for url in (_new(people.team), _edit(people.team, shift), _cancel(people.team, shift)):
        assert client.get(url).status_code == status, (who, url)


@pytest.mark.parametrize(("who", "status"), REFUSED)
def test_a_refused_actor_cannot_add_change_or_cancel_by_posting(people, client, login, who, status):
    shift = make_shift(people.team, CLOCK + timedelta(days=3))
    token = login(getattr(people, who))
    assert client.post(_new(people.team), data=_form(token)).status_code == status
    assert client.post(_edit(people.team, shift), data=_form(token, start="11:00", end="12:00")).status_code == status
    assert client.post(_cancel(people.team, shift), data={"csrf_token": token, "reason": "x"}).status_code == status
    db.session.expire_all()
    assert [s.id for s in _shifts(people.team)] == [shift.id]
    assert shift.status == ShiftStatus.open and shift.starts_at == CLOCK + timedelta(days=3)


def test_anonymous_is_sent_to_log_in(people, client):
    shift = make_shift(people.team, CLOCK + timedelta(days=3))
    for url in (_new(people.team), _edit(people.team, shift), _cancel(people.team, shift)):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_visit_of_another_team_is_404_through_this_team(people, client, login):
    theirs = make_shift(people.other_team, CLOCK + timedelta(days=3))
    login(people.leader)
    assert client.get(_edit(people.team, theirs)).status_code == 404
    assert client.get(_cancel(people.team, theirs)).status_code == 404


@pytest.mark.parametrize("who", EDITORS + ["circle", "facilitator", "worker"])
def test_links_to_add_change_and_cancel_only_for_those_allowed(people, client, login, who):
    shift = make_shift(people.team, CLOCK + timedelta(days=3))
    login(getattr(people, who))
    allowed = who in EDITORS
    visit = _text(client.get(f"/teams/{people.team.id}/rota/visits/{shift.id}"))
    assert ("Change this visit" in visit) == allowed and ("Cancel this visit" in visit) == allowed, who
    for url in (f"/teams/{people.team.id}/rota", f"/teams/{people.team.id}/rota?view=list"):
        html = _text(client.get(url))
        assert (f'href="{_new(people.team)}"' in html) == allowed, (who, url)


def test_a_cancelled_visit_offers_no_change_and_its_forms_say_409(people, client, login):
    shift = make_shift(people.team, CLOCK + timedelta(days=3), status=ShiftStatus.cancelled)
    login(people.leader)
    visit = _text(client.get(f"/teams/{people.team.id}/rota/visits/{shift.id}"))
    assert "Change this visit" not in visit and "Cancel this visit" not in visit
    assert client.get(_edit(people.team, shift)).status_code == 409
    assert client.get(_cancel(people.team, shift)).status_code == 409


# ---------------------------------------------------------------- adding


def test_add_a_visit_on_the_wall_clock_with_tasks_from_the_plan(people, client, login):
    token = login(people.wrangler)
    page = _text(client.get(_new(people.team)))
    for task in ("Breakfast", "Medication reminder", "Shower"):
        assert f'value="{task}"' in page
    response = client.post(_new(people.team), data=_form(token, day="2027-06-01", start="09:00", end="10:30",
                                                         notes="Key in the safe", tasks=["Shower", "Breakfast"]))
    assert response.status_code == 303
    (shift,) = _shifts(people.team)
    assert response.headers["Location"].endswith(f"/teams/{people.team.id}/rota/visits/{shift.id}")
    # 09:00 in London in June is 08:00 UTC: the form never speaks UTC.
    assert shift.starts_at.replace(tzinfo=UTC) == datetime(2027, 6, 1, 8, tzinfo=UTC)
    assert rules.minutes_between(shift.starts_at.replace(tzinfo=UTC), shift.ends_at.replace(tzinfo=UTC)) == 90
    assert shift.tasks == ["Breakfast", "Shower"] and shift.notes == "Key in the safe"
    visit = _text(client.get(response.headers["Location"]))
    assert "Visit added" in visit and "Breakfast; Shower" in visit


def test_the_api_takes_and_shows_tasks_from_the_plan_too(people, client, auth_headers):
    url = f"/api/v1/teams/{people.team.id}/shifts"
    body = {"starts_at": "2027-01-05T09:00:00", "ends_at": "2027-01-05T10:00:00", "kind": "practical_help"}
    made = client.post(url, json={**body, "tasks": ["Shower", "Breakfast"]}, headers=auth_headers(people.leader))
    assert made.status_code == 201 and made.get_json()["tasks"] == ["Breakfast", "Shower"]
    refused = client.post(url, json={**body, "tasks": ["Feed the cat"]}, headers=auth_headers(people.leader))
    assert refused.status_code == 422 and "tasks" in refused.get_json()["error"]["details"]["fields"]


def test_a_task_not_in_the_plan_is_refused(people, client, login):
    token = login(people.leader)
    response = client.post(_new(people.team), data=_form(token, tasks=["Feed the cat"]))
    assert response.status_code == 422
    assert "Choose tasks from the current support plan." in _text(response)
    assert _shifts(people.team) == []


def test_a_length_instead_of_an_end(people, client, login):
    token = login(people.leader)
    response = client.post(_new(people.team), data=_form(token, start="08:00", end="", length="75"))
    assert response.status_code == 303
    (shift,) = _shifts(people.team)
    assert shift.ends_at - shift.starts_at == timedelta(minutes=75)


def test_a_blocking_check_stops_the_save_and_keeps_the_input(people, client, login):
    token = login(people.leader)
    response = client.post(_new(people.team), data=_form(token, kind="personal_care", start="09:00", end="09:15",
                                                         notes="Help with the stairs"))
    assert response.status_code == 422
    html = _text(response)
    assert "Not allowed:" in html and "15 minutes or less is not enough time" in html
    assert 'value="09:15"' in html and "Help with the stairs" in html
    assert re.search(r'<input checked[^>]*value="personal_care"', html)
    assert "I have read the warnings" not in html
    assert _shifts(people.team) == []
    # Ticking the box changes nothing for a blocking check.
    again = client.post(_new(people.team), data=_form(token, kind="personal_care", start="09:00", end="09:15",
                                                      confirm="y", warned="personal_care_too_short"))
    assert again.status_code == 422 and _shifts(people.team) == []


def test_warnings_need_the_tick_then_the_visit_is_saved(people, client, login):
    token = login(people.leader)
    data = _form(token, kind="personal_care", start="09:00", end="09:20")
    first = client.post(_new(people.team), data=data)
    html = _text(first)
    assert first.status_code == 200 and _shifts(people.team) == []
    assert "Warning:" in html and "under 30 minutes is rushed" in html and "I have read the warnings" in html
    warned = re.search(r'name="warned" type="hidden" value="([^"]*)"', html) or \
        re.search(r'id="warned" name="warned" type="hidden" value="([^"]*)"', html)
    warned = warned.group(1) if warned else re.search(r'name="warned"[^>]*value="([^"]*)"', html).group(1)
    assert "short_personal_care" in warned
    # Saving again without the tick: asked beside the tick box, nothing saved.
    unticked = client.post(_new(people.team), data={**data, "warned": warned})
    assert unticked.status_code == 422 and _shifts(people.team) == []
    assert "Tick the box" in _field_error(_text(unticked), "confirm")
    # A tick given before the warnings were shown confirms nothing.
    blind = client.post(_new(people.team), data={**data, "confirm": "y"})
    assert blind.status_code == 200 and _shifts(people.team) == []
    saved = client.post(_new(people.team), data={**data, "warned": warned, "confirm": "y"})
    assert saved.status_code == 303 and len(_shifts(people.team)) == 1


def test_a_visit_with_no_warnings_is_saved_at_once(people, client, login):
    token = login(people.leader)
    assert client.post(_new(people.team), data=_form(token)).status_code == 303
    assert len(_shifts(people.team)) == 1


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"start": "25:61"}, "start", "Enter a time like 10:05."),
    ({"start": "10:00", "end": "09:00"}, "end", "The end must be after the start."),
    ({"end": "", "length": ""}, "end", "Enter the end time or the length."),
    ({"end": "10:00", "length": "60"}, "end", "Give the end time or the length, not both."),
    ({"day": "2027-02-30"}, "day", "Enter a real date."),
    ({"kind": ""}, "kind", "Choose the kind of visit."),
])
def test_a_refused_form_keeps_what_was_typed_and_says_why_beside_the_field(people, client, login, values, field, words):
    token = login(people.leader)
    data = _form(token, notes="Bring the blue folder", **values)
    response = client.post(_new(people.team), data=data)
    assert response.status_code == 422
    html = _text(response)
    assert words in _field_error(html, field)
    assert "Bring the blue folder" in html
    for name in ("day", "start", "end"):
        if data[name]:
            assert f'value="{data[name]}"' in html, name
    assert _shifts(people.team) == []


# ---------------------------------------------------------------- the clocks change


def test_a_start_in_the_spring_gap_is_refused_beside_the_start(people, client, login):
    token = login(people.leader)
    response = client.post(_new(people.team), data=_form(token, day=SPRING.isoformat(), start="01:30", end="03:00"))
    assert response.status_code == 422
    assert "does not exist" in _field_error(_text(response), "start")
    assert "The clocks change" in _text(response) and "a time between 01:00 and 02:00 does not exist" in _text(response)
    assert _shifts(people.team) == []


@pytest.mark.parametrize(("day", "start", "end", "minutes"), [
    (SPRING, "00:30", "03:00", 90),  # the hour from 01:00 to 02:00 never happens
    (AUTUMN, "00:30", "02:30", 180),  # the hour from 01:00 to 02:00 happens twice
])
def test_wall_clock_times_on_the_change_nights_last_the_real_time(people, client, login, day, start, end, minutes):
    token = login(people.leader)
    response = client.post(_new(people.team), data=_form(token, day=day.isoformat(), start=start, end=end))
    if response.status_code == 200:  # a warning only (none expected for these lengths)
        pytest.fail(_text(response))
    assert response.status_code == 303
    (shift,) = _shifts(people.team)
    assert rules.minutes_between(shift.starts_at.replace(tzinfo=UTC), shift.ends_at.replace(tzinfo=UTC)) == minutes
    # 00:30 is GMT (00:30 UTC) before the spring change and BST (23:30 UTC the day before) before the autumn one.
    expected = datetime(2027, 3, 28, 0, 30, tzinfo=UTC) if day == SPRING else datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert shift.starts_at.replace(tzinfo=UTC) == expected


def test_a_length_on_the_autumn_night_is_real_time(people, client, login):
    token = login(people.leader)
    response = client.post(_new(people.team), data=_form(token, day=AUTUMN.isoformat(), start="00:30", end="",
                                                         length="120"))
    assert response.status_code == 303
    (shift,) = _shifts(people.team)
    # 00:30 BST is 23:30 UTC; two hours later it is 01:30 UTC (01:30 GMT, the second 01:30).
    assert shift.ends_at.replace(tzinfo=UTC) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


# ---------------------------------------------------------------- changing


def _series(world, first: date, now: datetime = CLOCK, **kw) -> list[Shift]:
    data = {"rrule": "FREQ=WEEKLY;BYDAY=TU", "first_date": first, "start_time": time(9), "duration_minutes": 60,
            "kind": "practical_help", "notes": ""} | kw
    series = create_series(actor_for(world.leader), world.team.id, data, now=now)
    db.session.flush()
    return list(db.session.scalars(sa.select(Shift).where(Shift.series_id == series.id).order_by(Shift.starts_at)))


def _local(shift) -> datetime:
    from zoneinfo import ZoneInfo  # noqa: PLC0415  (test helper)
    return shift.starts_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/London"))


def test_a_one_off_visit_is_changed_and_has_no_scope_choice(people, client, login):
    shift = make_shift(people.team, datetime(2027, 1, 5, 9, tzinfo=UTC))
    token = login(people.wrangler)
    page = _text(client.get(_edit(people.team, shift)))
    assert 'value="09:00"' in page and 'value="10:00"' in page and "This visit and the following" not in page
    response = client.post(_edit(people.team, shift), data=_form(token, start="14:00", end="15:30",
                                                                 kind="companionship", notes="Walk to the park"))
    assert response.status_code == 303
    db.session.expire_all()
    assert shift.starts_at.replace(tzinfo=UTC) == datetime(2027, 1, 5, 14, tzinfo=UTC)
    assert shift.kind == ShiftKind.companionship and shift.notes == "Walk to the park"


def test_change_this_visit_of_a_series_only(people, client, login):
    visits = _series(people, date(2027, 1, 5), ends_on=date(2027, 1, 26))
    token = login(people.leader)
    second = visits[1]
    response = client.post(_edit(people.team, second), data=_form(token, day="2027-01-12", start="10:00",
                                                                  end="11:00", scope="this"))
    assert response.status_code == 303
    db.session.expire_all()
    hours = [_local(s).hour for s in visits]
    assert hours == [9, 10, 9, 9]


def test_change_this_and_following_visits_of_a_series(people, client, login):
    visits = _series(people, date(2027, 1, 5), ends_on=date(2027, 1, 26))
    token = login(people.leader)
    response = client.post(_edit(people.team, visits[2]), data=_form(token, day="2027-01-19", start="11:00",
                                                                     end="12:30", scope="following"))
    assert response.status_code == 303
    db.session.expire_all()
    rows = _shifts(people.team)
    live = [(_local(s).date(), _local(s).hour, s.ends_at - s.starts_at) for s in rows]
    assert live[:2] == [(date(2027, 1, 5), 9, timedelta(hours=1)), (date(2027, 1, 12), 9, timedelta(hours=1))]
    assert {(h, d) for _, h, d in live[2:]} == {(11, timedelta(minutes=90))}
    assert [day for day, _, _ in live[2:]] == [date(2027, 1, 19), date(2027, 1, 26)]


def test_following_cannot_move_the_day(people, client, login):
    visits = _series(people, date(2027, 1, 5), ends_on=date(2027, 1, 26))
    token = login(people.leader)
    response = client.post(_edit(people.team, visits[1]), data=_form(token, day="2027-01-13", scope="following"))
    assert response.status_code == 422
    assert "change this visit only" in _field_error(_text(response), "day")


def test_the_edit_page_explains_the_clock_change_a_series_crosses(people, client, login, time_machine):
    march = datetime(2027, 3, 1, 9, tzinfo=UTC)
    time_machine.move_to(march, tick=False)
    visits = _series(people, date(2027, 3, 16), now=march, ends_on=date(2027, 4, 6), kind="overnight",
                     start_time=time(22), duration_minutes=600, rrule="FREQ=WEEKLY;BYDAY=SA")
    login(people.leader)
    html = _text(client.get(_edit(people.team, visits[0])))
    assert "The clocks change" in html and "Sunday 28 March 2027" in html
    assert "9 hours on the night the clocks go forward" in html
    # A one-off visit on an ordinary day says nothing about clocks.
    plain = make_shift(people.team, datetime(2027, 1, 5, 9, tzinfo=UTC))
    assert "The clocks change" not in _text(client.get(_edit(people.team, plain)))


def test_the_edit_page_explains_a_one_off_visit_across_the_autumn_change(people, client, login):
    shift = make_shift(people.team, datetime(2027, 10, 30, 22, tzinfo=UTC), hours=10, kind=ShiftKind.overnight)
    login(people.leader)
    html = _text(client.get(_edit(people.team, shift)))
    assert "The clocks change" in html and "Sunday 31 October 2027" in html and "00:30 to 02:30 is 3 hours" in html


# ---------------------------------------------------------------- cancelling


def test_cancel_shows_short_notice_and_that_a_payment_is_due(people, client, login, time_machine):
    time_machine.move_to(CLOCK, tick=False)
    shift = make_shift(people.team, CLOCK + timedelta(hours=10), status=ShiftStatus.booked, person=people.worker)
    login(people.wrangler)
    html = _text(client.get(_cancel(people.team, shift)))
    assert "10 hours" in html and "Wendy Worker" in html
    assert "A cancellation payment is due" in html and "less than 24 hours' notice" in html


def test_cancel_with_long_notice_says_no_payment_is_due(people, client, login, time_machine):
    time_machine.move_to(CLOCK, tick=False)
    booked = make_shift(people.team, CLOCK + timedelta(days=5), status=ShiftStatus.booked, person=people.worker)
    empty = make_shift(people.team, CLOCK + timedelta(hours=3))
    login(people.leader)
    html = _text(client.get(_cancel(people.team, booked)))
    assert "5 days" in html and "No cancellation payment is due: the notice is at least 24 hours" in html
    assert "No cancellation payment is due: nobody is booked" in _text(client.get(_cancel(people.team, empty)))


def test_cancel_needs_a_reason_then_cancels(people, client, login, time_machine):
    time_machine.move_to(CLOCK, tick=False)
    shift = make_shift(people.team, CLOCK + timedelta(hours=10), status=ShiftStatus.booked, person=people.worker)
    token = login(people.leader)
    refused = client.post(_cancel(people.team, shift), data={"csrf_token": token, "reason": "   "})
    assert refused.status_code == 422
    assert "Say why the visit is cancelled." in _field_error(_text(refused), "reason")
    db.session.expire_all()
    assert shift.status == ShiftStatus.booked
    done = client.post(_cancel(people.team, shift), data={"csrf_token": token, "reason": "Hospital stay"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/rota/visits/{shift.id}")
    db.session.expire_all()
    assert shift.status == ShiftStatus.cancelled and shift.cancel_reason == "Hospital stay"
    assert shift.notice_minutes == 600
    assert "Visit cancelled" in _text(client.get(done.headers["Location"]))


# ---------------------------------------------------------------- pure rules


def test_plan_tasks_are_the_lines_of_the_practical_sections():
    sections = {"routines": {"text": "- Breakfast\n\n* Walk\n- Breakfast"}, "personal_care": {"text": "\u2022 Shower"},
                "risks": {"text": "Falls"}}
    assert rules.plan_tasks(sections) == ["Breakfast", "Walk", "Shower"]


def test_notice_words():
    assert rules.notice_words(0) == "no notice (the visit has started)"
    assert rules.notice_words(45) == "45 minutes"
    assert rules.notice_words(600) == "10 hours"
    assert rules.notice_words(3 * 24 * 60 + 120) == "3 days and 2 hours"


def test_clock_changes_are_the_last_sundays_of_march_and_october():
    assert rules.clock_changes_between("Europe/London", date(2027, 1, 1), date(2027, 12, 31)) == [SPRING, AUTUMN]
    assert rules.clock_changes_between("Europe/London", date(2027, 4, 1), date(2027, 9, 30)) == []


def test_wall_end_is_the_next_morning_for_overnight_kinds_only():
    assert rules.wall_end(SPRING, time(22), time(8), "overnight")[1] == datetime(2027, 3, 29, 8)
    assert rules.wall_end(SPRING, time(22), time(8), "practical_help")[1] == datetime(2027, 3, 28, 8)


def test_the_booked_worker_sees_the_visits_tasks_on_her_visit_page(people, client, login):
    shift = make_shift(people.team, CLOCK + timedelta(days=2), status=ShiftStatus.booked, person=people.worker,
                       tasks=["Breakfast", "Shower"])
    login(people.worker)
    html = _text(client.get(f"/my/shifts/{shift.id}"))
    assert "Tasks for you" in html and "<li>Breakfast</li>" in html and "<li>Shower</li>" in html
    plain = make_shift(people.team, CLOCK + timedelta(days=4), status=ShiftStatus.booked, person=people.worker)
    assert "Tasks for you" not in _text(client.get(f"/my/shifts/{plain.id}"))
