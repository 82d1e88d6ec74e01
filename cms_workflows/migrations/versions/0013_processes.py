"""processes: the PDCA cases, the texts people write into them and their repeated entries (issue 11)

A case names its report document and its tasks by natural key (document number, task key), not by a
foreign key, so this branch depends on the foundation only.

Revision ID: 0013_processes
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013_processes'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proc_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('trigger_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('document_number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('opened_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('stage_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['proc_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proc_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proc_case_key'), ['key'], unique=True)
        batch_op.create_index(batch_op.f('ix_proc_case_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_proc_case_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_proc_case_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proc_case_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_proc_case_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_proc_case_year'), ['year'], unique=False)

    op.create_table('proc_case_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('linked_case_id', sa.Integer(), nullable=True),
    sa.Column('task_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['proc_case.id'], ),
    sa.ForeignKeyConstraint(['linked_case_id'], ['proc_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'seq', name='uq_proc_case_item')
    )
    with op.batch_alter_table('proc_case_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proc_case_item_case_id'), ['case_id'], unique=False)

    op.create_table('proc_case_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('written_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('written_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['proc_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proc_case_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proc_case_text_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('proc_case_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proc_case_text_case_id'))

    op.drop_table('proc_case_text')
    with op.batch_alter_table('proc_case_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proc_case_item_case_id'))

    op.drop_table('proc_case_item')
    with op.batch_alter_table('proc_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proc_case_year'))
        batch_op.drop_index(batch_op.f('ix_proc_case_status'))
        batch_op.drop_index(batch_op.f('ix_proc_case_site'))
        batch_op.drop_index(batch_op.f('ix_proc_case_parent_id'))
        batch_op.drop_index(batch_op.f('ix_proc_case_number'))
        batch_op.drop_index(batch_op.f('ix_proc_case_kind'))
        batch_op.drop_index(batch_op.f('ix_proc_case_key'))

    op.drop_table('proc_case')
