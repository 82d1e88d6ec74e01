"""documents: a superseded revision records the label of its successor (superseded_by) instead of an
English sentence in end_reason; existing "superseded by X" reasons are moved there

Revision ID: 0004_documents_superseded_by
Revises: 0002_documents
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004_documents_superseded_by'
down_revision = '0002_documents'
branch_labels = None
depends_on = None

PREFIX = 'superseded by '


def upgrade() -> None:
    with op.batch_alter_table('doc_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    revision_table = sa.table('doc_revision', sa.column('id', sa.Integer), sa.column('end_reason', sa.String),
                              sa.column('superseded_by', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(revision_table.c.id, revision_table.c.end_reason)
                        .where(revision_table.c.end_reason.like(PREFIX + '%'))).all()
    for row_id, reason in rows:
        conn.execute(revision_table.update().where(revision_table.c.id == row_id)
                     .values(superseded_by=reason[len(PREFIX):].strip(), end_reason=None))


def downgrade() -> None:
    revision_table = sa.table('doc_revision', sa.column('end_reason', sa.String), sa.column('superseded_by', sa.String))
    op.get_bind().execute(revision_table.update().where(revision_table.c.superseded_by.isnot(None))
                          .values(end_reason=PREFIX + revision_table.c.superseded_by))
    with op.batch_alter_table('doc_revision', schema=None) as batch_op:
        batch_op.drop_column('superseded_by')
