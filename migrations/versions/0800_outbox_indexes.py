"""The reminder outbox keeps only the indexes its queries use, and those of the live states
are partial: the recipient index (the unique key starts with the recipient) and the measure
index (no query reads by measure) go; the status, due-time, claim-token and digest indexes
become partial indexes that hold only sendable (by recipient and due time), claimed,
queued or failed rows, so the rows a run has sent leave them

Revision ID: 0800_outbox_indexes
Revises: 0750_sort_keys
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0800_outbox_indexes"
down_revision = "0750_sort_keys"
branch_labels = None
depends_on = None

TABLE = "reminder_item"
#: the conditions as in tracker.models.reminders, written out: a migration does not change
#: when the models do
PARTIAL = [
    (
        "ix_reminder_item_sendable",
        ["recipient_id", "next_attempt_dt"],
        "status IN ('pending', 'retry')",
    ),
    ("ix_reminder_item_claim_token", ["claim_token"], "status IN ('sending', 'retry')"),
    ("ix_reminder_item_queued", ["id"], "status = 'queued'"),
    ("ix_reminder_item_failed_digest", ["digest_id"], "status = 'failed'"),
]
#: the indexes before this revision, one column each
FORMER = ["claim_token", "digest_id", "measure_id", "next_attempt_dt", "recipient_id", "status"]


def upgrade():
    for column in FORMER:
        op.drop_index(f"ix_{TABLE}_{column}", table_name=TABLE)
    for name, columns, where in PARTIAL:
        condition = sa.text(where)
        op.create_index(name, TABLE, columns, sqlite_where=condition, postgresql_where=condition)


def downgrade():
    for name, _column, _where in reversed(PARTIAL):
        op.drop_index(name, table_name=TABLE)
    for column in FORMER:
        op.create_index(f"ix_{TABLE}_{column}", TABLE, [column])
