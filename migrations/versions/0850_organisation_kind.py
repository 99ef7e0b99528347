"""A partial index of the coalitions by name: the registry lists the coalitions (the
coalition filter's choices) on every request, without reading every organisation

Revision ID: 0850_organisation_kind
Revises: 0800_outbox_indexes
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0850_organisation_kind"
down_revision = "0800_outbox_indexes"
branch_labels = None
depends_on = None

COALITION_ROWS = sa.text("kind = 'coalition'")


def upgrade():
    op.create_index(
        "ix_organisation_coalition_name",
        "organisation",
        ["name_key"],
        postgresql_where=COALITION_ROWS,
        sqlite_where=COALITION_ROWS,
    )


def downgrade():
    op.drop_index("ix_organisation_coalition_name", table_name="organisation")
