"""auth: server-side login sessions; API tokens expire (existing ones 90 days after they were made)

Login sessions become rows (login_session): logout ends one, a new password ends
them all. person.session_version is no longer read; it stays until a later
revision drops it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 18:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('device', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.Enum('logout', 'password_set', name='session_end', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.CheckConstraint('(ended_at IS NULL) = (ended_reason IS NULL)', name=op.f('ck_login_session_ended_with_reason')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_login_session_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_login_session_key_hash'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    # Tokens made before expiry existed last the default 90 days from when they were made.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE api_token SET expires_at = created_at + interval '90 days'")
    else:
        # SQLite keeps the time to the millisecond here (strftime's %f): close enough for an expiry.
        op.execute("UPDATE api_token SET expires_at = strftime('%Y-%m-%d %H:%M:%f', created_at, '+90 days')")
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_person_id'))

    op.drop_table('login_session')
