"""The public data's version: one row that every write to public data moves on (the cache
of public pages and their ETags are keyed by it)

Revision ID: 0600_perf
Revises: 0300_files
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0600_perf"
down_revision = "0450_notify"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_dt", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(table, [{"id": 1, "version": 1, "changed_dt": now}])


def downgrade():
    op.drop_table("data_version")
