"""registers: carbon performance parameters (seeded from Annex F table F.1 by `cms init`), objectives and
targets, action plans and their progress reports (issue 10, item 3; R-6.3.1, R-6.3.3, R-6.3.4)

Objectives name their parameter and plans their objective by code, checked when written (as the other
registers name documents), so a register file may be imported in any order. The seed is not inserted
here: `cms init` adds it through the audited installer command `registers.carbon_parameter.seed`.

Revision ID: 0010_registers_performance
Revises: 0009_registers
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010_registers_performance'
down_revision = '0009_registers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reg_action_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('objective', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('approach', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('resources', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('owner_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_user', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('expected_effect', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('verification', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=True),
    sa.Column('progress_on', sa.Date(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_action_plan_code'), 'reg_action_plan', ['code'], unique=True)
    op.create_index(op.f('ix_reg_action_plan_ends_on'), 'reg_action_plan', ['ends_on'], unique=False)
    op.create_index(op.f('ix_reg_action_plan_objective'), 'reg_action_plan', ['objective'], unique=False)
    op.create_index(op.f('ix_reg_action_plan_site'), 'reg_action_plan', ['site'], unique=False)
    op.create_table('reg_carbon_objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('parameter', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('target_value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('base_year', sa.Integer(), nullable=True),
    sa.Column('base_value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('evaluation_criteria', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('owner_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_user', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_carbon_objective_code'), 'reg_carbon_objective', ['code'], unique=True)
    op.create_index(op.f('ix_reg_carbon_objective_deadline'), 'reg_carbon_objective', ['deadline'], unique=False)
    op.create_index(op.f('ix_reg_carbon_objective_site'), 'reg_carbon_objective', ['site'], unique=False)
    op.create_table('reg_carbon_parameter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('parameter_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('measurement', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('monitoring_method', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('monitoring_period', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('baseline_value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('abnormal_rule', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('limit_low', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('limit_high', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('deviation_pct', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('abnormal_handling', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('owner_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_carbon_parameter_code'), 'reg_carbon_parameter', ['code'], unique=True)
    op.create_index(op.f('ix_reg_carbon_parameter_site'), 'reg_carbon_parameter', ['site'], unique=False)
    op.create_table('reg_action_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['reg_action_plan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_action_progress_plan_id'), 'reg_action_progress', ['plan_id'], unique=False)


def downgrade() -> None:
    for table in ('reg_action_progress', 'reg_action_plan', 'reg_carbon_objective', 'reg_carbon_parameter'):
        op.drop_table(table)
