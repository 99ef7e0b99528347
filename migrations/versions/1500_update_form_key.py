"""An update remembers the form it was sent from (a random key the form carries), so that
the same form sent twice by its author (a double click, a retry, a resubmit) saves one
update

Revision ID: 1500_update_form_key
Revises: 1400_sealed_two_step_keys
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1500_update_form_key"
down_revision = "1400_sealed_two_step_keys"
branch_labels = None
depends_on = None


def upgrade():
    # plain ALTER TABLE, not a batch: a batch copies the table on SQLite and cannot carry
    # its expression index (ix_status_update_published_order) across
    op.add_column("status_update", sa.Column("form_key", sa.String(64), nullable=True))
    op.create_index(
        "ix_status_update_form_key", "status_update", ["author_id", "form_key"], unique=True
    )


def downgrade():
    op.drop_index("ix_status_update_form_key", table_name="status_update")
    op.drop_column("status_update", "form_key")
