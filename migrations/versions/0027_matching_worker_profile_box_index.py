"""matching: the suggestions' bounding box served by one index on worker_profile (co-op, available, latitude, longitude, travel_km)

Revision ID: 0027
Revises: 0026
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

BOX = ['cooperative_id', 'available', 'latitude', 'longitude', 'travel_km']


def upgrade():
    # The new index starts with the old one's three columns, so it serves every query the old one did.
    with op.batch_alter_table('worker_profile', schema=None) as batch_op:
        batch_op.create_index('ix_worker_profile_box', BOX, unique=False)
        batch_op.drop_index('ix_worker_profile_search')


def downgrade():
    with op.batch_alter_table('worker_profile', schema=None) as batch_op:
        batch_op.create_index('ix_worker_profile_search', ['cooperative_id', 'available', 'latitude'], unique=False)
        batch_op.drop_index('ix_worker_profile_box')
