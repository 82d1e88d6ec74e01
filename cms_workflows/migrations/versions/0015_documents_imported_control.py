"""documents: an imported revision's source file kept beside its controlled copy; an external document's
standard number and publication date (issue 13 item 2)

An imported Word file, approved, is stored as a controlled copy (A4, control header and footer, revision
history and approval block; documents/controlled_copy.py); `doc_revision.source_sha256` / `source_size` keep
the uploaded file, whose hash the import event names. `cover_sha256` is the cover sheet of an external
document whose own file (a PDF) is kept unchanged. Existing imported revisions kept the uploaded file as
their file, so it is their source too.

`doc_document.external_number` (标准编号, e.g. GB/T 32150-2015) and `external_published_date` (发布日期)
complete an external document's identity with `issuer`, `external_version` (the edition) and
`external_effective_date` (实施日期).

Revision ID: 0015_documents_imported_control
Revises: 0014_documents_renditions
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015_documents_imported_control'
down_revision = '0014_documents_renditions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('doc_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('source_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cover_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('doc_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_number', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.add_column(sa.Column('external_published_date', sa.Date(), nullable=True))
    revision_table = sa.table('doc_revision', sa.column('source', sa.String), sa.column('file_sha256', sa.String),
                              sa.column('file_size', sa.Integer), sa.column('source_sha256', sa.String),
                              sa.column('source_size', sa.Integer))
    op.get_bind().execute(revision_table.update().where(revision_table.c.source == 'imported')
                          .values(source_sha256=revision_table.c.file_sha256, source_size=revision_table.c.file_size))


def downgrade() -> None:
    with op.batch_alter_table('doc_document', schema=None) as batch_op:
        batch_op.drop_column('external_published_date')
        batch_op.drop_column('external_number')
    with op.batch_alter_table('doc_revision', schema=None) as batch_op:
        batch_op.drop_column('cover_sha256')
        batch_op.drop_column('source_size')
        batch_op.drop_column('source_sha256')
