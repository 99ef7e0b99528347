"""Instant notices and milestones: a notice email names its in-app notice; milestones get
a state and can be archived

Revision ID: 0450_notify
Revises: 0300_files
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0450_notify"
down_revision = "0400_review"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_item_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_mail_request_reminder_item_id"), ["reminder_item_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_mail_request_reminder_item_id_reminder_item"),
            "reminder_item",
            ["reminder_item_id"],
            ["id"],
        )
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="planned")
        )
        batch_op.add_column(
            sa.Column("is_archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.drop_column("is_archived")
        batch_op.drop_column("state")
    with op.batch_alter_table("mail_request", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_mail_request_reminder_item_id_reminder_item"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_mail_request_reminder_item_id"))
        batch_op.drop_column("reminder_item_id")
