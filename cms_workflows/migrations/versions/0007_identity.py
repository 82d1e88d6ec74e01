"""identity: password hashes, API tokens (stored hashed) and delegations (issue 14)

Revision ID: 0007_identity
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007_identity'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'identity_credential',
        sa.Column('username', String(length=64), sa.ForeignKey('org_user.username'), primary_key=True),
        sa.Column('password_hash', String(length=255), nullable=False),
        sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('changed_by', String(length=64), nullable=False),
    )
    op.create_table(
        'identity_token',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('username', String(length=64), sa.ForeignKey('org_user.username'), nullable=False),
        sa.Column('token_sha256', String(length=64), nullable=False, unique=True),
        sa.Column('label', String(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('revoked_by', String(length=64), nullable=True),
    )
    op.create_index('ix_identity_token_username', 'identity_token', ['username'])
    op.create_table(
        'identity_delegation',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('delegator', String(length=64), sa.ForeignKey('org_user.username'), nullable=False),
        sa.Column('delegate', String(length=64), sa.ForeignKey('org_user.username'), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=False),
        sa.Column('reason', String(length=500), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index('ix_identity_delegation_delegator', 'identity_delegation', ['delegator'])
    op.create_index('ix_identity_delegation_delegate', 'identity_delegation', ['delegate'])


def downgrade() -> None:
    op.drop_table('identity_delegation')
    op.drop_table('identity_token')
    op.drop_table('identity_credential')
