"""A government claim remembers the form it was sent from (a random key the form
carries), so that the same claim form sent twice by its recorder (a double click, a
retry, a resubmit) records one claim

Revision ID: 1600_claim_form_key
Revises: 1500_update_form_key
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1600_claim_form_key"
down_revision = "1500_update_form_key"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("government_claim", sa.Column("form_key", sa.String(64), nullable=True))
    op.create_index(
        "ix_government_claim_form_key",
        "government_claim",
        ["recorded_by_id", "form_key"],
        unique=True,
    )


def downgrade():
    op.drop_index("ix_government_claim_form_key", table_name="government_claim")
    op.drop_column("government_claim", "form_key")
