"""Accounts: the mail outbox (mail_request) for invitations and password resets, and the
device cookie of each login attempt (login_attempt.device) for throttling

Revision ID: 0200_acc
Revises: 0100_data_fidelity
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0200_acc"
down_revision = "0100_data_fidelity"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=False),
    sa.Column('requested_dt', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('next_attempt_dt', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claim_token', sa.String(length=40), nullable=True),
    sa.Column('claimed_dt', sa.DateTime(), nullable=True),
    sa.Column('sent_dt', sa.DateTime(), nullable=True),
    sa.Column('smtp_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mail_request_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_request'))
    )
    with op.batch_alter_table('mail_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_request_claim_token'), ['claim_token'], unique=False)
        batch_op.create_index('ix_mail_request_due', ['status', 'next_attempt_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_request_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_request_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        # Attempts made before device cookies came from unknown clients.
        batch_op.add_column(
            sa.Column('device', sa.String(length=32), nullable=False, server_default='')
        )
        batch_op.create_index(batch_op.f('ix_login_attempt_device'), ['device'], unique=False)



def downgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempt_device'))
        batch_op.drop_column('device')

    with op.batch_alter_table('mail_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_mail_request_email'))
        batch_op.drop_index('ix_mail_request_due')
        batch_op.drop_index(batch_op.f('ix_mail_request_claim_token'))

    op.drop_table('mail_request')
