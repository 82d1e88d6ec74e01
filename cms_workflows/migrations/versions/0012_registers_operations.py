"""registers, operation: the carbon data quality control plan (R-8.6) and carbon assets — holdings and
their movements (R-8.7) (issue 10, item 3)

A quality-plan line names its line of the accounting data collection plan by natural key (site,
facility, material), not by a foreign key, so this branch depends on the registers branch only.

Revision ID: 0012_registers_operations
Revises: 0009_registers
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012_registers_operations'
down_revision = '0009_registers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reg_quality_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('facility', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('material', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('data_source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source_detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('instrument', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('qa_qc', sa.Text(), nullable=False),
    sa.Column('missing_data', sa.Text(), nullable=False),
    sa.Column('responsible_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('check_frequency', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_quality_plan_code'), 'reg_quality_plan', ['code'], unique=True)
    op.create_index(op.f('ix_reg_quality_plan_site'), 'reg_quality_plan', ['site'], unique=False)
    op.create_table('reg_carbon_holding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('vintage', sa.Integer(), nullable=False),
    sa.Column('registry_account', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_carbon_holding_code'), 'reg_carbon_holding', ['code'], unique=True)
    op.create_index(op.f('ix_reg_carbon_holding_kind'), 'reg_carbon_holding', ['kind'], unique=False)
    op.create_index(op.f('ix_reg_carbon_holding_vintage'), 'reg_carbon_holding', ['vintage'], unique=False)
    op.create_table('reg_carbon_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holding_id', sa.Integer(), nullable=False),
    sa.Column('to_holding_id', sa.Integer(), nullable=True),
    sa.Column('moved_on', sa.Date(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('counterparty', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('document', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['holding_id'], ['reg_carbon_holding.id'], ),
    sa.ForeignKeyConstraint(['to_holding_id'], ['reg_carbon_holding.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_carbon_movement_holding_id'), 'reg_carbon_movement', ['holding_id'], unique=False)
    op.create_index(op.f('ix_reg_carbon_movement_to_holding_id'), 'reg_carbon_movement', ['to_holding_id'], unique=False)
    op.create_index(op.f('ix_reg_carbon_movement_moved_on'), 'reg_carbon_movement', ['moved_on'], unique=False)


def downgrade() -> None:
    for table in ('reg_carbon_movement', 'reg_carbon_holding', 'reg_quality_plan'):
        op.drop_table(table)
