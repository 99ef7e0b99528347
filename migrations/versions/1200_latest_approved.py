"""A partial index of the approved updates that count, in the order of "the latest
approved assessment of each measure and organisation", with the columns that query reads

Revision ID: 1200_latest_approved
Revises: 1100_reminder_claims
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1200_latest_approved"
down_revision = "1100_reminder_claims"
branch_labels = None
depends_on = None

APPROVED_CURRENT = sa.text("review_state = 'approved' AND is_archived = false")


def upgrade():
    op.create_index(
        "ix_status_update_latest_approved",
        "status_update",
        [
            "measure_id",
            "organisation_id",
            sa.text("as_of_date DESC"),
            sa.text("id DESC"),
            "completion",
            "progress_percent",
        ],
        postgresql_where=APPROVED_CURRENT,
        sqlite_where=APPROVED_CURRENT,
    )


def downgrade():
    op.drop_index("ix_status_update_latest_approved", table_name="status_update")
