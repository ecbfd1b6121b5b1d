"""teams: arranger appointments agreed by a second person; matching: who answered for the team

Existing arrangers become agreed (agreed_at = when they were appointed; who agreed is
not known, so agreed_by_id stays empty). Existing self-appointments (appointed_by ==
person) are ended now, by nobody (ended_by_id empty): they never had a second yes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 18:35:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('arranger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ended_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_arranger_agreed_by_id_person'), 'person', ['agreed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_arranger_ended_by_id_person'), 'person', ['ended_by_id'], ['id'])

    arranger = sa.table('arranger', sa.column('person_id', sa.Integer()), sa.column('appointed_by_id', sa.Integer()),
                        sa.column('appointed_at', sa.DateTime(timezone=True)),
                        sa.column('agreed_at', sa.DateTime(timezone=True)),
                        sa.column('ended_at', sa.DateTime(timezone=True)))
    op.execute(arranger.update().values(agreed_at=arranger.c.appointed_at))
    op.execute(arranger.update().where(arranger.c.appointed_by_id == arranger.c.person_id,
                                       arranger.c.ended_at.is_(None))
               .values(ended_at=datetime.now(timezone.utc)))

    with op.batch_alter_table('arranger', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_arranger_not_self_appointed'),
                                         'appointed_by_id <> person_id OR ended_at IS NOT NULL')
        batch_op.create_check_constraint(
            op.f('ck_arranger_agreed_by_another'),
            'agreed_by_id IS NULL OR (agreed_by_id <> appointed_by_id AND agreed_by_id <> person_id)')
        batch_op.create_check_constraint(op.f('ck_arranger_agreed_at_recorded'),
                                         'agreed_by_id IS NULL OR agreed_at IS NOT NULL')

    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_answered_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_match_team_answered_by_id_person'), 'person',
                                    ['team_answered_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_match_team_answered_by_id_person'), type_='foreignkey')
        batch_op.drop_column('team_answered_by_id')

    # Proposals never agreed granted nothing; without the columns they would grant
    # everything, so they are ended before the columns go.
    arranger = sa.table('arranger', sa.column('agreed_at', sa.DateTime(timezone=True)),
                        sa.column('ended_at', sa.DateTime(timezone=True)))
    op.execute(arranger.update().where(arranger.c.agreed_at.is_(None), arranger.c.ended_at.is_(None))
               .values(ended_at=datetime.now(timezone.utc)))

    with op.batch_alter_table('arranger', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_arranger_agreed_at_recorded'), type_='check')
        batch_op.drop_constraint(op.f('ck_arranger_agreed_by_another'), type_='check')
        batch_op.drop_constraint(op.f('ck_arranger_not_self_appointed'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_arranger_ended_by_id_person'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_arranger_agreed_by_id_person'), type_='foreignkey')
        batch_op.drop_column('ended_by_id')
        batch_op.drop_column('agreed_at')
        batch_op.drop_column('agreed_by_id')
