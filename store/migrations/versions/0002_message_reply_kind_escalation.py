"""message.reply_kind and message.escalation_id; pages are kind 'page'

What used to be read back out of idempotency keys gets columns of its own:
reply rows ("reply-<message>-<kind>", "booking-<appointment>-<kind>") keep
their reply kind, page rows ("page-<escalation>-<round>-<staff>") their
escalation. Texts to staff about an escalation were kind 'alert'; they are
called pages everywhere, so they become kind 'page'.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _reply_kind(key: str | None) -> str | None:
    parts = (key or "").split("-")
    if len(parts) == 3 and parts[0] in ("reply", "booking") and parts[1].isdigit() and parts[2]:
        return parts[2]
    return None


def _escalation_id(key: str | None) -> int | None:
    parts = (key or "").split("-")
    if len(parts) == 4 and parts[0] == "page" and parts[1].isdigit():
        return int(parts[1])
    return None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_kind", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("escalation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_message_escalation_id"), ["escalation_id"], unique=False)

    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, kind, idempotency_key FROM message WHERE kind IN ('reply', 'alert')")
    ).all()
    replies = [{"id": i, "kind": _reply_kind(key)} for i, kind, key in rows if kind == "reply"]
    pages = [{"id": i, "esc": _escalation_id(key)} for i, kind, key in rows if kind == "alert"]
    replies = [r for r in replies if r["kind"]]
    if replies:
        connection.execute(sa.text("UPDATE message SET reply_kind = :kind WHERE id = :id"), replies)
    if pages:
        connection.execute(sa.text("UPDATE message SET escalation_id = :esc WHERE id = :id"), pages)
    connection.execute(sa.text("UPDATE message SET kind = 'page' WHERE kind = 'alert'"))


def downgrade() -> None:
    op.get_bind().execute(sa.text("UPDATE message SET kind = 'alert' WHERE kind = 'page'"))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_escalation_id"))
        batch_op.drop_column("escalation_id")
        batch_op.drop_column("reply_kind")
