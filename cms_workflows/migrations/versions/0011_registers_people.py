"""registers, people and changes: planned changes (with the unscheduled carbon review flag), competence per
position, training plan and training records, communication plan and disclosures (issue 10, item 3;
R-6.4, R-6.2.3, R-7.2, R-7.3, R-7.4)

Like 0009 these tables refer to positions, users, sites and documents by code, not by foreign key, so the
branch depends on 0009 only (for the common register conventions), not on the org or documents tables.

Revision ID: 0011_registers_people
Revises: 0009_registers
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011_registers_people'
down_revision = '0009_registers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reg_communication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('timing', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('responsible_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_communication_code'), 'reg_communication', ['code'], unique=True)
    op.create_table('reg_competence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('competence', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('acquired_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('evaluated_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('required_course', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_competence_code'), 'reg_competence', ['code'], unique=True)
    op.create_index(op.f('ix_reg_competence_position'), 'reg_competence', ['position'], unique=False)
    op.create_table('reg_disclosure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('disclosed_on', sa.Date(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('document_number', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('plan_item', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_disclosure_code'), 'reg_disclosure', ['code'], unique=True)
    op.create_table('reg_planned_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('consequences', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('integrity', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('resources', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('responsible_position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('review_required', sa.Boolean(), nullable=False),
    sa.Column('review_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('review_raised_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('review_raised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_planned_change_code'), 'reg_planned_change', ['code'], unique=True)
    op.create_index(op.f('ix_reg_planned_change_review_required'), 'reg_planned_change', ['review_required'], unique=False)
    op.create_table('reg_training_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('target_positions', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('trainer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_training_course_code'), 'reg_training_course', ['code'], unique=True)
    op.create_index(op.f('ix_reg_training_course_site'), 'reg_training_course', ['site'], unique=False)
    op.create_table('reg_training_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('trained_on', sa.Date(), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('evidence_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('evidence_filename', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['reg_training_course.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_reg_training_record_course_id'), 'reg_training_record', ['course_id'], unique=False)
    op.create_index(op.f('ix_reg_training_record_username'), 'reg_training_record', ['username'], unique=False)


def downgrade() -> None:
    for table in ('reg_training_record', 'reg_training_course', 'reg_planned_change', 'reg_disclosure',
                  'reg_competence', 'reg_communication'):
        op.drop_table(table)
