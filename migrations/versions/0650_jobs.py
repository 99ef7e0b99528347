"""The queue of reports asked for on the web: built by the scheduler, cached by scope,
date, language and data version

Revision ID: 0650_jobs
Revises: 0300_files
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0650_jobs"
down_revision = "0600_perf"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("plan_key", sa.String(length=100), nullable=False),
        sa.Column("section", sa.Integer(), nullable=True),
        sa.Column("agency_key", sa.String(length=100), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("data_version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("requested_dt", sa.DateTime(), nullable=False),
        sa.Column("started_dt", sa.DateTime(), nullable=True),
        sa.Column("finished_dt", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_request")),
        sa.UniqueConstraint("cache_key", name=op.f("uq_report_request_cache_key")),
    )
    with op.batch_alter_table("report_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_request_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("report_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_request_status"))
    op.drop_table("report_request")
