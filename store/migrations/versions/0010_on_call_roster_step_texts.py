"""on_call_shift (the on-call roster); practice.keyword_confirmations, practice.step_texts

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "on_call_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("duty", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("end", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("on_call_shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_on_call_shift_practice_id"), ["practice_id"], unique=False)
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keyword_confirmations", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("step_texts", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("step_texts")
        batch_op.drop_column("keyword_confirmations")
    with op.batch_alter_table("on_call_shift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_on_call_shift_practice_id"))
    op.drop_table("on_call_shift")
