"""A reminder item may name a proposed government claim: reviewers get an instant notice
of a monitor's proposal, which is read once the proposal is decided. No foreign key, as
for the outbox's other references (1000); a partial index holds only the rows that name
a claim, so that deciding a proposal finds its notices without reading the outbox

Revision ID: 1700_reminder_claim_notices
Revises: 1600_claim_form_key
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1700_reminder_claim_notices"
down_revision = "1600_claim_form_key"
branch_labels = None
depends_on = None

CLAIM_WHERE = sa.text("claim_id IS NOT NULL")


def upgrade():
    op.add_column("reminder_item", sa.Column("claim_id", sa.Integer(), nullable=True))
    op.create_index(
        "ix_reminder_item_claim",
        "reminder_item",
        ["claim_id"],
        unique=False,
        sqlite_where=CLAIM_WHERE,
        postgresql_where=CLAIM_WHERE,
    )


def downgrade():
    op.drop_index(
        "ix_reminder_item_claim",
        table_name="reminder_item",
        sqlite_where=CLAIM_WHERE,
        postgresql_where=CLAIM_WHERE,
    )
    op.drop_column("reminder_item", "claim_id")
