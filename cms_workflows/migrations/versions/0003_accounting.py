"""accounting: data collection plan, factor overrides, imports, activity data, calculation runs and results,
period locks, baselines and baseline-review triggers (X-5, R-6.2.3, R-6.3, R-9.1)

Revision ID: 0003_accounting
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0003_accounting"
down_revision = "0001_foundation"
branch_labels = ("accounting",)
depends_on = None


def upgrade() -> None:

    op.create_table('acc_baseline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('base_from', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('base_to', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('acc_factor_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('material', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('parameter', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('year_from', sa.Integer(), nullable=True),
    sa.Column('year_to', sa.Integer(), nullable=True),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('superseded_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('acc_factor_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acc_factor_override_material'), ['material'], unique=False)

    op.create_table('acc_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('replaces', sa.Boolean(), nullable=False),
    sa.Column('imported_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('acc_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acc_import_sha256'), ['sha256'], unique=True)

    op.create_table('acc_output',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('product_t', sa.Float(), nullable=False),
    sa.Column('value_10k_cny', sa.Float(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site', 'period', name='uq_acc_output')
    )
    op.create_table('acc_plan_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('production_unit', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('facility', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('facility_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('material', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('data_source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('responsible_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('meter_calibrated', sa.Boolean(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site', 'facility', 'material', name='uq_acc_plan_item')
    )
    with op.batch_alter_table('acc_plan_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acc_plan_item_site'), ['site'], unique=False)

    op.create_table('acc_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('last_period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('sites', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('input_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('factor_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('code_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('options', sa.Text(), nullable=False),
    sa.Column('factors_used', sa.Text(), nullable=False),
    sa.Column('max_import_id', sa.Integer(), nullable=False),
    sa.Column('max_override_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('total_tco2e', sa.Float(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('is_recalculation', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('approved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('acc_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('file_row', sa.Integer(), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('production_unit', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('facility', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('material', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('data_source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('evidence_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('replaced_by_import', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['acc_import.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('acc_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acc_activity_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acc_activity_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_acc_activity_site'), ['site'], unique=False)

    op.create_table('acc_baseline_trigger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('baseline_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['baseline_id'], ['acc_baseline.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('acc_period_lock',
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['acc_run.id'], ),
    sa.PrimaryKeyConstraint('site', 'period')
    )
    op.create_table('acc_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('production_unit', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('facility', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('tco2e', sa.Float(), nullable=False),
    sa.Column('memo_tco2e', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['acc_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('acc_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acc_result_run_id'), ['run_id'], unique=False)


def downgrade() -> None:

    with op.batch_alter_table('acc_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acc_result_run_id'))

    op.drop_table('acc_result')
    op.drop_table('acc_period_lock')
    op.drop_table('acc_baseline_trigger')
    with op.batch_alter_table('acc_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acc_activity_site'))
        batch_op.drop_index(batch_op.f('ix_acc_activity_period'))
        batch_op.drop_index(batch_op.f('ix_acc_activity_import_id'))

    op.drop_table('acc_activity')
    op.drop_table('acc_run')
    with op.batch_alter_table('acc_plan_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acc_plan_item_site'))

    op.drop_table('acc_plan_item')
    op.drop_table('acc_output')
    with op.batch_alter_table('acc_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acc_import_sha256'))

    op.drop_table('acc_import')
    with op.batch_alter_table('acc_factor_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acc_factor_override_material'))

    op.drop_table('acc_factor_override')
    op.drop_table('acc_baseline')
