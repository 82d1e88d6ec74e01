"""documents: register, numbering counters, revisions, approval route steps, added reviewers, decisions,
distribution, acknowledgements, periodic reviews, dispositions and company templates (R-7.5, X-4)

Revision ID: 0002_documents
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002_documents'
down_revision = '0001_foundation'
branch_labels = ('documents',)
depends_on = None


def upgrade() -> None:
    op.create_table('doc_company_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('base_template', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('variables', sa.Text(), nullable=False),
    sa.Column('registered_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_company_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_company_template_doc_type'), ['doc_type'], unique=False)

    op.create_table('doc_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('doc_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('owner_department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('review_months', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('effective_revision_id', sa.Integer(), nullable=True),
    sa.Column('next_review_due', sa.Date(), nullable=True),
    sa.Column('legacy_number', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('external_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('external_effective_date', sa.Date(), nullable=True),
    sa.Column('applies_to', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('obsolete_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('obsoleted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_document_doc_type'), ['doc_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_document_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_doc_document_site'), ['site'], unique=False)

    op.create_table('doc_number_counter',
    sa.Column('scheme', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scheme')
    )
    op.create_table('doc_disposition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('file_hashes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['doc_document.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_disposition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_disposition_document_id'), ['document_id'], unique=False)

    op.create_table('doc_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('author_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('change_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source_filename', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('effective_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('file_destroyed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('template_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('rendered_context', sa.Text(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['doc_document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'seq', name='uq_doc_revision_seq')
    )
    with op.batch_alter_table('doc_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_revision_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_revision_status'), ['status'], unique=False)

    op.create_table('doc_acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('acknowledged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['doc_revision.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('revision_id', 'username', name='uq_doc_acknowledgement')
    )
    with op.batch_alter_table('doc_acknowledgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_acknowledgement_revision_id'), ['revision_id'], unique=False)

    op.create_table('doc_distribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('distributed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('distributed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['doc_revision.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('revision_id', 'position', 'site', name='uq_doc_distribution')
    )
    with op.batch_alter_table('doc_distribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_distribution_revision_id'), ['revision_id'], unique=False)

    op.create_table('doc_periodic_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reviewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('next_due', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['doc_document.id'], ),
    sa.ForeignKeyConstraint(['revision_id'], ['doc_revision.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_periodic_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_periodic_review_document_id'), ['document_id'], unique=False)

    op.create_table('doc_route_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('step_no', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('positions', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['doc_revision.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_route_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_route_step_revision_id'), ['revision_id'], unique=False)

    op.create_table('doc_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['doc_revision.id'], ),
    sa.ForeignKeyConstraint(['step_id'], ['doc_route_step.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('doc_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_decision_revision_id'), ['revision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_decision_step_id'), ['step_id'], unique=False)

    op.create_table('doc_step_reviewer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['step_id'], ['doc_route_step.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('step_id', 'username', name='uq_doc_step_reviewer')
    )
    with op.batch_alter_table('doc_step_reviewer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_step_reviewer_step_id'), ['step_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('doc_step_reviewer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_step_reviewer_step_id'))

    op.drop_table('doc_step_reviewer')
    with op.batch_alter_table('doc_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_decision_step_id'))
        batch_op.drop_index(batch_op.f('ix_doc_decision_revision_id'))

    op.drop_table('doc_decision')
    with op.batch_alter_table('doc_route_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_route_step_revision_id'))

    op.drop_table('doc_route_step')
    with op.batch_alter_table('doc_periodic_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_periodic_review_document_id'))

    op.drop_table('doc_periodic_review')
    with op.batch_alter_table('doc_distribution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_distribution_revision_id'))

    op.drop_table('doc_distribution')
    with op.batch_alter_table('doc_acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_acknowledgement_revision_id'))

    op.drop_table('doc_acknowledgement')
    with op.batch_alter_table('doc_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_revision_status'))
        batch_op.drop_index(batch_op.f('ix_doc_revision_document_id'))

    op.drop_table('doc_revision')
    with op.batch_alter_table('doc_disposition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_disposition_document_id'))

    op.drop_table('doc_disposition')
    op.drop_table('doc_number_counter')
    with op.batch_alter_table('doc_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_document_site'))
        batch_op.drop_index(batch_op.f('ix_doc_document_number'))
        batch_op.drop_index(batch_op.f('ix_doc_document_doc_type'))

    op.drop_table('doc_document')
    with op.batch_alter_table('doc_company_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_company_template_doc_type'))

    op.drop_table('doc_company_template')
