"""sms: opt-out per sender number

STOP to one co-op's number stops texts from that number only (as Twilio's own
opt-out does). Opt-outs recorded before take the number of the co-op they were
recorded for; those without a co-op number keep silencing every number ("*").

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_opt_out', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_number', sa.String(length=40), server_default='*', nullable=False))
    op.execute(
        "UPDATE sms_opt_out SET sender_number = "
        "(SELECT cooperative.sms_number FROM cooperative WHERE cooperative.id = sms_opt_out.cooperative_id) "
        "WHERE cooperative_id IS NOT NULL AND EXISTS (SELECT 1 FROM cooperative WHERE cooperative.id = "
        "sms_opt_out.cooperative_id AND cooperative.sms_number IS NOT NULL)")
    with op.batch_alter_table('sms_opt_out', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sms_opt_out_phone', type_='unique')
        batch_op.drop_constraint('uq_sms_opt_out_person_id', type_='unique')
        batch_op.create_unique_constraint('uq_sms_opt_out_phone_sender_number', ['phone', 'sender_number'])
        batch_op.create_index('ix_sms_opt_out_person_id', ['person_id'], unique=False)


def downgrade():
    # One opt-out per phone and per person again, silencing every number (the stricter reading).
    op.execute("DELETE FROM sms_opt_out WHERE id NOT IN (SELECT min(id) FROM sms_opt_out GROUP BY phone)")
    op.execute("DELETE FROM sms_opt_out WHERE person_id IS NOT NULL AND id NOT IN "
               "(SELECT min(id) FROM sms_opt_out WHERE person_id IS NOT NULL GROUP BY person_id)")
    with op.batch_alter_table('sms_opt_out', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_opt_out_person_id')
        batch_op.drop_constraint('uq_sms_opt_out_phone_sender_number', type_='unique')
        batch_op.create_unique_constraint('uq_sms_opt_out_person_id', ['person_id'])
        batch_op.create_unique_constraint('uq_sms_opt_out_phone', ['phone'])
        batch_op.drop_column('sender_number')
