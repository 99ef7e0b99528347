"""Stored files: a random public id for URLs, the active content a PDF holds, and
pending files (uploaded with a form that was not saved yet)

Revision ID: 0300_files
Revises: 0100_data_fidelity
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0300_files"
down_revision = "0200_acc"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("active_content", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("pending_until", sa.DateTime(), nullable=True))

    # Files uploaded before this revision get their random id now (32 characters, as new ones).
    stored_file = sa.table("stored_file", sa.column("id", sa.Integer), sa.column("public_id"))
    connection = op.get_bind()
    for (file_id,) in connection.execute(sa.select(stored_file.c.id)).fetchall():
        connection.execute(
            stored_file.update()
            .where(stored_file.c.id == file_id)
            .values(public_id=secrets.token_urlsafe(24))
        )

    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_stored_file_public_id", ["public_id"])
        batch_op.create_index("ix_stored_file_pending_until", ["pending_until"], unique=False)


def downgrade():
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_index("ix_stored_file_pending_until")
        batch_op.drop_constraint("uq_stored_file_public_id", type_="unique")
        batch_op.drop_column("pending_until")
        batch_op.drop_column("active_content")
        batch_op.drop_column("public_id")
