"""Disputes are a conversation (issue 17): the checker disputes, the worker answers, the
checker replies (or confirms as logged), a facilitator settles with figures; every step
is in the entry's history (timesheet_entry_event), on the entry page and in the API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from careteams.errors import Conflict, Forbidden, NotFound, ValidationError
from careteams.extensions import db
from careteams.hours.enums import EntryEventKind as K
from careteams.hours.models import (
    AreaBand,
    CoopPayRate,
    HoursSettings,
    TimesheetEntry,
    TimesheetEntryEvent,
)
from careteams.hours.rules import TimesheetStatus as S
from careteams.hours.services import clock, runs, timesheets
from careteams.members.models import Person
from tests.helpers import csrf_from, login
from tests.hours.conftest import START, act, make_entry, profile

NOW = START + timedelta(hours=3)
REASON = "You left at 11:30, not noon"
ANSWER = "The bus was late so I stayed on"


def _events(entry_id: int) -> list[TimesheetEntryEvent]:
    return list(db.session.scalars(sa.select(TimesheetEntryEvent).where(TimesheetEntryEvent.entry_id == entry_id)
                                   .order_by(TimesheetEntryEvent.id)))


def _kinds(entry_id: int) -> list[str]:
    return [e.kind.value for e in _events(entry_id)]


def _logged_and_submitted(world) -> TimesheetEntry:
    entry = timesheets.log_entry(act(world.worker), world.team.id, {
        "started_at": START, "ended_at": START + timedelta(hours=2), "note": "Shopping"}, NOW)
    timesheets.submit_entry(act(world.worker), entry.id, NOW)
    return entry


def _disputed(world) -> TimesheetEntry:
    entry = _logged_and_submitted(world)
    timesheets.dispute_entry(act(world.leader), entry.id, REASON, NOW)
    return entry


def _other_leader(world) -> Person:
    return db.session.get(Person, world.other_team.leader_id)


# ---------------------------------------------------------------- the conversation, by the services


def test_the_whole_conversation_is_in_the_history(world, sms_outbox):
    entry = _disputed(world)
    timesheets.answer_dispute(act(world.worker), entry.id, {"comment": f"  {ANSWER} "}, NOW + timedelta(minutes=1))
    timesheets.reply_to_dispute(act(world.leader), entry.id, {"comment": "The rota says 11:30"}, NOW + timedelta(minutes=2))
    timesheets.answer_dispute(act(world.worker), entry.id, {"comment": "Ask Ann, she saw me"}, NOW + timedelta(minutes=3))
    assert entry.status == S.disputed  # talking never changes the entry
    settled_end = START + timedelta(minutes=105)
    timesheets.resolve_dispute(act(world.facilitator), entry.id, {
        "outcome": "confirm", "started_at": START, "ended_at": settled_end, "break_minutes": 5, "travel_minutes": 10,
        "note": "Spoke to both"}, NOW + timedelta(minutes=4))
    assert entry.status == S.confirmed and entry.ended_at == settled_end and entry.break_minutes == 5
    assert entry.confirmed_by_id == world.facilitator.id

    events = _events(entry.id)
    assert [e.kind for e in events] == [K.logged, K.submitted, K.disputed, K.answered, K.replied, K.answered, K.settled]
    assert [e.role for e in events] == ["worker", "worker", "checker", "worker", "checker", "worker", "facilitator"]
    assert [e.actor_id for e in events] == [world.worker.id] * 2 + [world.leader.id, world.worker.id, world.leader.id,
                                                                     world.worker.id, world.facilitator.id]
    assert events[2].words == REASON and events[3].words == ANSWER  # stripped
    settled = events[-1]
    assert settled.words == "Spoke to both"
    assert settled.figures_before == {"started_at": START.isoformat(), "ended_at": (START + timedelta(hours=2)).isoformat(),
                                      "break_minutes": 0, "travel_minutes": 0}
    assert settled.figures_after == {"started_at": START.isoformat(), "ended_at": settled_end.isoformat(),
                                     "break_minutes": 5, "travel_minutes": 10}

    # The other side is told each time, without the words (no health details in texts).
    said = [t for t in sms_outbox]
    to_leader = [t.body for t in said if t.to == world.leader.phone]
    to_worker = [t.body for t in said if t.to == world.worker.phone]
    assert any("disputed" in b for b in to_worker)  # so the worker knows to answer
    assert any("answered" in b for b in to_leader) and any("reply" in b for b in to_worker)
    assert any("settled" in b for b in to_worker) and any("settled" in b for b in to_leader)
    for text in said:
        for words in (REASON, ANSWER, "The rota says", "Ask Ann", "Spoke to both"):
            assert words not in text.body


def test_the_leader_confirms_as_logged_after_the_answer(world, sms_outbox):
    entry = _disputed(world)
    timesheets.answer_dispute(act(world.worker), entry.id, {"comment": ANSWER}, NOW)
    timesheets.confirm_entry(act(world.leader), entry.id, NOW + timedelta(minutes=5))
    assert entry.status == S.confirmed and entry.confirmed_by_id == world.leader.id
    assert entry.ended_at == START + timedelta(hours=2)  # as the worker logged it
    assert _kinds(entry.id)[-2:] == ["answered", "confirmed"]
    assert any("confirmed" in t.body for t in sms_outbox if t.to == world.worker.phone)
    with pytest.raises(Conflict):  # over: nothing more to say
        timesheets.answer_dispute(act(world.worker), entry.id, {"comment": "thanks"}, NOW)


def test_a_rejected_change_is_answered_too(world):
    entry = _logged_and_submitted(world)
    timesheets.propose_adjustment(act(world.checker), entry.id, {"ended_at": START + timedelta(minutes=60)}, NOW)
    timesheets.reject_adjustment(act(world.worker), entry.id, "I stayed until noon", NOW)
    timesheets.reply_to_dispute(act(world.checker), entry.id, {"comment": "You signed out at 11"}, NOW)
    timesheets.answer_dispute(act(world.worker), entry.id, {"comment": ANSWER}, NOW)
    timesheets.resolve_dispute(act(world.facilitator), entry.id, {"outcome": "void", "note": "Not worked"}, NOW)
    events = _events(entry.id)
    assert [e.kind for e in events][2:] == [K.adjustment_proposed, K.rejected, K.replied, K.answered, K.voided]
    proposed = events[2]
    assert proposed.figures_after["ended_at"] == (START + timedelta(minutes=60)).isoformat()
    assert proposed.figures_before["ended_at"] == (START + timedelta(hours=2)).isoformat()


def test_every_service_that_changes_an_entry_records_a_step(world):
    entry = timesheets.log_entry(act(world.worker), world.team.id, {
        "started_at": START, "ended_at": START + timedelta(hours=2)}, NOW)
    timesheets.update_entry(act(world.worker), entry.id, {"break_minutes": 10}, NOW)
    timesheets.submit_entry(act(world.worker), entry.id, NOW)
    clock.auto_confirm_due(NOW + timedelta(days=4))
    assert entry.status == S.confirmed
    correction = timesheets.correct_entry(act(world.worker), entry.id, {"break_minutes": 20}, NOW + timedelta(days=5))
    assert _kinds(entry.id) == ["logged", "edited", "submitted", "auto_confirmed", "corrected"]
    edited, auto, corrected = _events(entry.id)[1], _events(entry.id)[3], _events(entry.id)[4]
    assert (edited.figures_before["break_minutes"], edited.figures_after["break_minutes"]) == (0, 10)
    assert auto.role == "clock" and auto.actor_id is None
    assert corrected.other_entry_id == correction.id
    [made] = _events(correction.id)
    assert made.kind == K.correction and made.other_entry_id == entry.id
    assert made.figures_after["break_minutes"] == 20


# ---------------------------------------------------------------- refused actors


def _call(action: str, person, entry_id: int):
    actor = act(person)
    if action == "answer":
        return timesheets.answer_dispute(actor, entry_id, {"comment": "mine"}, NOW)
    if action == "reply":
        return timesheets.reply_to_dispute(actor, entry_id, {"comment": "mine"}, NOW)
    if action == "confirm":
        return timesheets.confirm_entry(actor, entry_id, NOW)
    if action == "settle":
        return timesheets.resolve_dispute(actor, entry_id, {"outcome": "confirm", "note": "mine"}, NOW)
    return timesheets.entry_history(actor, entry_id)


REFUSED = [
    # (action, who, error)
    ("answer", "leader", Forbidden), ("answer", "checker", Forbidden), ("answer", "facilitator", Forbidden),
    ("answer", "worker2", NotFound), ("answer", "other_leader", NotFound), ("answer", "stranger", NotFound),
    ("answer", "other_facilitator", NotFound),
    ("reply", "worker", Forbidden), ("reply", "facilitator", Forbidden), ("reply", "worker2", NotFound),
    ("reply", "other_leader", NotFound), ("reply", "stranger", NotFound), ("reply", "other_facilitator", NotFound),
    ("confirm", "worker", Forbidden), ("confirm", "facilitator", Forbidden), ("confirm", "other_leader", NotFound),
    ("settle", "worker", Forbidden), ("settle", "leader", Forbidden), ("settle", "checker", Forbidden),
    ("settle", "other_facilitator", NotFound), ("settle", "stranger", NotFound), ("settle", "other_leader", NotFound),
    ("history", "worker2", NotFound), ("history", "other_leader", NotFound), ("history", "stranger", NotFound),
    ("history", "other_facilitator", NotFound), ("history", "circle", NotFound),
]


@pytest.mark.parametrize("action, who, error", REFUSED)
def test_each_action_is_refused_for_the_wrong_actors(world, action, who, error):
    entry = _disputed(world)
    before = _kinds(entry.id)
    person = _other_leader(world) if who == "other_leader" else getattr(world, who)
    with pytest.raises(error):
        _call(action, person, entry.id)
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, entry.id).status == S.disputed
    assert _kinds(entry.id) == before


@pytest.mark.parametrize("action, who", [("answer", "worker"), ("reply", "leader"), ("reply", "checker"),
                                         ("confirm", "leader"), ("settle", "facilitator"), ("history", "worker"),
                                         ("history", "checker"), ("history", "facilitator")])
def test_the_right_actors_may(world, action, who):
    entry = _disputed(world)
    _call(action, getattr(world, who), entry.id)


def test_answer_and_reply_only_while_in_dispute(world):
    entry = _logged_and_submitted(world)
    with pytest.raises(Conflict):
        timesheets.answer_dispute(act(world.worker), entry.id, {"comment": ANSWER}, NOW)
    with pytest.raises(Conflict):
        timesheets.reply_to_dispute(act(world.leader), entry.id, {"comment": "hm"}, NOW)
    assert _kinds(entry.id) == ["logged", "submitted"]


def test_nobody_replies_about_their_own_hours(world):
    # The Hours checker is a worker in the team too: about their own hours they answer, never reply.
    entry = make_entry(world, person=world.checker, status=S.disputed, dispute_comment=REASON)
    with pytest.raises(Forbidden):
        timesheets.reply_to_dispute(act(world.checker), entry.id, {"comment": "I agree with me"}, NOW)
    timesheets.answer_dispute(act(world.checker), entry.id, {"comment": ANSWER}, NOW)


# ---------------------------------------------------------------- bad input: 422, nothing half-written


@pytest.mark.parametrize("words, message", [("", "Write your answer."), ("   ", "Write your answer."),
                                            ("x" * 501, "Keep it to 500 characters or fewer.")])
def test_empty_or_too_long_words_are_refused(world, words, message):
    entry = _disputed(world)
    for call in (timesheets.answer_dispute, ):
        with pytest.raises(ValidationError) as refused:
            call(act(world.worker), entry.id, {"comment": words}, NOW)
        assert refused.value.details["fields"]["comment"] == [message]
    with pytest.raises(ValidationError):
        timesheets.reply_to_dispute(act(world.leader), entry.id, {"comment": words}, NOW)
    assert _kinds(entry.id) == ["logged", "submitted", "disputed"]


def test_api_conversation_history_and_bad_input(client, world, auth_headers):
    entry = _disputed(world)
    db.session.commit()
    worker, leader, fac = auth_headers(world.worker), auth_headers(world.leader), auth_headers(world.facilitator)
    url = f"/api/v1/timesheets/{entry.id}"

    for body in ({}, {"comment": ""}, {"comment": "   "}, {"comment": "x" * 501}, {"comment": 5}):
        response = client.post(f"{url}/answer", headers=worker, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert "comment" in response.get_json()["error"]["details"]["fields"]
    assert client.post(f"{url}/answer", headers=leader, json={"comment": "hi"}).status_code == 403
    assert client.post(f"{url}/reply", headers=worker, json={"comment": "hi"}).status_code == 403
    for person in (world.stranger, world.worker2, world.other_facilitator, _other_leader(world)):
        headers = auth_headers(person)
        assert client.post(f"{url}/answer", headers=headers, json={"comment": "hi"}).status_code == 404
        assert client.post(f"{url}/reply", headers=headers, json={"comment": "hi"}).status_code == 404
        assert client.get(f"{url}/history", headers=headers).status_code == 404

    answered = client.post(f"{url}/answer", headers=worker, json={"comment": ANSWER})
    assert answered.status_code == 200 and answered.get_json()["status"] == "disputed"
    assert client.post(f"{url}/reply", headers=leader, json={"comment": "The rota says 11:30"}).status_code == 200

    # Settling with the end before the start: 422 on ended_at, nothing written.
    bad = client.post(f"{url}/resolve", headers=fac, json={
        "outcome": "confirm", "started_at": "2026-11-02T10:00:00+00:00", "ended_at": "2026-11-02T09:00:00+00:00"})
    assert bad.status_code == 422 and "ended_at" in bad.get_json()["error"]["details"]["fields"]
    assert client.post(f"{url}/resolve", headers=worker, json={"outcome": "confirm"}).status_code == 403
    settled = client.post(f"{url}/resolve", headers=fac, json={
        "outcome": "confirm", "started_at": "2026-11-02T10:00:00+00:00", "ended_at": "2026-11-02T11:30:00+00:00",
        "note": "Spoke to both"})
    assert settled.status_code == 200 and settled.get_json()["status"] == "confirmed"

    steps = client.get(f"{url}/history", headers=worker).get_json()
    assert [s["kind"] for s in steps] == ["logged", "submitted", "disputed", "answered", "replied", "settled"]
    assert steps[2]["words"] == REASON and steps[2]["role"] == "checker" and steps[2]["actor_name"] == "Ann Leader"
    assert steps[3]["words"] == ANSWER and steps[3]["actor_id"] == world.worker.id
    assert steps[-1]["figures_after"]["ended_at"].startswith("2026-11-02T11:30")
    assert steps[-1]["figures_before"]["ended_at"].startswith("2026-11-02T12:00")
    assert client.get(f"{url}/history", headers=fac).status_code == 200
    assert client.post(f"{url}/answer", headers=worker, json={"comment": "more"}).status_code == 409


def test_the_openapi_document_has_the_new_operations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    for action in ("answer", "reply"):
        operation = paths[f"/api/v1/timesheets/{{entry_id}}/{action}"]["post"]
        assert "requestBody" in operation and {"200", "403", "404", "409", "422"} <= set(operation["responses"])
    history = paths["/api/v1/timesheets/{entry_id}/history"]["get"]
    schema = history["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["type"] == "array"
    assert "EntryEvent" in document["components"]["schemas"]


# ---------------------------------------------------------------- the entry page


def _as(client, person) -> None:
    assert login(client, person.email, "correct horse battery").status_code == 302


def _beside(html: str, field_id: str, message: str) -> None:
    error = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html
    tag = re.search(rf'<(?:input|textarea)[^>]*id="{re.escape(field_id)}"[^>]*>', html).group(0)
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)
    assert f'<a href="#{field_id}">{message}' in html


def test_the_conversation_on_the_entry_page(client, world):
    entry = _disputed(world)
    db.session.commit()
    page_url = f"/hours/entries/{entry.id}"

    _as(client, world.worker)
    assert f'href="{page_url}"' in client.get("/my/hours").text
    page = client.get(page_url).text
    assert REASON in page and "Answer the dispute" in page and "Settle the dispute" not in page
    assert "Reply to" not in page
    r = client.post(f"{page_url}/answer", data={"comment": ANSWER, "csrf_token": csrf_from(page)})
    assert r.status_code == 303
    assert client.post(f"{page_url}/settle", data={"start": "10:00", "end": "11:00",
                                                    "csrf_token": csrf_from(page)}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(page)})

    _as(client, world.leader)
    assert f'href="{page_url}"' in client.get("/hours/to-confirm").text
    page = client.get(page_url).text
    assert ANSWER in page and "Reply to Wendy Worker" in page and "Confirm the hours as logged" in page
    assert "Answer the dispute" not in page
    assert client.post(f"{page_url}/reply", data={"comment": "Fair enough, but ask next time",
                                                   "csrf_token": csrf_from(page)}).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_from(page)})

    _as(client, world.facilitator)
    page = client.get(page_url).text
    assert REASON in page and ANSWER in page and "Fair enough" in page and "Settle the dispute" in page
    assert 'value="10:00"' in page and 'value="12:00"' in page  # the logged figures to start from
    r = client.post(f"{page_url}/settle", data={"start": "10:00", "end": "11:45", "break_minutes": "0",
                                                 "travel_minutes": "15", "note": "Agreed on the phone",
                                                 "csrf_token": csrf_from(page)})
    assert r.status_code == 303
    page = client.get(page_url).text
    assert "settled the dispute: the hours are confirmed" in page and "Agreed on the phone" in page
    db.session.expire_all()
    settled = db.session.get(TimesheetEntry, entry.id)
    assert settled.status == S.confirmed and settled.travel_minutes == 15
    assert settled.ended_at - settled.started_at == timedelta(minutes=105)


@pytest.mark.parametrize("who, status", [("worker2", 404), ("stranger", 404), ("other_facilitator", 404),
                                         ("other_leader", 404)])
def test_the_entry_page_is_private(client, world, who, status):
    entry = _disputed(world)
    db.session.commit()
    _as(client, _other_leader(world) if who == "other_leader" else getattr(world, who))
    assert client.get(f"/hours/entries/{entry.id}").status_code == status


@pytest.mark.parametrize("data, field, message", [
    ({"comment": ""}, "answer", "Write your answer."),
    ({"comment": "x" * 501}, "answer", "Keep it to 500 characters or fewer."),
])
def test_a_refused_answer_says_why_beside_the_field(client, world, data, field, message):
    entry = _disputed(world)
    db.session.commit()
    _as(client, world.worker)
    page = client.get(f"/hours/entries/{entry.id}").text
    r = client.post(f"/hours/entries/{entry.id}/answer", data={**data, "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, field, message)
    assert _kinds(entry.id) == ["logged", "submitted", "disputed"]


def test_a_refused_settlement_keeps_the_typing(client, world):
    entry = _disputed(world)
    db.session.commit()
    _as(client, world.facilitator)
    url = f"/hours/entries/{entry.id}"
    page = client.get(url).text
    r = client.post(f"{url}/settle", data={"start": "11:00", "end": "10:30", "break_minutes": "5",
                                           "note": "Rang them", "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, "end", "The end must be after the start.")
    assert 'value="11:00"' in r.text and 'value="10:30"' in r.text and 'value="Rang them"' in r.text
    r = client.post(f"{url}/settle", data={"start": "10:00", "end": "11:00", "break_minutes": "ten",
                                           "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, "break_minutes", "Enter a whole number.")
    r = client.post(f"{url}/settle", data={"start": "10:00", "end": "11:00", "note": "x" * 501,
                                           "csrf_token": csrf_from(page)})
    assert r.status_code == 422
    _beside(r.text, "note", "Keep it to 500 characters or fewer.")
    db.session.expire_all()
    assert db.session.get(TimesheetEntry, entry.id).status == S.disputed
    assert _kinds(entry.id) == ["logged", "submitted", "disputed"]


# ---------------------------------------------------------------- pay


def test_a_settled_entry_is_paid_with_the_settled_figures(world):
    db.session.add_all([HoursSettings(cooperative_id=world.coop.id),
                        CoopPayRate(cooperative_id=world.coop.id, area_band=AreaBand.urban,
                                    effective_from=date(2026, 4, 1), hourly_rate_pence=1300)])
    profile(world, world.worker, employed=True)
    entry = _disputed(world)
    timesheets.answer_dispute(act(world.worker), entry.id, {"comment": ANSWER}, NOW)
    timesheets.resolve_dispute(act(world.facilitator), entry.id, {
        "outcome": "confirm", "started_at": START, "ended_at": START + timedelta(minutes=90), "note": "Agreed"}, NOW)
    outcome = runs.close_run(act(world.facilitator), world.coop.id, date(2026, 11, 1), datetime(2026, 12, 1, 1, tzinfo=UTC))
    report = runs.run_report(act(world.facilitator), outcome.run.id)
    [row] = [r for r in report.payroll if r["person_id"] == world.worker.id and r["element"] == "hours"]
    assert row["quantity"] == 90 and row["amount_pence"] == 1950  # 1.5 h at £13.00, not the 2 h logged


def test_the_clock_and_a_text_record_their_steps(world):
    from careteams.hours.services import texts
    from careteams.rota.models import Offer, OfferStatus, ShiftStatus
    from tests.rota.conftest import make_shift

    shift = make_shift(world.team, START - timedelta(hours=4), 2, status=ShiftStatus.booked, person=world.worker)
    assert clock.create_pending_entries(NOW) == 1
    made = db.session.scalar(sa.select(TimesheetEntry).where(TimesheetEntry.shift_id == shift.id))
    [created] = _events(made.id)
    assert (created.kind, created.role, created.actor_id) == (K.created, "clock", None)
    assert created.figures_after["started_at"] == shift.starts_at.isoformat()

    texted = make_shift(world.team, START - timedelta(hours=8), 2, status=ShiftStatus.booked, person=world.worker2)
    db.session.add(Offer(shift_id=texted.id, person_id=world.worker2.id, code="517", status=OfferStatus.accepted,
                         code_live=False))
    db.session.flush()
    result = texts.done_by_code(world.worker2, "517", None, NOW)
    assert result.outcome == "submitted"
    assert [(e.kind, e.role, e.actor_id) for e in _events(result.entry.id)] == [
        (K.created, "worker", world.worker2.id), (K.submitted, "worker", world.worker2.id)]
