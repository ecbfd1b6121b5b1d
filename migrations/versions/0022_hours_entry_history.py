"""hours: timesheet entries keep their history (disputes are a conversation)

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-04 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0020'
branch_labels = None
depends_on = None

KINDS = ('created', 'logged', 'edited', 'submitted', 'confirmed', 'auto_confirmed', 'adjustment_proposed',
         'accepted', 'rejected', 'disputed', 'answered', 'replied', 'settled', 'voided', 'corrected', 'correction')


def upgrade():
    op.create_table('timesheet_entry_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='entry_event_kind', native_enum=False, create_constraint=True,
                              length=20), nullable=False),
    sa.Column('words', sa.String(length=500), nullable=True),
    sa.Column('figures_before', sa.JSON(), nullable=True),
    sa.Column('figures_after', sa.JSON(), nullable=True),
    sa.Column('other_entry_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('worker', 'checker', 'facilitator', 'clock')", name=op.f('ck_timesheet_entry_event_event_role')),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_timesheet_entry_event_actor_id_person')),
    sa.ForeignKeyConstraint(['entry_id'], ['timesheet_entry.id'], name=op.f('fk_timesheet_entry_event_entry_id_timesheet_entry')),
    sa.ForeignKeyConstraint(['other_entry_id'], ['timesheet_entry.id'], name=op.f('fk_timesheet_entry_event_other_entry_id_timesheet_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheet_entry_event'))
    )
    with op.batch_alter_table('timesheet_entry_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timesheet_entry_event_entry_id'), ['entry_id'], unique=False)

    # Entries made before this revision: what their own columns say of their history.
    event = sa.table('timesheet_entry_event', sa.column('entry_id'), sa.column('at'), sa.column('actor_id'),
                     sa.column('role'), sa.column('kind'), sa.column('words'))
    entry = sa.table('timesheet_entry', sa.column('id'), sa.column('person_id'), sa.column('submitted_at'),
                     sa.column('disputed_at'), sa.column('disputed_by_id'), sa.column('dispute_comment'),
                     sa.column('confirmed_at'), sa.column('confirmed_by_id'), sa.column('auto_confirmed'),
                     sa.column('resolved_at'), sa.column('resolved_by_id'), sa.column('resolution_note'),
                     sa.column('status'))
    cols = ['entry_id', 'at', 'actor_id', 'role', 'kind', 'words']
    steps = [
        sa.select(entry.c.id, entry.c.submitted_at, entry.c.person_id, sa.literal('worker'), sa.literal('submitted'),
                  sa.null()).where(entry.c.submitted_at.is_not(None)),
        sa.select(entry.c.id, entry.c.disputed_at, entry.c.disputed_by_id,
                  sa.case((entry.c.disputed_by_id == entry.c.person_id, 'worker'), else_='checker'),
                  sa.case((entry.c.disputed_by_id == entry.c.person_id, 'rejected'), else_='disputed'),
                  entry.c.dispute_comment).where(entry.c.disputed_at.is_not(None)),
        sa.select(entry.c.id, entry.c.resolved_at, entry.c.resolved_by_id, sa.literal('facilitator'),
                  sa.case((entry.c.status == 'void', 'voided'), else_='settled'),
                  entry.c.resolution_note).where(entry.c.resolved_at.is_not(None)),
        sa.select(entry.c.id, entry.c.confirmed_at, entry.c.confirmed_by_id,
                  sa.case((entry.c.auto_confirmed == sa.true(), 'clock'), else_='checker'),
                  sa.case((entry.c.auto_confirmed == sa.true(), 'auto_confirmed'), else_='confirmed'),
                  sa.null()).where(entry.c.confirmed_at.is_not(None), entry.c.resolved_at.is_(None)),
    ]
    for query in steps:
        op.execute(event.insert().from_select(cols, query))


def downgrade():
    with op.batch_alter_table('timesheet_entry_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timesheet_entry_event_entry_id'))

    op.drop_table('timesheet_entry_event')
