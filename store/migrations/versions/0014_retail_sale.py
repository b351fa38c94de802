"""retail_sale (a retail product sold at the desk, recorded by staff, against the offer it answers)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retail_sale",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("item", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("sold_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"]),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_retail_sale_practice_id"), "retail_sale", ["practice_id"], unique=False)
    op.create_index(op.f("ix_retail_sale_patient_id"), "retail_sale", ["patient_id"], unique=False)
    op.create_index(op.f("ix_retail_sale_offer_id"), "retail_sale", ["offer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_retail_sale_offer_id"), table_name="retail_sale")
    op.drop_index(op.f("ix_retail_sale_patient_id"), table_name="retail_sale")
    op.drop_index(op.f("ix_retail_sale_practice_id"), table_name="retail_sale")
    op.drop_table("retail_sale")
