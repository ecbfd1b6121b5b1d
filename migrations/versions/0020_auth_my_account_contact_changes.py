"""auth: my account: a new email or mobile waits for its code (contact_change); person.web_only

A change of email address or mobile number takes effect only when the 6-digit
code sent to the new address or number is typed in: until then it is a row of
contact_change (one per person and kind), holding the code's keyed hash, its
expiry and how many wrong tries were made. person.web_only: the person asked to
be told things on the website only (members.rules.reach_by).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('email', 'phone', name='contact_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('new_value', sa.String(length=254), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('tries >= 0', name=op.f('ck_contact_change_tries_not_negative')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_contact_change_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_change')),
    sa.UniqueConstraint('person_id', 'kind', name=op.f('uq_contact_change_person_id_kind'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('web_only', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade():
    # Not in a batch: on SQLite that would copy and drop the person table, which every
    # other table references (refused while foreign keys are on). SQLite 3.35+ drops a
    # plain column in place.
    op.drop_column('person', 'web_only')
    op.drop_table('contact_change')
