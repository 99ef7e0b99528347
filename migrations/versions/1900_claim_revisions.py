"""A monitor revises a returned claim proposal by proposing a new one that points to it
(`revises_id`); a unique index over the rows that revise something keeps it to one
revision per returned proposal, also when two are sent at the same time

Revision ID: 1900_claim_revisions
Revises: 1800_reminder_update_index
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1900_claim_revisions"
down_revision = "1800_reminder_update_index"
branch_labels = None
depends_on = None

REVISES_WHERE = sa.text("revises_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table("government_claim") as batch_op:
        batch_op.add_column(sa.Column("revises_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_government_claim_revises_id_government_claim"),
            "government_claim",
            ["revises_id"],
            ["id"],
        )
    op.create_index(
        "ix_government_claim_revises",
        "government_claim",
        ["revises_id"],
        unique=True,
        sqlite_where=REVISES_WHERE,
        postgresql_where=REVISES_WHERE,
    )


def downgrade():
    op.drop_index(
        "ix_government_claim_revises",
        table_name="government_claim",
        sqlite_where=REVISES_WHERE,
        postgresql_where=REVISES_WHERE,
    )
    with op.batch_alter_table("government_claim") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_government_claim_revises_id_government_claim"), type_="foreignkey"
        )
        batch_op.drop_column("revises_id")
