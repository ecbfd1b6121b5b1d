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



def _chain(app) -> list:
    """The revisions from the first to the head, in the order Alembic applies them."""
    return list(reversed(list(_script(app).walk_revisions())))


def test_readme_lists_the_real_order(app):
    """migrations/README lists every revision in the order Alembic applies them."""
    import re
    from pathlib import Path

    readme = Path(_script(app).dir) / "README"
    listed = re.findall(r"^\s+\d+\.\s+(\d{4})\s", readme.read_text(), flags=re.MULTILINE)
    assert listed == [rev.revision for rev in _chain(app)], (
        "migrations/README must list every revision in order; add a line for the new one")


def test_new_revisions_sort_in_order(app):
    """From 0011 on, ids are four-digit numbers that grow along the chain, and the
    file is <id>_<slug>.py, so file names sort in the order Alembic applies them."""
    from pathlib import Path

    chain = _chain(app)
    later = [rev for rev in chain if not rev.revision.isdigit() or int(rev.revision) > 10]
    numbers = []
    for rev in later:
        assert rev.revision.isdigit() and len(rev.revision) == 4, (
            f"revision {rev.revision!r}: ids are the next four-digit number (scripts/new-migration)")
        assert Path(rev.path).name.startswith(f"{rev.revision}_"), (
            f"{Path(rev.path).name}: the file name starts with its revision id")
        numbers.append(int(rev.revision))
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    if later:
        assert int(later[0].revision) == 11 and later[0].down_revision == "0009"
