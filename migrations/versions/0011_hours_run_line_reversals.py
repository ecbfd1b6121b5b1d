"""hours: run lines keep the element and a reversal reference; held-back entries; co-op founded_on

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 17:40:00

Run lines used to name a taken-back line `reversal:<element>`, and a correction of a
correction compounded it (`reversal:reversal:...`, past varchar 40 on PostgreSQL).
Now `element` is always plain and `reverses_line_id` points at the line taken back.

Existing lines: a name with k `reversal:` prefixes becomes the plain element. When k
is odd the line was a true taking-back of a line of the corrected entry (same element,
k-1 prefixes, figures negated): it is linked to it. When k is even (a reversal of a
reversal, the old bug that paid the original again) it is left unlinked, so it counts
as paid for its entry and the next correction takes it back: the chain heals.
Existing invoice lines were the split of each entry's net charge; they stay unlinked
and are taken back whole by the next correction.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None

PREFIX = "reversal:"


def upgrade():
    with op.batch_alter_table('cooperative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('founded_on', sa.Date(), nullable=True))

    op.create_table('run_held_back',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['timesheet_entry.id'], name=op.f('fk_run_held_back_entry_id_timesheet_entry')),
    sa.ForeignKeyConstraint(['run_id'], ['pay_run.id'], name=op.f('fk_run_held_back_run_id_pay_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_run_held_back')),
    sa.UniqueConstraint('run_id', 'entry_id', name=op.f('uq_run_held_back_run_id_entry_id'))
    )
    with op.batch_alter_table('run_held_back', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_held_back_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('run_invoice_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reverses_line_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_run_invoice_line_reverses_line_id'), ['reverses_line_id'])
        batch_op.create_foreign_key(batch_op.f('fk_run_invoice_line_reverses_line_id_run_invoice_line'),
                                    'run_invoice_line', ['reverses_line_id'], ['id'])

    with op.batch_alter_table('run_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reverses_line_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_run_line_reverses_line_id'), ['reverses_line_id'])
        batch_op.create_foreign_key(batch_op.f('fk_run_line_reverses_line_id_run_line'),
                                    'run_line', ['reverses_line_id'], ['id'])

    _plain_elements()

    with op.batch_alter_table('run_line', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_run_line_plain_element'), "element NOT LIKE 'reversal:%'")


def _plain_elements():
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT l.id, l.element, l.quantity, l.pay_pence, e.corrects_id FROM run_line l "
        "JOIN run_entry r ON r.id = l.run_entry_id JOIN timesheet_entry e ON e.id = r.entry_id "
        f"WHERE l.element LIKE '{PREFIX}%' ORDER BY l.id")).all()
    taken: set[int] = set()
    for line_id, element, quantity, pay, corrects_id in rows:
        depth, plain = 0, element
        while plain.startswith(PREFIX):
            depth, plain = depth + 1, plain[len(PREFIX):]
        target = None
        if depth % 2 == 1 and corrects_id is not None:
            for (candidate,) in conn.execute(sa.text(
                    "SELECT l.id FROM run_line l JOIN run_entry r ON r.id = l.run_entry_id "
                    "WHERE r.entry_id = :entry AND l.element = :element AND l.pay_pence = :pay "
                    "AND l.quantity = :quantity ORDER BY l.id"),
                    {"entry": corrects_id, "element": PREFIX * (depth - 1) + plain, "pay": -pay,
                     "quantity": -quantity}):
                if candidate not in taken:
                    target = candidate
                    taken.add(candidate)
                    break
        conn.execute(sa.text("UPDATE run_line SET element = :element, reverses_line_id = :target WHERE id = :id"),
                     {"element": plain, "target": target, "id": line_id})


def downgrade():
    with op.batch_alter_table('run_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_run_line_plain_element'), type_='check')
    op.execute("UPDATE run_line SET element = 'reversal:' || element WHERE reverses_line_id IS NOT NULL")
    with op.batch_alter_table('run_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_run_line_reverses_line_id_run_line'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_run_line_reverses_line_id'), type_='unique')
        batch_op.drop_column('reverses_line_id')

    with op.batch_alter_table('run_invoice_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_run_invoice_line_reverses_line_id_run_invoice_line'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_run_invoice_line_reverses_line_id'), type_='unique')
        batch_op.drop_column('reverses_line_id')

    with op.batch_alter_table('run_held_back', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_held_back_run_id'))
    op.drop_table('run_held_back')

    with op.batch_alter_table('cooperative', schema=None) as batch_op:
        batch_op.drop_column('founded_on')
