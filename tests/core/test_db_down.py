"""The database going away is a 503 with Retry-After, never a 500 (issue 14)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import has_request_context
from sqlalchemy.exc import OperationalError

from careteams.extensions import db
from tests.conftest import make_app


def test_an_unreachable_database_is_503_with_retry_after(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/no/such/dir/db.sqlite")
    client = app.test_client()
    api = client.get("/api/v1/teams/1", headers={"Authorization": "Bearer ct_x"})
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "30"
    assert api.get_json()["error"]["code"] == "unavailable"
    sms = client.post("/sms/inbound", data={"MessageSid": "SM1", "From": "+447700900123", "To": "+447700900000"})
    assert sms.status_code in (403, 503)  # unsigned: refused before the database, or 503 with TwiML
    with app.app_context():
        db.engine.dispose()


def test_a_lost_connection_at_commit_is_503_and_nothing_is_written(app, client, auth_headers, monkeypatch):
    from careteams.teams.models import TeamMember
    from tests.factories import PersonFactory, TeamFactory

    team = TeamFactory()
    invitee = PersonFactory()
    headers = auth_headers(team.leader)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(TeamMember))

    real_commit = db.session.commit

    def lost(*args, **kwargs):
        if not has_request_context():  # the test client's own commit after the request
            return real_commit()
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(db.session, "commit", lost)
    response = client.post(f"/api/v1/teams/{team.id}/invitations", json={"person_id": invitee.id, "role": "family"},
                           headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    monkeypatch.undo()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TeamMember)) == before
