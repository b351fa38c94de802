"""prices as NUMERIC(12, 2) instead of float; correction (a decision marked wrong); report_claim (one monthly
report per practice and month)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("service", "appointment"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "price",
                existing_type=sa.Float(),
                type_=sa.Numeric(12, 2),
                existing_nullable=True,
                postgresql_using="round(price::numeric, 2)",
            )
    op.create_table(
        "correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("original_intent", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("original_urgency", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("intent", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("urgency", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_correction_practice_id"), ["practice_id"], unique=False)
    op.create_table(
        "report_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "month"),
    )
    with op.batch_alter_table("report_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_claim_practice_id"), ["practice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_claim_practice_id"))
    op.drop_table("report_claim")
    with op.batch_alter_table("correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correction_practice_id"))
        batch_op.drop_index(batch_op.f("ix_correction_created_at"))
    op.drop_table("correction")
    for table in ("service", "appointment"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("price", existing_type=sa.Numeric(12, 2), type_=sa.Float(), existing_nullable=True)
