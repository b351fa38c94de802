"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import store.models  # noqa: F401
from store.db import get_engine


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
