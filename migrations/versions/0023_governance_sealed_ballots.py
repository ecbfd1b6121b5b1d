"""governance: sealed ballots, tellers and their shares, "counting" status

Revision ID: 0023
Revises: 0022

Ballots lose their plaintext `option_id` for `sealed` (the choice sealed to the
resolution's public key). Existing data: a plaintext ballot cannot be sealed
here, because no key exists for an old vote and no teller is present to hold
its shares. So this migration

- refuses (with a message saying what to do) while any resolution is scheduled
  or open: let those votes close, or put them back to draft, then upgrade;
- deletes the plaintext ballots of closed resolutions: their results, with
  every receipt, stay published in `resolution.result`, and deleting the rows
  removes choices a database administrator could otherwise still read.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

OLD = ('draft', 'scheduled', 'open', 'closed')
NEW = ('draft', 'scheduled', 'open', 'counting', 'closed')


def _sqlite_foreign_keys(bind, on: bool) -> None:
    # SQLite changes the status CHECK by rebuilding `resolution`, which other tables
    # reference: foreign keys must be off for the rebuild (SQLite's documented way),
    # and the pragma only takes effect outside a transaction.
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
        bind.exec_driver_sql("BEGIN")


def upgrade():
    bind = op.get_bind()
    busy = bind.execute(sa.text(
        "SELECT id FROM resolution WHERE status IN ('scheduled', 'open') ORDER BY id")).scalars().all()
    if busy:
        raise RuntimeError(
            "Migration 0023 (sealed ballots) refuses to run: resolutions "
            + ", ".join(map(str, busy))
            + " are scheduled or open, and their ballots cannot be sealed after the fact. Let them close "
            "(the clock tallies them) or put them back to draft, then run the upgrade again.")
    # Closed votes keep their published result and receipts; the plaintext choices go.
    bind.execute(sa.text("DELETE FROM ballot"))
    _sqlite_foreign_keys(bind, on=False)

    with op.batch_alter_table('resolution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('sealed_private_key', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('shares_needed', sa.Integer(), nullable=True))
        batch_op.alter_column('status', existing_type=sa.Enum(*OLD, name='resolution_status', native_enum=False,
                                                              create_constraint=True, length=20),
                              type_=sa.Enum(*NEW, name='resolution_status', native_enum=False,
                                            create_constraint=True, length=20),
                              existing_nullable=False)

    op.create_table('resolution_teller',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('share_index', sa.Integer(), nullable=False),
    sa.Column('waiting_share', sa.LargeBinary(), nullable=True),
    sa.Column('share_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gave_share_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_resolution_teller_person_id_person')),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolution.id'], name=op.f('fk_resolution_teller_resolution_id_resolution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolution_teller')),
    sa.UniqueConstraint('resolution_id', 'person_id', name=op.f('uq_resolution_teller_resolution_id_person_id')),
    sa.UniqueConstraint('resolution_id', 'share_index', name=op.f('uq_resolution_teller_resolution_id_share_index'))
    )
    with op.batch_alter_table('resolution_teller', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolution_teller_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resolution_teller_resolution_id'), ['resolution_id'], unique=False)

    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=False))
        batch_op.drop_constraint(batch_op.f('fk_ballot_option_id_resolution_option'), type_='foreignkey')
        batch_op.drop_column('option_id')
    _sqlite_foreign_keys(bind, on=True)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM ballot")).scalar():
        raise RuntimeError("Downgrading 0023 would need the sealed ballots opened; it refuses while any exist.")
    if bind.execute(sa.text("SELECT count(*) FROM resolution WHERE status = 'counting'")).scalar():
        raise RuntimeError("Downgrading 0023 refuses while a resolution is waiting for its tellers.")
    _sqlite_foreign_keys(bind, on=False)
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('option_id', sa.INTEGER(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ballot_option_id_resolution_option'), 'resolution_option', ['option_id'], ['id'])
        batch_op.drop_column('sealed')

    with op.batch_alter_table('resolution_teller', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resolution_teller_resolution_id'))
        batch_op.drop_index(batch_op.f('ix_resolution_teller_person_id'))
    op.drop_table('resolution_teller')

    with op.batch_alter_table('resolution', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.Enum(*NEW, name='resolution_status', native_enum=False,
                                                              create_constraint=True, length=20),
                              type_=sa.Enum(*OLD, name='resolution_status', native_enum=False,
                                            create_constraint=True, length=20),
                              existing_nullable=False)
        batch_op.drop_column('shares_needed')
        batch_op.drop_column('sealed_private_key')
        batch_op.drop_column('public_key')
    _sqlite_foreign_keys(bind, on=True)
