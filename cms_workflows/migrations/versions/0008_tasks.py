"""tasks: tasks with reminders and escalations, the notification outbox (issue 10, X-3)

Revision ID: 0008_tasks
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008_tasks'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('title_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('title_params', sa.Text(), nullable=False),
    sa.Column('clause', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('reminder_days', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('escalation', sa.Text(), nullable=False),
    sa.Column('evidence_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('evidence_ref', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('evidence_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('completed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('next_reminder_on', sa.Date(), nullable=True),
    sa.Column('next_escalation_on', sa.Date(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_task_task_assignee'), 'task_task', ['assignee'], unique=False)
    op.create_index(op.f('ix_task_task_claimed_by'), 'task_task', ['claimed_by'], unique=False)
    op.create_index(op.f('ix_task_task_due'), 'task_task', ['due'], unique=False)
    op.create_index(op.f('ix_task_task_key'), 'task_task', ['key'], unique=True)
    op.create_index(op.f('ix_task_task_next_escalation_on'), 'task_task', ['next_escalation_on'], unique=False)
    op.create_index(op.f('ix_task_task_next_reminder_on'), 'task_task', ['next_reminder_on'], unique=False)
    op.create_index(op.f('ix_task_task_position'), 'task_task', ['position'], unique=False)
    op.create_index(op.f('ix_task_task_site'), 'task_task', ['site'], unique=False)
    op.create_index(op.f('ix_task_task_status'), 'task_task', ['status'], unique=False)
    op.create_table('task_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('falls_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('notified', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task_task.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'kind', 'step', name='uq_task_notice_step')
    )
    op.create_index(op.f('ix_task_notice_task_id'), 'task_notice', ['task_id'], unique=False)
    op.create_table('task_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('message_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['task_task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_task_outbox_recipient'), 'task_outbox', ['recipient'], unique=False)
    op.create_index(op.f('ix_task_outbox_status'), 'task_outbox', ['status'], unique=False)
    op.create_index(op.f('ix_task_outbox_task_id'), 'task_outbox', ['task_id'], unique=False)
    op.create_table('task_recipient_pref',
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.ForeignKeyConstraint(['username'], ['org_user.username'], ),
    sa.PrimaryKeyConstraint('username')
    )


def downgrade() -> None:
    op.drop_table('task_recipient_pref')
    op.drop_index(op.f('ix_task_outbox_task_id'), table_name='task_outbox')
    op.drop_index(op.f('ix_task_outbox_status'), table_name='task_outbox')
    op.drop_index(op.f('ix_task_outbox_recipient'), table_name='task_outbox')
    op.drop_table('task_outbox')
    op.drop_index(op.f('ix_task_notice_task_id'), table_name='task_notice')
    op.drop_table('task_notice')
    op.drop_index(op.f('ix_task_task_status'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_site'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_position'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_next_reminder_on'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_next_escalation_on'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_key'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_due'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_claimed_by'), table_name='task_task')
    op.drop_index(op.f('ix_task_task_assignee'), table_name='task_task')
    op.drop_table('task_task')
