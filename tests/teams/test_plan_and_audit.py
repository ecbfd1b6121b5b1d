"""The support plan keeps every version; the audit log records every change; both
are append-only; neither leaks plan or private content into logs or messages."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from careteams.extensions import db
from careteams.teams.models import AppendOnlyError, AuditEntry, SupportPlanVersion
from careteams.teams.services import plans
from tests.teams.conftest import snapshot


def _versions(team_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(SupportPlanVersion).where(SupportPlanVersion.team_id == team_id)
                              .order_by(SupportPlanVersion.number)).all()


def _audit(team_id):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.team_id == team_id).order_by(AuditEntry.id)).all()


def test_each_save_is_a_new_version_with_author_and_time(world, as_person):
    url = f"/api/v1/teams/{world.team.id}/plan"
    first = [(v.number, v.sections) for v in _versions(world.team.id)]
    r = as_person(world.people["plankeeper"]).post(url, json={"sections": {"risks": {"text": "Loose rug."}}, "base_version": 2})
    assert r.status_code == 201
    body = r.get_json()
    assert body["number"] == 3 and body["author_id"] == world.people["plankeeper"].id
    assert body["on_behalf"] == "hat:Plan keeper" and body["created_at"]
    # Sections left out keep their text; earlier versions are untouched.
    assert body["sections"]["routines"]["text"] == "Up at eight."
    assert body["sections"]["risks"]["text"] == "Loose rug."
    assert [(v.number, v.sections) for v in _versions(world.team.id)][:2] == first
    versions = as_person(world.people["leader"]).get(f"{url}/versions").get_json()
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert all(v["author_name"] for v in versions)


def test_saving_over_someone_elses_newer_version_is_a_conflict(world, as_person):
    url = f"/api/v1/teams/{world.team.id}/plan"
    before = snapshot(world.team.id)
    r = as_person(world.people["leader"]).post(url, json={"sections": {"risks": {"text": "x"}}, "base_version": 1})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_plan"
    assert snapshot(world.team.id) == before


@pytest.mark.parametrize("body", [
    {"sections": {"hobbies": {"text": "Chess"}}},
    {"sections": {"risks": {"text": "x" * 10_001}}},
    {"sections": {"risks": "not an object"}},
    {},
])
def test_bad_plan_input_is_422_and_saves_nothing(world, as_person, body):
    before = snapshot(world.team.id)
    r = as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/plan", json=body)
    assert r.status_code == 422 and r.get_json()["error"]["details"]["fields"]
    assert snapshot(world.team.id) == before


def test_any_two_versions_can_be_compared(world, as_person):
    r = as_person(world.people["facilitator"]).get(f"/api/v1/teams/{world.team.id}/plan/compare?from=1&to=2")
    assert r.status_code == 200
    changes = {c["section"]: c for c in r.get_json()["sections"]}
    assert changes["routines"] == {"section": "routines", "title": "My routines", "before": "", "after": "Up at eight.",
                                   "shared_before": False, "shared_after": False, "changed": True}
    assert not changes["what_matters"]["changed"]
    assert as_person(world.people["leader"]).get(
        f"/api/v1/teams/{world.team.id}/plan/compare?from=1&to=9").status_code == 404
    assert as_person(world.people["leader"]).get(
        f"/api/v1/teams/{world.team.id}/plan/compare?from=x&to=2").status_code == 422


def test_a_facilitators_suggestion_changes_nothing_until_the_leader_accepts(world, as_person):
    leader = as_person(world.people["leader"])
    base = f"/api/v1/teams/{world.team.id}/plan"
    assert leader.get(base).get_json()["sections"]["risks"]["text"] == ""
    r = leader.post(f"{base}/suggestions/{world.suggestion.id}/accept")
    assert r.status_code == 200 and r.get_json()["resulting_version_number"] == 3
    plan = leader.get(base).get_json()
    assert plan["version"] == 3 and plan["sections"]["risks"]["text"] == "Stairs at night."
    assert plan["sections"]["routines"]["text"] == "Up at eight."
    assert leader.post(f"{base}/suggestions/{world.suggestion.id}/decline").status_code == 409


def test_a_declined_suggestion_makes_no_version(world, as_person):
    r = as_person(world.people["leader"]).post(
        f"/api/v1/teams/{world.team.id}/plan/suggestions/{world.suggestion.id}/decline")
    assert r.get_json()["status"] == "declined"
    assert len(_versions(world.team.id)) == 2


def test_every_change_is_in_the_log_with_who_and_on_whose_behalf(world, as_person):
    before = len(_audit(world.team.id))
    team = f"/api/v1/teams/{world.team.id}"
    as_person(world.people["builder"]).post(f"{team}/invitations",
                                            json={"person_id": world.people["invitee"].id, "role": "volunteer"})
    as_person(world.people["leader"]).patch(team, json={"display_name": "Annie"})
    as_person(world.people["plankeeper"]).post(f"{team}/plan", json={"sections": {"risks": {"text": "Rug."}}})
    entries = _audit(world.team.id)[before:]
    assert [(e.action, e.actor_id, e.on_behalf) for e in entries] == [
        ("member.invited", world.people["builder"].id, "hat:Team builder"),
        ("team.updated", world.people["leader"].id, "leader"),
        ("plan.saved", world.people["plankeeper"].id, "hat:Plan keeper"),
    ]
    assert entries[0].after["status"] == "invited"
    assert entries[1].before == {"display_name": "Ann"} and entries[1].after == {"display_name": "Annie"}
    assert entries[2].before == {"version": 2} and entries[2].after == {"version": 3, "sections": ["risks"]}
    assert all(e.at is not None for e in entries)
    log = as_person(world.people["facilitator"]).get(f"{team}/history").get_json()
    assert [e["action"] for e in log][-3:] == ["member.invited", "team.updated", "plan.saved"]


def test_the_log_keeps_plan_and_private_content_out(world, as_person):
    as_person(world.people["leader"]).put(f"/api/v1/teams/{world.team.id}/private-details",
                                          json={"access_notes": "Door code 9876"})
    text = repr([(e.before, e.after) for e in _audit(world.team.id)])
    for secret in ("Door code", "Secret Lane", "Key safe", "Shower", "garden"):
        assert secret not in text
    private = [e for e in _audit(world.team.id) if e.action == "private_details.updated"]
    assert private[-1].after == {"fields": ["access_notes"]}


def test_the_log_and_versions_cannot_be_rewritten_through_the_orm(world):
    entry = _audit(world.team.id)[0]
    entry.action = "nothing happened"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    version = _versions(world.team.id)[0]
    db.session.delete(version)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    entry = _audit(world.team.id)[0]
    db.session.delete(entry)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("table", ["team_audit_entry", "support_plan_version"])
def test_the_database_refuses_updates(world, table):
    with pytest.raises(sa.exc.DatabaseError):
        with db.session.begin_nested():
            db.session.execute(sa.text(f"UPDATE {table} SET team_id = team_id"))
    db.session.rollback()


@pytest.mark.parametrize("table", ["team_audit_entry", "support_plan_version"])
def test_postgres_refuses_deletes(world, database_url, table):
    from tests.conftest import requires_postgres

    requires_postgres(database_url)
    with pytest.raises(sa.exc.DatabaseError):
        with db.session.begin_nested():
            db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.rollback()


def test_application_logs_carry_no_plan_or_private_details(world, as_person, caplog):
    from careteams.teams.signals import team_member_ended

    caplog.set_level(logging.DEBUG, logger="careteams")
    leader = as_person(world.people["leader"])
    team = f"/api/v1/teams/{world.team.id}"
    leader.put(f"{team}/private-details", json={"address": "77 Hidden Road"})
    leader.post(f"{team}/plan", json={"sections": {"personal_care": {"text": "Catheter care daily."}}})
    leader.post(f"{team}/plan", json={"sections": {"personal_care": {"text": "Catheter care."}}, "base_version": 1})
    leader.get(f"{team}/plan")

    def broken(member, **extra):
        raise RuntimeError("a receiver failed")

    team_member_ended.connect(broken)
    try:  # an unexpected error is logged with its traceback...
        r = leader.post(f"{team}/members/{world.family_member.id}/end", json={"note": "Dementia is worse."})
    finally:
        team_member_ended.disconnect(broken)
    assert r.status_code == 500
    assert "unhandled error" in caplog.text
    # ...but no plan, address or private note reaches the log.
    for secret in ("Hidden Road", "Catheter", "Dementia"):
        assert secret not in caplog.text


def test_texts_about_a_team_carry_no_team_details(world, as_person, sms_outbox):
    from careteams.members.models import ContactChannel

    world.people["invitee"].preferred_channel = ContactChannel.sms
    db.session.commit()
    as_person(world.people["leader"]).post(f"/api/v1/teams/{world.team.id}/hats", json={
        "person_id": world.people["invitee"].id, "hat_type_id": world.hat_types["Plan keeper"].id})
    assert sms_outbox, "the person offered a hat is told by text"
    for message in sms_outbox:
        body = str(message)
        assert "Ann" not in body and "Plan keeper" not in body and "garden" not in body


def test_plan_versions_and_audit_rows_only_grow(world):
    versions = len(_versions(world.team.id))
    entries = len(_audit(world.team.id))
    plans.save_plan(world.actor("leader"), world.team.id, {"risks": {"text": "Rug."}})
    plans.answer_suggestion(world.actor("leader"), world.team.id, world.suggestion.id, True)
    assert len(_versions(world.team.id)) == versions + 2
    assert len(_audit(world.team.id)) == entries + 3  # two saves and the answer
