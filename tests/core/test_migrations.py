"""The schema is what the migrations say, and the migrations are one straight line."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from careteams.extensions import db


def _script(app) -> ScriptDirectory:
    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config)


def test_single_migration_head(app):
    heads = _script(app).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; add a merge migration"


def test_models_and_migrations_do_not_drift(app):
    """Autogenerate against the migrated database finds nothing to do."""
    context = MigrationContext.configure(db.session.connection(), opts={
        "compare_type": True,
        "include_object": _include_object,
    })
    diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def _include_object(obj, name, type_, reflected, compare_to):
    from careteams.db import UNCOMPARED

    return name not in UNCOMPARED


def test_database_is_at_head(app):
    current = MigrationContext.configure(db.session.connection()).get_current_heads()
    assert set(current) == set(_script(app).get_heads())

