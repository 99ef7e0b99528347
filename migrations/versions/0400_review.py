"""Organisation memberships: a user's past and present organisations, with dates.
Government claims: plan-wide claims, and monitors' proposals reviewed as updates are

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

    with op.batch_alter_table("government_claim", schema=None) as batch_op:
        batch_op.alter_column("measure_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        # Claims recorded before this revision were public at once: they count as approved.
        batch_op.add_column(
            sa.Column(
                "review_state", sa.String(length=20), nullable=False, server_default="approved"
            )
        )
        batch_op.add_column(
            sa.Column("return_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("decided_dt", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_government_claim_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_government_claim_review_state"), ["review_state"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_government_claim_plan_id_action_plan"),
            "action_plan",
            ["plan_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_government_claim_organisation_id_organisation"),
            "organisation",
            ["organisation_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_government_claim_decided_by_id_user_account"),
            "user_account",
            ["decided_by_id"],
            ["id"],
        )


def downgrade():
    # Plan-wide claims and unapproved proposals have no place in the older schema.
    op.execute(
        "DELETE FROM government_claim WHERE measure_id IS NULL OR review_state <> 'approved'"
    )
    with op.batch_alter_table("government_claim", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_government_claim_decided_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_government_claim_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_government_claim_plan_id_action_plan"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_government_claim_review_state"))
        batch_op.drop_index(batch_op.f("ix_government_claim_plan_id"))
        batch_op.drop_column("decided_by_id")
        batch_op.drop_column("decided_dt")
        batch_op.drop_column("return_reason")
        batch_op.drop_column("review_state")
        batch_op.drop_column("organisation_id")
        batch_op.drop_column("plan_id")
        batch_op.alter_column("measure_id", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("organisation_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_organisation_membership_organisation_id"))
    op.drop_table("organisation_membership")
