"""An index in the order of the public feeds and the updates API (newest decision first),
so that a page of the newest updates is read in index order, never sorted from all rows

Revision ID: 0700_feed_order
Revises: 0650_jobs
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0700_feed_order"
down_revision = "0650_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_status_update_published_order",
        "status_update",
        [
            sa.text("review_state"),
            sa.text("coalesce(decided_dt, created_dt) DESC"),
            sa.text("id DESC"),
        ],
    )


def downgrade():
    op.drop_index("ix_status_update_published_order", table_name="status_update")
