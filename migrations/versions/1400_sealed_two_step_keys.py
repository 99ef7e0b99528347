"""The authenticator keys of two-step verification are kept sealed (Fernet) with
TWO_STEP_KEYS, a key outside the database: the column widens and the keys already
there are sealed; the downgrade opens them again.

Revision ID: 1400_sealed_two_step_keys
Revises: 1300_two_step
"""

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = "1400_sealed_two_step_keys"
down_revision = "1300_two_step"
branch_labels = None
depends_on = None

USERS = sa.table("user_account", sa.column("id", sa.Integer), sa.column("two_step_secret"))


def _box() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in current_app.config["TWO_STEP_KEYS"]])


def _rewrite(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(USERS.c.id, USERS.c.two_step_secret).where(USERS.c.two_step_secret.is_not(None))
    ).all()
    for user_id, value in rows:
        connection.execute(
            USERS.update().where(USERS.c.id == user_id).values(two_step_secret=change(value))
        )


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("two_step_secret", type_=sa.String(255), existing_type=sa.String(64))
    box = _box()
    _rewrite(lambda secret: box.encrypt(secret.encode()).decode())


def downgrade():
    box = _box()
    _rewrite(lambda sealed: box.decrypt(sealed.encode()).decode())
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("two_step_secret", type_=sa.String(64), existing_type=sa.String(255))
