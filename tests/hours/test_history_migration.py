"""Migration 0022 on existing data: older entries get the history their own columns
tell (submitted, disputed or rejected, settled or voided, confirmed by a checker or
the clock). On a database file of its own."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from careteams.db import utcnow
from careteams.extensions import db
from tests.conftest import make_app
from tests.factories import PersonFactory, TeamFactory


def test_older_entries_get_their_history():
    path = Path(tempfile.mkdtemp(prefix="careteams-0022-")) / "db.sqlite"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        # The revision before 0022, whatever the chain (the merger re-chains revisions).
        before = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_revision("0022").down_revision
        flask_migrate.upgrade()
        team = TeamFactory()
        worker, leader, facilitator = PersonFactory(), PersonFactory(), PersonFactory()
        team_id, w, lead, fac = team.id, worker.id, leader.id, facilitator.id
        db.session.commit()
        flask_migrate.downgrade(revision=before)
        db.session.remove()
        at = utcnow().replace(tzinfo=None) - timedelta(days=3)
        later = [at + timedelta(hours=h) for h in range(6)]
        insert = sa.text(
            "INSERT INTO timesheet_entry (id, team_id, person_id, kind, status, started_at, ended_at, note, created_at,"
            " submitted_at, disputed_at, disputed_by_id, dispute_comment, confirmed_at, confirmed_by_id, auto_confirmed,"
            " resolved_at, resolved_by_id, resolution_note)"
            " VALUES (:id, :team, :worker, 'visit', :status, :start, :end, '', :start, :submitted, :disputed, :disputer,"
            " :comment, :confirmed, :confirmer, :auto, :resolved, :resolver, :note)")
        base = {"team": team_id, "worker": w, "start": at, "end": later[2], "submitted": None, "disputed": None,
                "disputer": None, "comment": None, "confirmed": None, "confirmer": None, "auto": False,
                "resolved": None, "resolver": None, "note": None}
        with db.engine.begin() as conn:
            conn.execute(insert, {**base, "id": 1, "status": "pending"})
            conn.execute(insert, {**base, "id": 2, "status": "confirmed", "submitted": later[2],
                                  "confirmed": later[3], "confirmer": lead})
            conn.execute(insert, {**base, "id": 3, "status": "confirmed", "submitted": later[2],
                                  "confirmed": later[5], "auto": True})
            conn.execute(insert, {**base, "id": 4, "status": "confirmed", "submitted": later[2], "disputed": later[3],
                                  "disputer": lead, "comment": "Left early", "resolved": later[4], "resolver": fac,
                                  "confirmed": later[4], "confirmer": fac, "note": "Agreed"})
            conn.execute(insert, {**base, "id": 5, "status": "void", "submitted": later[2], "disputed": later[3],
                                  "disputer": w, "comment": "Not my times", "resolved": later[4], "resolver": fac})
        flask_migrate.upgrade(revision="0022")
        with db.engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT entry_id, kind, role, actor_id, words FROM timesheet_entry_event"
                                        " ORDER BY entry_id, at, id")).all()
        steps: dict[int, list] = {}
        for row in rows:
            steps.setdefault(row.entry_id, []).append((row.kind, row.role, row.actor_id, row.words))
        assert 1 not in steps
        assert steps[2] == [("submitted", "worker", w, None), ("confirmed", "checker", lead, None)]
        assert steps[3] == [("submitted", "worker", w, None), ("auto_confirmed", "clock", None, None)]
        assert steps[4] == [("submitted", "worker", w, None), ("disputed", "checker", lead, "Left early"),
                            ("settled", "facilitator", fac, "Agreed")]
        assert steps[5] == [("submitted", "worker", w, None), ("rejected", "worker", w, "Not my times"),
                            ("voided", "facilitator", fac, None)]
        flask_migrate.downgrade(revision=before)
        db.session.remove()
        db.engine.dispose()
