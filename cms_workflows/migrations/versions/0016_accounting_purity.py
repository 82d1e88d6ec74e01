"""accounting: purity of process inputs (issue 15 item 3)

`acc_activity.purity` is a row's own carbonate content / CO2 volume fraction (0-1); `acc_plan_item.purity` is
the plan line's default for rows that give none. Both nullable: existing rows mean "pure" (1), as before.

Revision ID: 0016_accounting_purity
Revises: 0003_accounting
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_accounting_purity'
down_revision = '0003_accounting'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('acc_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purity', sa.Float(), nullable=True))
    with op.batch_alter_table('acc_plan_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purity', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('acc_plan_item', schema=None) as batch_op:
        batch_op.drop_column('purity')
    with op.batch_alter_table('acc_activity', schema=None) as batch_op:
        batch_op.drop_column('purity')
