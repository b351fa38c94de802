"""message.claimed_at; early_status for delivery callbacks that beat their SID

An inbound text is claimed (claimed_at) while a worker handles it and is
processed (processed_at) only when its decision is stored, so a worker that
dies mid-way leaves a claim that expires instead of a text marked done.
A status callback for a SID not stored yet waits in early_status and is
applied when the SID lands.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "early_status",
        sa.Column("sid", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid"),
    )
    # Texts handled before claims existed were claimed and processed at the same moment.
    op.get_bind().execute(sa.text("UPDATE message SET claimed_at = processed_at WHERE processed_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_table("early_status")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
