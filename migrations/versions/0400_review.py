"""Organisation memberships: a user's past and present organisations, with dates

Revision ID: 0400_review
Revises: 0300_files
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0400_review"
down_revision = "0300_files"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organisation_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("from_dt", sa.DateTime(), nullable=False),
        sa.Column("to_dt", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_membership_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_organisation_membership_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_membership")),
    )
    with op.batch_alter_table("organisation_membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_membership_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_organisation_membership_user_id"), ["user_id"], unique=False
        )
    # Every current member has belonged to their organisation since the account was made.
    op.execute(
        "INSERT INTO organisation_membership (user_id, organisation_id, from_dt) "
        "SELECT id, organisation_id, created_dt FROM user_account "
        "WHERE organisation_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("organisation_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_organisation_membership_organisation_id"))
    op.drop_table("organisation_membership")
