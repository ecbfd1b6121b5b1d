"""matching: places from postcodes (worker profiles, teams, vacancies); coordinates may wait for the geocoder

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'postcode_place',
        sa.Column('postcode', sa.String(length=8), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=False),
        sa.Column('longitude', sa.Float(), nullable=False),
        sa.Column('district', sa.String(length=4), nullable=False),
        sa.Column('looked_up_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('postcode'),
    )
    for table in ('worker_profile', 'vacancy'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('postcode', sa.String(length=8), nullable=True))
            batch_op.add_column(sa.Column('geocode_pending', sa.Boolean(), server_default=sa.text('false'),
                                          nullable=False))
            # The "point" check stays: a NULL point passes it (not yet geocoded).
            batch_op.alter_column('latitude', existing_type=sa.Float(), nullable=True)
            batch_op.alter_column('longitude', existing_type=sa.Float(), nullable=True)
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postcode', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('geocode_pending', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('geocode_pending')
        batch_op.drop_column('postcode')
    for table in ('vacancy', 'worker_profile'):
        waiting = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table} WHERE latitude IS NULL")).scalar()
        if waiting:
            raise RuntimeError(f"{waiting} {table} rows have no point yet (a postcode waiting for the geocoder): "
                               "run the geocode job, or give them a point, before going back past 0025")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('longitude', existing_type=sa.Float(), nullable=False)
            batch_op.alter_column('latitude', existing_type=sa.Float(), nullable=False)
            batch_op.drop_column('geocode_pending')
            batch_op.drop_column('postcode')
    op.drop_table('postcode_place')
