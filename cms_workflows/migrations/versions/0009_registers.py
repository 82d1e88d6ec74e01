"""registers: SWOT issues, interested parties, scope versions, risks and opportunities, compliance
obligations, metering instruments and their calibrations (issue 10, item 3; R-4.1, R-4.2, R-4.3,
R-6.2.1, R-6.2.2, R-9.1)

Documents are referred to by number (reg_obligation.source_document), not by a foreign key to the
documents tables, so this branch depends on the foundation only.

The risk register's seed, the examples of the guide's Annex B table B.1 (R-6.2.1), is not inserted
here: `cms init` adds them through the audited installer command `registers.risk.seed`, so that the
trail shows when they arrived.

Revision ID: 0009_registers
Revises: 0001_foundation
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009_registers'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reg_instrument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('accuracy_class', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('measures', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('interval_months', sa.Integer(), nullable=False),
    sa.Column('last_calibrated', sa.Date(), nullable=True),
    sa.Column('certificate', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('certificate_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('next_due', sa.Date(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_instrument_code'), 'reg_instrument', ['code'], unique=True)
    op.create_index(op.f('ix_reg_instrument_next_due'), 'reg_instrument', ['next_due'], unique=False)
    op.create_index(op.f('ix_reg_instrument_site'), 'reg_instrument', ['site'], unique=False)
    op.create_table('reg_interested_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('needs', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('expectations', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('compliance_obligation', sa.Boolean(), nullable=False),
    sa.Column('comm_what', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('comm_when', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('comm_how', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('comm_who', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_interested_party_code'), 'reg_interested_party', ['code'], unique=True)
    op.create_table('reg_obligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('clause', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('applicability', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('source_document', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('owner_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('next_review', sa.Date(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_obligation_code'), 'reg_obligation', ['code'], unique=True)
    op.create_index(op.f('ix_reg_obligation_next_review'), 'reg_obligation', ['next_review'], unique=False)
    op.create_table('reg_risk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('nature', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('text_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('likelihood', sa.Integer(), nullable=True),
    sa.Column('impact', sa.Integer(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('response', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('owner_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_user', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_risk_code'), 'reg_risk', ['code'], unique=True)
    op.create_index(op.f('ix_reg_risk_review_date'), 'reg_risk', ['review_date'], unique=False)
    op.create_table('reg_scope_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('drafted_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('drafted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    op.create_index(op.f('ix_reg_scope_version_status'), 'reg_scope_version', ['status'], unique=False)
    op.create_table('reg_swot_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('context', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('analysed_on', sa.Date(), nullable=True),
    sa.Column('next_analysis', sa.Date(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_swot_issue_code'), 'reg_swot_issue', ['code'], unique=True)
    op.create_table('reg_calibration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('calibrated_on', sa.Date(), nullable=False),
    sa.Column('certificate', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('certificate_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('certificate_filename', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('next_due', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['reg_instrument.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_calibration_instrument_id'), 'reg_calibration', ['instrument_id'], unique=False)
    op.create_table('reg_scope_element',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['scope_id'], ['reg_scope_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope_id', 'code', name='uq_reg_scope_element')
    )
    op.create_index(op.f('ix_reg_scope_element_scope_id'), 'reg_scope_element', ['scope_id'], unique=False)


def downgrade() -> None:
    for table in ('reg_scope_element', 'reg_calibration', 'reg_swot_issue', 'reg_scope_version', 'reg_risk',
                  'reg_obligation', 'reg_interested_party', 'reg_instrument'):
        op.drop_table(table)
