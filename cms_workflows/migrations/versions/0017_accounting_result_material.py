"""accounting: results carry the material; output value optional (issue 15 items 4 and 5)

`acc_result.material` is the source fuel/material of a result row, so that emissions can be ranked by source;
nullable: runs stored before it keep NULL and are verified at the granularity they were stored with.
`acc_output.value_10k_cny` becomes nullable: a site-month's output value is optional (no value intensity then).

Revision ID: 0017_accounting_result_material
Revises: 0016_accounting_purity
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017_accounting_result_material'
down_revision = '0016_accounting_purity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('acc_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('material', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('acc_output', schema=None) as batch_op:
        batch_op.alter_column('value_10k_cny', existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    # an output value left empty reads as 0 again (no value intensity, as before the column was optional)
    op.execute('UPDATE acc_output SET value_10k_cny = 0 WHERE value_10k_cny IS NULL')
    with op.batch_alter_table('acc_output', schema=None) as batch_op:
        batch_op.alter_column('value_10k_cny', existing_type=sa.Float(), nullable=False)
    with op.batch_alter_table('acc_result', schema=None) as batch_op:
        batch_op.drop_column('material')
