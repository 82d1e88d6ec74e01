"""documents: marked copies handed out (doc_rendition) and the 分发号 of each distributed copy (issue 13 item 1)

`doc_rendition` records every stamped copy of a revision's file that was downloaded, printed or exported
(作废 / 已替代, 草稿 / 未受控, or a distributed copy), with its own hash and the original's.
`doc_distribution.copy_no` is the 分发号: one sequence per document, in the order the copies were
distributed; a position@site keeps its number from revision to revision. Existing distributions are
numbered here the same way (documents.distribution.assign_copy_numbers numbers later ones).

Revision ID: 0014_documents_renditions
Revises: 0005_documents_template_approval
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014_documents_renditions'
down_revision = '0005_documents_template_approval'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('doc_distribution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('copy_no', sa.Integer(), nullable=True))
    _number_existing_copies()

    op.create_table('doc_rendition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('original_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=True),
    sa.Column('copy_no', sa.Integer(), nullable=True),
    sa.Column('issued_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['distribution_id'], ['doc_distribution.id'], ),
    sa.ForeignKeyConstraint(['revision_id'], ['doc_revision.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_rendition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_rendition_original_sha256'), ['original_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_rendition_revision_id'), ['revision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_rendition_sha256'), ['sha256'], unique=False)


def _number_existing_copies() -> None:
    """Number the copies already distributed: per document in distribution order, the same position@site
    keeping the number it was first given."""
    distribution = sa.table('doc_distribution', sa.column('id', sa.Integer), sa.column('revision_id', sa.Integer),
                            sa.column('position', sa.String), sa.column('site', sa.String),
                            sa.column('copy_no', sa.Integer))
    revision_table = sa.table('doc_revision', sa.column('id', sa.Integer), sa.column('document_id', sa.Integer))
    conn = op.get_bind()
    rows = conn.execute(sa.select(distribution.c.id, revision_table.c.document_id, distribution.c.position,
                                  distribution.c.site)
                        .join(revision_table, revision_table.c.id == distribution.c.revision_id)
                        .order_by(revision_table.c.document_id, distribution.c.id)).all()
    numbers: dict[tuple[int, str, str], int] = {}
    last: dict[int, int] = {}
    for row_id, document_id, position, site in rows:
        key = (document_id, position, site)
        if key not in numbers:
            last[document_id] = numbers[key] = last.get(document_id, 0) + 1
        conn.execute(distribution.update().where(distribution.c.id == row_id).values(copy_no=numbers[key]))


def downgrade() -> None:
    with op.batch_alter_table('doc_rendition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_rendition_sha256'))
        batch_op.drop_index(batch_op.f('ix_doc_rendition_revision_id'))
        batch_op.drop_index(batch_op.f('ix_doc_rendition_original_sha256'))
    op.drop_table('doc_rendition')
    with op.batch_alter_table('doc_distribution', schema=None) as batch_op:
        batch_op.drop_column('copy_no')
