"""hours: run lines keep the element and a reversal reference (placeholder, filled by issue 13)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 17:40:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
