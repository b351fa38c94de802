"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import store.models  # noqa: F401
from store.db import alembic_config, dispose_all, get_engine, upgrade


def test_migrated_schema_matches_the_models(db_url):
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_db_upgrade_command_is_idempotent(db_url, monkeypatch, capsys, redis):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_0002_names_pages_and_keeps_reply_kinds_and_escalations_in_columns(db_url):
    command.downgrade(alembic_config(db_url), "0001")
    rows = [
        (1, "in", "inbound", None),
        (2, "out", "reply", "reply-1-side_effect"),
        (3, "out", "reply", "booking-7-confirmed"),
        (4, "out", "alert", "page-42-1-5"),
        (5, "out", "alert", "page-42-2-6"),
        (6, "out", "touch", "touch-9"),
        (7, "out", "staff", "staff-0a1b2c"),
    ]
    try:
        with get_engine(db_url).begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO message (id, direction, kind, from_number, to_number, body, idempotency_key, created_at)"
                    " VALUES (:id, :direction, :kind, '+15125550100', '+15125550143', 'hi', :key, CURRENT_TIMESTAMP)"
                ),
                [{"id": i, "direction": d, "kind": k, "key": key} for i, d, k, key in rows],
            )
    finally:
        upgrade(db_url)
    dispose_all()
    with get_engine(db_url).connect() as connection:
        found = connection.execute(text("SELECT id, kind, reply_kind, escalation_id FROM message ORDER BY id")).all()
    assert [tuple(row) for row in found] == [
        (1, "inbound", None, None),
        (2, "reply", "side_effect", None),
        (3, "reply", "confirmed", None),
        (4, "page", None, 42),
        (5, "page", None, 42),
        (6, "touch", None, None),
        (7, "staff", None, None),
    ]


def test_every_migration_has_its_own_revision_and_they_form_one_line():
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "store" / "migrations" / "versions"
    found = {}
    for path in sorted(folder.glob("*.py")):
        text_ = path.read_text()
        revision = re.search(r"^revision = ['\"](\w+)['\"]", text_, re.M).group(1)
        down = re.search(r"^down_revision = (?:['\"](\w+)['\"]|None)", text_, re.M).group(1)
        assert revision not in found, f"{path.name} reuses revision {revision}"
        found[revision] = down
    downs = [d for d in found.values() if d is not None]
    assert len(downs) == len(set(downs)), "two migrations follow the same one: renumber the newer"
    assert sorted(found) == [str(n).zfill(4) for n in range(1, len(found) + 1)]
