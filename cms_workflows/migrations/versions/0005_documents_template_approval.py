"""documents: a company template is approved before it is used (approved_by, approved_at; issue 14 item 2)

A newly registered company template is pending (not active, not approved) until a second person
approves it (`documents.template.approve`). Templates registered before this migration were used
as soon as they were registered; so that existing installations keep rendering with them, every
existing row is treated as approved by its registrant at its registration time (approved_by =
registered_by, approved_at = registered_at). Which template is in use (`active`) is unchanged.
The trail is not touched: these rows have their `documents.template.register` events and no
approval event, which is how a reader tells them apart from templates approved later.

Revision ID: 0005_documents_template_approval
Revises: 0004_documents_superseded_by
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005_documents_template_approval'
down_revision = '0004_documents_superseded_by'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('doc_company_template', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    table = sa.table('doc_company_template', sa.column('registered_by', sa.String), sa.column('approved_by', sa.String),
                     sa.column('registered_at', sa.DateTime), sa.column('approved_at', sa.DateTime))
    op.get_bind().execute(table.update().where(table.c.approved_by.is_(None))
                          .values(approved_by=table.c.registered_by, approved_at=table.c.registered_at))


def downgrade() -> None:
    with op.batch_alter_table('doc_company_template', schema=None) as batch_op:
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by')
