"""care_text_signoff (the medical director's sign-off of the aftercare texts); practice.care_texts;
staff_user.medical_director

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_text_signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("care_text_signoff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_text_signoff_practice_id"), ["practice_id"], unique=False)
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("care_texts", sa.JSON(), server_default="{}", nullable=False))
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("medical_director", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("medical_director")
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("care_texts")
    with op.batch_alter_table("care_text_signoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_text_signoff_practice_id"))
    op.drop_table("care_text_signoff")
