"""auth: one-time sign-in codes (a hashed code and a count of wrong tries on the one-time link; purpose sign_in)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 13:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('one_time_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('wrong_tries', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(op.f('ck_one_time_link_link_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_one_time_link_link_purpose'), "purpose IN ('invite', 'reset', 'sign_in')")


def downgrade():
    op.execute("DELETE FROM one_time_link WHERE purpose = 'sign_in'")
    with op.batch_alter_table('one_time_link', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_one_time_link_link_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_one_time_link_link_purpose'), "purpose IN ('invite', 'reset')")
        batch_op.drop_column('wrong_tries')
        batch_op.drop_column('code_hash')
