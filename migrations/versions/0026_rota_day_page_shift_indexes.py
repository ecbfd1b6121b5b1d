"""rota: partial indexes on shift (team_id, starts_at) for the facilitators' day page (unbooked; needing attention)

Revision ID: 0026
Revises: 0025
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

UNBOOKED = "status IN ('open', 'offered')"
ATTENTION = "escalation_level >= 2 OR cover_requested_at IS NOT NULL OR missed_alert_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.create_index('ix_shift_team_unbooked', ['team_id', 'starts_at'], unique=False,
                              postgresql_where=sa.text(UNBOOKED), sqlite_where=sa.text(UNBOOKED))
        batch_op.create_index('ix_shift_team_attention', ['team_id', 'starts_at'], unique=False,
                              postgresql_where=sa.text(ATTENTION), sqlite_where=sa.text(ATTENTION))


def downgrade():
    with op.batch_alter_table('shift', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_team_attention')
        batch_op.drop_index('ix_shift_team_unbooked')
