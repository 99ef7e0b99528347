"""A delivery run claims recipients (reminder_claim), not outbox rows: the rows lose their
claim columns and the claim-token index, and are written twice instead of three times

Revision ID: 1100_reminder_claims
Revises: 1000_outbox_without_fks
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1100_reminder_claims"
down_revision = "1000_outbox_without_fks"
branch_labels = None
depends_on = None

CLAIMED_WHERE = sa.text("status IN ('sending', 'retry')")


def _batch():
    # as in 1000: SQLite rebuilds the table without reflecting the referenced tables
    return op.batch_alter_table("reminder_item", reflect_kwargs={"resolve_fks": False})


def upgrade():
    op.create_table(
        "reminder_claim",
        sa.Column("recipient_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("claimed_dt", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["user_account.id"],
            name=op.f("fk_reminder_claim_recipient_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("recipient_id", name=op.f("pk_reminder_claim")),
        sa.UniqueConstraint("token", name=op.f("uq_reminder_claim_token")),
    )
    # Items a run had claimed when the app stopped: that run is gone, and they go out
    # again with the next one (as a stale claim would).
    op.execute(
        "UPDATE reminder_item SET status = 'retry',"
        " next_attempt_dt = COALESCE(claimed_dt, next_attempt_dt)"
        " WHERE status = 'sending'"
    )
    op.drop_index(
        "ix_reminder_item_claim_token",
        table_name="reminder_item",
        sqlite_where=CLAIMED_WHERE,
        postgresql_where=CLAIMED_WHERE,
    )
    with _batch() as batch_op:
        batch_op.drop_column("claimed_dt")
        batch_op.drop_column("claim_token")


def downgrade():
    with _batch() as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("claimed_dt", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_reminder_item_claim_token",
        "reminder_item",
        ["claim_token"],
        unique=False,
        sqlite_where=CLAIMED_WHERE,
        postgresql_where=CLAIMED_WHERE,
    )
    op.drop_table("reminder_claim")
