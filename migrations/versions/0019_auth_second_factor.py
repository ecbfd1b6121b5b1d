"""auth: staff's second factor (TOTP, recovery codes, resets by another admin, verified per login session)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('totp_factor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_totp_factor_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_totp_factor')),
    sa.UniqueConstraint('person_id', name=op.f('uq_totp_factor_person_id'))
    )
    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_recovery_code_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_person_id'), ['person_id'], unique=False)

    op.create_table('second_factor_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('reset_by_id', sa.Integer(), nullable=False),
    sa.Column('reset_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('person_id <> reset_by_id', name=op.f('ck_second_factor_reset_not_own')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperative.id'], name=op.f('fk_second_factor_reset_cooperative_id_cooperative')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_second_factor_reset_person_id_person')),
    sa.ForeignKeyConstraint(['reset_by_id'], ['person.id'], name=op.f('fk_second_factor_reset_reset_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_second_factor_reset'))
    )
    with op.batch_alter_table('second_factor_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_second_factor_reset_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_second_factor_reset_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_verified_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('second_factor_verified_at')

    with op.batch_alter_table('second_factor_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_second_factor_reset_person_id'))
        batch_op.drop_index(batch_op.f('ix_second_factor_reset_cooperative_id'))
    op.drop_table('second_factor_reset')

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_person_id'))
    op.drop_table('recovery_code')
    op.drop_table('totp_factor')
