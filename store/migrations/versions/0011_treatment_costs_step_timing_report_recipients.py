"""service.product_cost and service.supply_cost (what a treatment costs); practice.step_timing (a plan step's
offset and conditions as the practice changed them); report_recipient (one monthly report mail per manager
and month)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product_cost", sa.Numeric(12, 2), nullable=True))
        batch_op.add_column(sa.Column("supply_cost", sa.Numeric(12, 2), nullable=True))
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_timing", sa.JSON(), server_default="{}", nullable=False))
    op.create_table(
        "report_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "month", "staff_user_id"),
    )
    with op.batch_alter_table("report_recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_recipient_practice_id"), ["practice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_recipient_practice_id"))
    op.drop_table("report_recipient")
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("step_timing")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("supply_cost")
        batch_op.drop_column("product_cost")
