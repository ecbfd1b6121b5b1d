"""What the co-op holds about a person (issue 17, UK GDPR right of access): the
download contains every row naming her, found by walking the models, and never
another person's private data or a secret hash."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from careteams.auth import subject_access
from careteams.auth.account import request_contact_change
from careteams.auth.enums import ContactKind
from careteams.auth.models import ApiToken, LoginSession
from careteams.extensions import db
from careteams.members.enums import MemberClass
from careteams.members.models import Person
from tests.factories import (
    PASSWORD,
    ApiTokenFactory,
    HatFactory,
    InboundMessageFactory,
    LoginSessionFactory,
    MembershipEventFactory,
    MembershipFactory,
    OneTimeLinkFactory,
    OutboundMessageFactory,
    PersonFactory,
    StaffRoleFactory,
    TeamFactory,
    TeamMemberFactory,
    TeamPrivateDetailsFactory,
    TimesheetEntryFactory,
    WebNoticeFactory,
)
from tests.helpers import login


def test_every_table_naming_a_person_is_covered_or_excluded(app):
    """Fails when a new table (or column) references person.id and nobody decided here
    what a person's download gets of it: add it to COVERED, THROUGH or EXCLUDED."""
    assert subject_access.uncovered() == []


def _copy_of_the_models() -> sa.MetaData:
    copy = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_a_new_table_naming_a_person_is_reported_uncovered(app):
    models = _copy_of_the_models()
    assert subject_access.uncovered(models.tables) == []
    sa.Table("mystery_notes", models, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("about_id", sa.ForeignKey("person.id")))
    assert subject_access.uncovered(models.tables) == ["mystery_notes"]


def test_a_new_person_column_in_a_covered_table_is_reported(app):
    models = _copy_of_the_models()
    models.tables["api_token"].append_column(sa.Column("approved_by_id", sa.ForeignKey("person.id")))
    assert subject_access.uncovered(models.tables) == ["api_token.approved_by_id"]


def _rows(download: dict, table: str) -> list[dict]:
    return download["tables"].get(table, {}).get("rows", [])


def _ids(download: dict, table: str) -> set:
    return {row.get("id") for row in _rows(download, table)}


def test_the_download_holds_her_rows_from_many_tables(app):
    nora = PersonFactory(phone="+447700900321")
    membership = MembershipFactory(person=nora, member_class=MemberClass.worker)
    event = MembershipEventFactory(membership=membership, note="Joined at the AGM")
    role = StaffRoleFactory(person=nora, cooperative=membership.cooperative)
    token = ApiTokenFactory(person=nora)
    session_row = LoginSessionFactory(person=nora)
    link = OneTimeLinkFactory(person=nora)
    team = TeamFactory(cooperative=membership.cooperative)
    place = TeamMemberFactory(team=team, person=nora)
    hat = HatFactory(team=team, person=nora)
    entry = TimesheetEntryFactory(team=team, person=nora, note="Left at five")
    text = OutboundMessageFactory(person=nora)
    stray = OutboundMessageFactory(person=PersonFactory(), person_id=None, to_number=nora.phone, body="Code 1")
    inbound = InboundMessageFactory(person=nora)
    earlier_owners = OutboundMessageFactory(person=PersonFactory(), to_number=nora.phone, body="Your visit at 1 Elm Road")
    notice = WebNoticeFactory(person=nora)
    request_contact_change(nora, ContactKind.email, "nora.new@example.org")
    own_team = TeamFactory(leader=nora, cooperative=membership.cooperative, supported_membership=False)
    details = TeamPrivateDetailsFactory(team_id=own_team.id, access_notes="Key safe 4321")
    db.session.flush()

    download = json.loads(subject_access.as_json(nora))
    assert _ids(download, "person") == {nora.id}
    assert _rows(download, "person")[0]["email"] == nora.email
    expected = {"membership": membership.id, "membership_event": event.id, "staff_role": role.id,
                "api_token": token.id, "login_session": session_row.id, "one_time_link": link.id,
                "team_member": place.id, "hat": hat.id, "timesheet_entry": entry.id,
                "outbound_message": text.id, "inbound_message": inbound.id, "web_notice": notice.id,
                "team": own_team.id, "team_private_details": details.id}
    for table, row_id in expected.items():
        assert row_id in _ids(download, table), f"{table} row {row_id} missing from the download"
    assert stray.id in _ids(download, "outbound_message")  # found by her number (BY_CONTACT)
    assert earlier_owners.id not in _ids(download, "outbound_message")  # her number, somebody else's text
    assert [r["new_value"] for r in _rows(download, "contact_change")] == ["nora.new@example.org"]
    assert "Left at five" in json.dumps(download) and "Key safe 4321" in json.dumps(download)
    assert download["not_included"]["ballot"].startswith("Secret ballots")


def test_the_download_never_holds_secrets_or_another_persons_private_details(app):
    leader = PersonFactory()
    team = TeamFactory(leader=leader)
    TeamPrivateDetailsFactory(team_id=team.id, access_notes="Key safe 9876")
    worker = PersonFactory()
    TeamMemberFactory(team=team, person=worker)
    entry = TimesheetEntryFactory(team=team, person=worker, note="Mrs B had a fall", confirmed=True)
    other_token = ApiTokenFactory(person=worker)
    mine = ApiTokenFactory(person=leader)
    my_session = LoginSessionFactory(person=leader)
    request_contact_change(leader, ContactKind.phone, "07700 900432")
    db.session.flush()

    worker_download = subject_access.as_json(worker) + subject_access.as_csv(worker)
    assert "Key safe 9876" not in worker_download  # the team's details are the leader's
    leader_download = subject_access.as_json(leader) + subject_access.as_csv(leader)
    # the leader confirmed the worker's entry: she gets that she did it, not the worker's note
    confirmed = [r for r in _rows(json.loads(subject_access.as_json(leader)), "timesheet_entry") if r["id"] == entry.id]
    assert confirmed and confirmed[0]["confirmed_by_id"] == leader.id and confirmed[0]["confirmed_at"]
    assert "note" not in confirmed[0] and "started_at" not in confirmed[0]  # the worker's visit, not hers
    assert "Mrs B had a fall" not in leader_download
    person_hash = db.session.scalar(sa.select(Person.password_hash).where(Person.id == leader.id))
    for secret in (person_hash, mine.token_hash, my_session.key_hash, other_token.token_hash, worker.email):
        assert secret not in leader_download
    assert "code_hash" not in leader_download and "password_hash" not in leader_download
    assert db.session.get(ApiToken, mine.id) and db.session.get(LoginSession, my_session.id)


def test_she_downloads_json_and_csv_and_reads_the_statement(client):
    nora = PersonFactory()
    MembershipFactory(person=nora)
    login(client, nora.email, PASSWORD)
    page = client.get("/my/account/data")
    assert page.status_code == 200 and "What the co-op holds about you" in page.get_data(as_text=True)
    assert "Secret ballots cannot be linked to you" in page.get_data(as_text=True)
    response = client.get("/my/account/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    assert nora.email in {r["email"] for r in json.loads(response.get_data(as_text=True))["tables"]["person"]["rows"]}
    response = client.get("/my/account/data.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0] == ["table", "row", "column", "value"]
    assert ["person", "1", "email", nora.email] in lines
    assert any(line[0] == "membership" for line in lines[1:])
    assert any(line[0] == "login_session" for line in lines[1:])  # this very sign-in


def test_csv_values_cannot_run_as_spreadsheet_formulas(app):
    nora = PersonFactory(name="=HYPERLINK(\"http://evil.example\")")
    lines = list(csv.reader(io.StringIO(subject_access.as_csv(nora))))
    [name] = [line[3] for line in lines if line[:3] == ["person", "1", "name"]]
    assert name.startswith("'=")
