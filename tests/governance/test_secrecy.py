"""Nothing in the database links a member to their choice (inspected after voting)."""

from __future__ import annotations

import sqlalchemy as sa

from careteams.extensions import db
from careteams.governance.models import Ballot
from tests.governance.conftest import build_coop, opened, vote


def _all_rows(exclude: set[str]) -> dict[str, list[dict]]:
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name in exclude:
            continue
        rows[table.name] = [dict(r._mapping) for r in db.session.execute(sa.select(table))]
    return rows


def test_nothing_links_a_member_to_their_choice(app):
    c = build_coop({"worker": 4, "supported": 3, "investor": 3})
    r = opened(c)
    cast = {}
    members = [m for ms in c.members.values() for m in ms]
    for n, m in enumerate(members):
        cast[m.id] = vote(c, m, r, ["for", "against", None][n % 3])
    db.session.flush()

    inspector = sa.inspect(db.session.connection())
    # The ballot table: no voter, no time, no sequence.
    columns = {col["name"]: col for col in inspector.get_columns("ballot")}
    assert set(columns) == {"id", "resolution_id", "sealed", "member_class", "receipt", "change_token_hash"}
    assert not any(isinstance(col["type"], sa.DateTime | sa.Date) for col in columns.values())
    assert {fk["referred_table"] for fk in inspector.get_foreign_keys("ballot")} == {"resolution"}
    # Nothing points at a ballot.
    for table in inspector.get_table_names():
        assert all(fk["referred_table"] != "ballot" for fk in inspector.get_foreign_keys(table)), table
    # Ballot keys are random, not a sequence that would give the voting order.
    ids = [b.id for b in db.session.scalars(sa.select(Ballot))]
    assert len(ids) == len(members) and len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)

    # No value that identifies a ballot (its key, receipt, token hash) or the plain
    # change token appears anywhere outside the ballot table.
    secrets_ = set(ids)
    secrets_ |= {b.receipt for b in db.session.scalars(sa.select(Ballot))}
    secrets_ |= {b.change_token_hash for b in db.session.scalars(sa.select(Ballot))}
    secrets_ |= {v["change_token"] for v in cast.values()}
    elsewhere = _all_rows(exclude={"ballot"})
    for table, rows in elsewhere.items():
        for row in rows:
            for value in row.values():
                assert str(value) not in secrets_, f"{table} holds a ballot identifier"
    # And the plain change tokens are not stored in the ballot table either.
    for row in _all_rows(exclude=set())["ballot"]:
        assert not {str(v) for v in row.values()} & {v["change_token"] for v in cast.values()}

    # The who-voted record is a flag per member: no option, no time, no ballot.
    entry_columns = {col["name"] for col in inspector.get_columns("electorate_entry")}
    assert entry_columns == {"id", "resolution_id", "membership_id", "member_class", "has_voted"}
