"""A day's planning of the reminders and its inputs' digest: a second run the same day
from the same inputs skips the planning it would repeat

Revision ID: 0900_reminder_planning
Revises: 0850_organisation_kind
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0900_reminder_planning"
down_revision = "0850_organisation_kind"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_planning",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("inputs_key", sa.String(length=64), nullable=False),
        sa.Column("due_count", sa.Integer(), nullable=False),
        sa.Column("planned_dt", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_reminder_planning")),
    )


def downgrade():
    op.drop_table("reminder_planning")
