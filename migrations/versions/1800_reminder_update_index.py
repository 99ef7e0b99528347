"""A partial index of the reminder items that name a status update, by update: deciding an
update settles the reviewers' notices and reminders of it (services.reminders.notices),
which read the whole outbox without one. Only the rows that name an update are in it (the
reminders and notices of submitted, waiting, returned and approved updates), as 1700's
index holds only the rows that name a claim

Revision ID: 1800_reminder_update_index
Revises: 1700_reminder_claim_notices
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1800_reminder_update_index"
down_revision = "1700_reminder_claim_notices"
branch_labels = None
depends_on = None

UPDATE_WHERE = sa.text("update_id IS NOT NULL")


def upgrade():
    op.create_index(
        "ix_reminder_item_update",
        "reminder_item",
        ["update_id"],
        unique=False,
        sqlite_where=UPDATE_WHERE,
        postgresql_where=UPDATE_WHERE,
    )


def downgrade():
    op.drop_index(
        "ix_reminder_item_update",
        table_name="reminder_item",
        sqlite_where=UPDATE_WHERE,
        postgresql_where=UPDATE_WHERE,
    )
