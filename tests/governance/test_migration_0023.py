"""Migration 0023 (sealed ballots) on existing data: it refuses, with a message, while a
vote is scheduled or open (plaintext ballots cannot be sealed after the fact); closed
votes keep their published result while their plaintext ballots go. Going back down
refuses while sealed ballots exist. On a database file of its own."""

from __future__ import annotations

import tempfile
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from careteams.extensions import db
from tests.conftest import make_app
from tests.factories import BallotFactory, ResolutionFactory

THIS, BEFORE = "0023", "0022"  # the merger may renumber: this revision and the one it follows


def test_0023_refuses_open_votes_and_drops_closed_plaintext_ballots():
    path = Path(tempfile.mkdtemp(prefix="careteams-0023-")) / "db.sqlite"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        flask_migrate.upgrade()
        closed, busy = ResolutionFactory(), ResolutionFactory()
        ids = {"closed": closed.id, "busy": busy.id, "for": closed.options[0].id}
        db.session.commit()
        flask_migrate.downgrade(revision=BEFORE)
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE resolution SET status = 'closed', result = :r WHERE id = :id"),
                         {"id": ids["closed"], "r": '{"receipts": ["AAAA-BBBB-CCCC"]}'})
            conn.execute(sa.text("UPDATE resolution SET status = 'open' WHERE id = :id"), {"id": ids["busy"]})
            conn.execute(sa.text(
                "INSERT INTO ballot (id, resolution_id, option_id, member_class, receipt, change_token_hash)"
                " VALUES ('b1', :r, :o, 'worker', 'AAAA-BBBB-CCCC', :h)"), {"r": ids["closed"], "o": ids["for"],
                                                                            "h": "0" * 64})
        with pytest.raises(SystemExit):  # Flask-Migrate logs the refusal (the message) and exits 1
            flask_migrate.upgrade(revision=THIS)
        db.session.remove()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM ballot")).scalar() == 1  # nothing was lost
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == BEFORE
            conn.execute(sa.text("UPDATE resolution SET status = 'draft' WHERE id = :id"), {"id": ids["busy"]})
        flask_migrate.upgrade(revision=THIS)
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM ballot")).scalar() == 0
            result = conn.execute(sa.text("SELECT result FROM resolution WHERE id = :id"), {"id": ids["closed"]})
            assert "AAAA-BBBB-CCCC" in result.scalar()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("ballot")}
            assert "sealed" in columns and "option_id" not in columns
        # Down again refuses while sealed ballots exist.
        flask_migrate.upgrade()
        opened = ResolutionFactory(opened=True)
        BallotFactory(resolution=opened)
        db.session.commit()
        with pytest.raises(SystemExit):
            flask_migrate.downgrade(revision=BEFORE)
        db.session.remove()
        with db.engine.begin() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == THIS
        db.session.remove()
        db.engine.dispose()


def test_the_refusal_says_what_to_do():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0023_governance_sealed_ballots.py"
    spec = importlib.util.spec_from_file_location("m0023", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Bind:
        dialect = sa.engine.default.DefaultDialect()

        def execute(self, *_):
            class Rows:
                def scalars(self):
                    return self

                def all(self):
                    return [7, 9]
            return Rows()

    module.op = type("Op", (), {"get_bind": staticmethod(lambda: Bind())})
    with pytest.raises(RuntimeError, match="resolutions 7, 9 are scheduled or open.*Let them close"):
        module.upgrade()
