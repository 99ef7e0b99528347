"""The reminder outbox keeps its references without foreign-key constraints: checked row
by row, they were most of the time of planning a large run (see models.ReminderItem)

Revision ID: 1000_outbox_without_fks
Revises: 0950_awaiting_review
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "1000_outbox_without_fks"
down_revision = "0950_awaiting_review"
branch_labels = None
depends_on = None

#: (column, referenced table) of each constraint dropped
REFERENCES = (
    ("digest_id", "reminder_digest"),
    ("measure_id", "measure"),
    ("milestone_id", "milestone"),
    ("organisation_id", "organisation"),
    ("recipient_id", "user_account"),
    ("update_id", "status_update"),
)


def _name(column: str, table: str) -> str:
    return f"fk_reminder_item_{column}_{table}"


def _batch():
    # SQLite rebuilds the table; not reflecting the referenced tables spares it their
    # expression indexes, which its reflection cannot read
    return op.batch_alter_table("reminder_item", reflect_kwargs={"resolve_fks": False})


def upgrade():
    with _batch() as batch_op:
        for column, table in REFERENCES:
            batch_op.drop_constraint(_name(column, table), type_="foreignkey")


def downgrade():
    with _batch() as batch_op:
        for column, table in REFERENCES:
            batch_op.create_foreign_key(_name(column, table), table, [column], ["id"])
