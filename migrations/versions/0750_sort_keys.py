"""Organisations' sort keys in the Azerbaijani and the English collation, so that the
registry is sorted and paged by the database instead of in Python

Revision ID: 0750_sort_keys
Revises: 0700_feed_order
"""

import sqlalchemy as sa
from alembic import op

from tracker.vocabulary import collation_sort_key

# revision identifiers, used by Alembic.
revision = "0750_sort_keys"
down_revision = "0700_feed_order"
branch_labels = None
depends_on = None

SORT_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade():
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("sort_key_az", SORT_KEY, nullable=False, server_default=""))
        batch.add_column(sa.Column("sort_key_en", SORT_KEY, nullable=False, server_default=""))
    organisation = sa.table(
        "organisation",
        sa.column("id", sa.Integer),
        sa.column("name_az", sa.String),
        sa.column("name_en", sa.String),
        sa.column("sort_key_az", sa.Text),
        sa.column("sort_key_en", sa.Text),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(organisation.c.id, organisation.c.name_az, organisation.c.name_en)
    ).all()
    keys = [
        {
            "row_id": row.id,
            "az": collation_sort_key(row.name_az or "", "az"),
            "en": collation_sort_key(row.name_en or row.name_az or "", "en"),
        }
        for row in rows
    ]
    if keys:
        connection.execute(
            organisation.update()
            .where(organisation.c.id == sa.bindparam("row_id"))
            .values(sort_key_az=sa.bindparam("az"), sort_key_en=sa.bindparam("en")),
            keys,
        )
    op.create_index("ix_organisation_sort_key_az", "organisation", ["sort_key_az"])
    op.create_index("ix_organisation_sort_key_en", "organisation", ["sort_key_en"])


def downgrade():
    op.drop_index("ix_organisation_sort_key_en", table_name="organisation")
    op.drop_index("ix_organisation_sort_key_az", table_name="organisation")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("sort_key_en")
        batch.drop_column("sort_key_az")
