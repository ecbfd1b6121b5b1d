"""Mixing a vote's sealed ballots so nothing a database user can read links a voter to a ballot."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from careteams.extensions import db
from careteams.governance.enums import ResolutionStatus
from careteams.governance.models import Ballot, ElectorateEntry, ProxyAppointment, Resolution


def shuffle_ballots(resolution_id: int) -> int:
    """Rewrite a vote's ballots in random order with fresh ids, and restamp its voters' rows.

    Casting writes a member's "has voted" flag and her sealed ballot in one
    transaction, so on PostgreSQL both row versions carry that transaction's id
    (`xmin`), and rows sit in insertion order (`ctid`). This rewrites, in one
    transaction, every electorate entry, proxy appointment and ballot of the
    vote: afterwards all of them share one `xmin`, ballots sit in a random
    physical order under new ids, and nothing a database user can SELECT links
    a voter to a ballot. Waits for (and blocks) ballots in flight: it holds the
    resolution row exclusively, as casting holds it shared. Returns the ballots moved.
    """
    status = db.session.execute(sa.select(Resolution.status).where(Resolution.id == resolution_id)
                                .with_for_update()).scalar_one_or_none()
    if status not in (ResolutionStatus.open, ResolutionStatus.counting):
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        moved = _move_in_postgresql(resolution_id)
    else:
        rows = [dict(r._mapping) for r in db.session.execute(sa.select(
            Ballot.resolution_id, Ballot.sealed, Ballot.member_class, Ballot.receipt, Ballot.change_token_hash)
            .where(Ballot.resolution_id == resolution_id))]
        secrets.SystemRandom().shuffle(rows)
        db.session.execute(sa.delete(Ballot).where(Ballot.resolution_id == resolution_id)
                           .execution_options(synchronize_session=False))
        if rows:
            db.session.execute(sa.insert(Ballot), [{**r, "id": secrets.token_hex(16)} for r in rows])
        moved = len(rows)
    db.session.execute(sa.update(ElectorateEntry).where(ElectorateEntry.resolution_id == resolution_id)
                       .values(has_voted=ElectorateEntry.has_voted).execution_options(synchronize_session=False))
    db.session.execute(sa.update(ProxyAppointment).where(ProxyAppointment.resolution_id == resolution_id)
                       .values(status=ProxyAppointment.status).execution_options(synchronize_session=False))
    db.session.flush()
    return moved


# One statement on PostgreSQL, so a vote of 100,000 ballots never leaves the database to be
# mixed: deleted and written again in an order drawn from gen_random_uuid() (PostgreSQL's
# strong random source, like its new ids: 32 hex digits of a SHA-256 of one, as random as
# secrets.token_hex(16) for all anyone can tell).
_MOVE = sa.text("""
    WITH moved AS (
        DELETE FROM ballot WHERE resolution_id = :resolution_id
        RETURNING resolution_id, sealed, member_class, receipt, change_token_hash
    )
    INSERT INTO ballot (id, resolution_id, sealed, member_class, receipt, change_token_hash)
    SELECT substr(encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 32),
           resolution_id, sealed, member_class, receipt, change_token_hash
    FROM moved ORDER BY gen_random_uuid()
""")


def _move_in_postgresql(resolution_id: int) -> int:
    return db.session.execute(_MOVE, {"resolution_id": resolution_id}).rowcount


def to_shuffle() -> list[int]:
    return list(db.session.scalars(sa.select(Resolution.id).where(
        Resolution.status == ResolutionStatus.open).order_by(Resolution.id)))
