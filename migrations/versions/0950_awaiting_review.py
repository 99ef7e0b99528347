"""A partial index of the updates waiting for review, by organisation and measure: the
reminders ask of every monitoring link whether one of its updates waits for review

Revision ID: 0950_awaiting_review
Revises: 0900_reminder_planning
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0950_awaiting_review"
down_revision = "0900_reminder_planning"
branch_labels = None
depends_on = None

AWAITING_REVIEW = sa.text("review_state = 'submitted' AND is_archived = false")


def upgrade():
    op.create_index(
        "ix_status_update_awaiting_review",
        "status_update",
        ["organisation_id", "measure_id"],
        postgresql_where=AWAITING_REVIEW,
        sqlite_where=AWAITING_REVIEW,
    )


def downgrade():
    op.drop_index("ix_status_update_awaiting_review", table_name="status_update")
