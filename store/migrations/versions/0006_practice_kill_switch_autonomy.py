"""practice.paused_at, paused_by (the kill switch) and practice.autonomy (per-intent: auto, draft or off)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("paused_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("autonomy", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("autonomy")
        batch_op.drop_column("paused_by")
        batch_op.drop_column("paused_at")
