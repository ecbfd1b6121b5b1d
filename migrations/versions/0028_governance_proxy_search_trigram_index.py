"""governance: trigram index on lower(person.name) for the proxy search (PostgreSQL only); matching: worker_check.expires_on index

Revision ID: 0028
Revises: 0027
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    # The facilitators' day page and queue list the co-op's checks expiring within 30 days:
    # without this index PostgreSQL read every check of the federation (Seq Scan, 60,400 rows).
    with op.batch_alter_table('worker_check', schema=None) as batch_op:
        batch_op.create_index('ix_worker_check_expires_on', ['expires_on'], unique=False)
    # The resolution page's proxy search is `lower(person.name) LIKE '%...%'` over up to
    # 100,000 electors: a GIN trigram index answers it without reading every name. SQLite
    # has no pg_trgm: nothing to do there (the model declares the index for PostgreSQL only).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_person_name_trgm ON person USING gin (lower(name) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_person_name_trgm")
    with op.batch_alter_table('worker_check', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_check_expires_on')
