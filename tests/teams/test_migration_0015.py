"""Migration 0015 on existing data: arrangers from before the rule become agreed,
self-appointments are ended; going back down ends proposals nobody agreed to
(without the columns they would grant everything). On a database file of its own."""

from __future__ import annotations

import tempfile
from pathlib import Path

import flask_migrate
import sqlalchemy as sa

from careteams.db import utcnow
from careteams.extensions import db
from tests.conftest import make_app
from tests.factories import PersonFactory, TeamFactory


def _arrangers(conn) -> dict:
    rows = conn.execute(sa.text("SELECT person_id, appointed_by_id, appointed_at, agreed_at, ended_at FROM arranger"))
    return {r.person_id: r for r in rows}


def test_existing_arrangers_become_agreed_and_self_appointments_end():
    path = Path(tempfile.mkdtemp(prefix="careteams-0015-")) / "db.sqlite"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        flask_migrate.upgrade()
        team = TeamFactory()
        facilitator, helper, ended = PersonFactory(), PersonFactory(), PersonFactory()
        team_id, ids = team.id, (facilitator.id, helper.id, ended.id)
        db.session.commit()
        flask_migrate.downgrade(revision="0014")
        db.session.remove()
        with db.engine.begin() as conn:
            insert = sa.text("INSERT INTO arranger (team_id, person_id, reason, appointed_by_id, appointed_at, ended_at)"
                             " VALUES (:team, :person, 'In hospital.', :by, :at, :ended)")
            at = utcnow().replace(tzinfo=None)
            conn.execute(insert, {"team": team_id, "person": ids[0], "by": ids[0], "at": at, "ended": None})  # herself
            conn.execute(insert, {"team": team_id, "person": ids[1], "by": ids[0], "at": at, "ended": None})
            conn.execute(insert, {"team": team_id, "person": ids[2], "by": ids[0], "at": at, "ended": at})
        flask_migrate.upgrade(revision="0015")
        with db.engine.begin() as conn:
            rows = _arrangers(conn)
            assert rows[ids[0]].ended_at is not None  # the self-appointment no longer counts
            assert rows[ids[1]].agreed_at == rows[ids[1]].appointed_at and rows[ids[1]].ended_at is None
            assert rows[ids[2]].agreed_at is not None and rows[ids[2]].ended_at is not None
            # SQLite rebuilt the table: the older check is still there beside the new ones.
            ddl = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'arranger'")).scalar_one()
            for name in ("reason_given", "not_self_appointed", "agreed_by_another", "agreed_at_recorded"):
                assert f"ck_arranger_{name}" in ddl, name
            # A proposal made after the rule, then the migration undone: it must not start counting.
            conn.execute(sa.text("UPDATE arranger SET agreed_at = NULL WHERE person_id = :p"), {"p": ids[1]})
        flask_migrate.downgrade(revision="0014")
        with db.engine.begin() as conn:
            live = conn.execute(sa.text("SELECT person_id FROM arranger WHERE ended_at IS NULL")).scalars().all()
            assert live == []
        db.session.remove()
        db.engine.dispose()
