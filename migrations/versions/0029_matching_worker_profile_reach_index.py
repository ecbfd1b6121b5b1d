"""matching: an index on worker_profile (co-op, available, travel_km) so the co-op's widest reach is one index lookup

Revision ID: 0029
Revises: 0028
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('worker_profile', schema=None) as batch_op:
        batch_op.create_index('ix_worker_profile_reach', ['cooperative_id', 'available', 'travel_km'], unique=False)


def downgrade():
    with op.batch_alter_table('worker_profile', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_profile_reach')
