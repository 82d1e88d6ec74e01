"""documents: at most one open revision per document (a partial unique index)

The service already refuses a second open revision (draft, in review or approved: documents.open_revision_exists);
the register's one-statement read (documents.queries.register_page) joins each document to its open revision and
relies on there being one at most. The index makes it the database's guarantee too.

Revision ID: 0018_documents_one_open_revision
Revises: 0015_documents_imported_control
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_documents_one_open_revision'
down_revision = '0015_documents_imported_control'
branch_labels = None
depends_on = None

OPEN = "status IN ('draft', 'in_review', 'approved')"


def upgrade() -> None:
    op.create_index('uq_doc_revision_one_open', 'doc_revision', ['document_id'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('uq_doc_revision_one_open', table_name='doc_revision')
