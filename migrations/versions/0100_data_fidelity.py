"""Registry: a declared member count can be a lower bound, a second founding year where
the sources disagree, and which aliases are the curator's

Revision ID: 0100_data_fidelity
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0100_data_fidelity"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("founded_year_alternative", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("curator_aliases", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column(
                "declared_member_count_is_minimum",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("declared_member_count_is_minimum")
        batch_op.drop_column("curator_aliases")
        batch_op.drop_column("founded_year_alternative")
