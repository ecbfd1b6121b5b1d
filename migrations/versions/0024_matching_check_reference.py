"""matching: a worker check keeps its reference (e.g. the DBS certificate number)

Revision ID: 0024
Revises: 0023
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('worker_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=60), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('worker_check', schema=None) as batch_op:
        batch_op.drop_column('reference')
