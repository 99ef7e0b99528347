"""Two-step verification: the account's authenticator key, when it was turned on and the
last time step accepted, and the recovery codes (their SHA-256 only)

Revision ID: 1300_two_step
Revises: 1200_latest_approved
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1300_two_step"
down_revision = "1200_latest_approved"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("two_step_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("two_step_enabled_dt", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("two_step_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("code_digest", sa.String(64), nullable=False),
        sa.Column("created_dt", sa.DateTime(), nullable=False),
        sa.Column("used_dt", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])


def downgrade():
    op.drop_index("ix_recovery_code_user_id", table_name="recovery_code")
    op.drop_table("recovery_code")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("two_step_last_step")
        batch.drop_column("two_step_enabled_dt")
        batch.drop_column("two_step_secret")
