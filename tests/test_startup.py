"""Production start-up: the web app and the worker refuse to run without their secrets, naming each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import DEMO_SECRETS, SECRETS, Settings

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DATABASE_URL": "postgresql://aftercare@127.0.0.1:1/aftercare",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "PUBLIC_BASE_URL": "https://aftercare.example.com",
    "SECRET_KEY": "k" * 40,
    "AFTERCARE_API_TOKEN": "a" * 40,
    "TWILIO_AUTH_TOKEN": "t" * 32,
    "APPOINTMENTS_WEBHOOK_SECRET": "s" * 40,
}
"""A production environment with every secret set (the database and Redis are never reached)."""


def _run(argv: list[str], env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "AFTERCARE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_gunicorn_without_a_secret_exits_naming_it(missing, tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    done = _run([gunicorn, "--bind", "127.0.0.1:0", "--workers", "1", "app:create_app()"], env, tmp_path)
    assert done.returncode != 0
    assert f"{missing}: not set" in done.stderr
    for name, value in PRODUCTION.items():  # the secrets that were given are never printed
        if name in SECRETS:
            assert value not in done.stderr + done.stdout


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_the_worker_without_a_secret_exits_naming_it(missing, tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    done = _run([sys.executable, "worker.py"], env, tmp_path)
    assert done.returncode == 2
    assert f"configuration error: {missing}: not set" in done.stderr


def test_every_missing_secret_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"DATABASE_URL": PRODUCTION["DATABASE_URL"]}).require_secrets()
    assert str(caught.value).startswith(", ".join(SECRETS) + ": not set")


@pytest.mark.parametrize("name", sorted(DEMO_SECRETS))
def test_the_demo_values_are_refused_outside_the_demo(name):
    env = dict(PRODUCTION, **{name: DEMO_SECRETS[name]})
    with pytest.raises(ConfigError, match=f"{name}: the demo's public value is refused"):
        Settings.from_env(env).require_secrets()
    Settings.from_env(dict(env, AFTERCARE_DEMO="1")).require_secrets()


def test_secrets_stay_out_of_the_settings_repr():
    shown = repr(Settings.from_env(PRODUCTION))
    assert all(PRODUCTION[name] not in shown for name in SECRETS)


def test_without_smtp_email_is_off_outside_the_demo():
    assert not Settings.from_env(PRODUCTION).email_enabled
    assert Settings.from_env(dict(PRODUCTION, SMTP_URL="smtp://mail.example.com")).email_enabled
    assert Settings.from_env(dict(PRODUCTION, AFTERCARE_DEMO="1")).email_enabled
