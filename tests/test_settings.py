"""Settings are read once and a bad value stops start-up with the variable's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings


def test_defaults_need_nothing():
    settings = Settings.from_env({})
    assert settings.database_url is None and settings.redis_url is None
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.port == 8000 and not settings.llm_configured


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("PORT", "eighty", "PORT: expected a whole number"),
        ("PORT", "70000", "PORT: 70000 is outside"),
        ("PUBLIC_BASE_URL", "aftercare.example.com", "PUBLIC_BASE_URL: expected a URL"),
        ("REDIS_URL", "http://127.0.0.1:6379", "REDIS_URL: expected a URL starting with redis://"),
        ("DATABASE_URL", "mysql://db", "DATABASE_URL: expected a postgresql:// or sqlite:// URL"),
        ("AFTERCARE_PACING", "maybe", "AFTERCARE_PACING: expected true or false"),
        ("AFTERCARE_SENDER_MPS", "-1", "AFTERCARE_SENDER_MPS: -1.0 is below"),
        ("AFTERCARE_PLANS_FILE", "/nonexistent/plans.toml", "AFTERCARE_PLANS_FILE: no file at"),
        ("AFTERCARE_PROXY_HOPS", "nginx", "AFTERCARE_PROXY_HOPS: expected a whole number"),
    ],
)
def test_bad_values_are_refused_with_the_variable_name(name, value, expected):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value).startswith(expected)


def test_secret_from_file(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    assert Settings.from_env({"TWILIO_AUTH_TOKEN_FILE": str(secret)}).twilio_auth_token == "from-a-file"
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN_FILE: cannot read"):
        Settings.from_env({"TWILIO_AUTH_TOKEN_FILE": str(tmp_path / "missing")})


def test_plain_postgresql_url_uses_psycopg_3():
    settings = Settings.from_env({"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"})
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_cli_reports_a_bad_setting(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("PORT", "abc")
    assert main(["db", "upgrade"]) == 2
    assert "configuration error: PORT" in capsys.readouterr().err


def test_subcommands_with_their_own_options_show_their_help(capsys):
    import pytest as _pytest

    from bot.cli import main

    for command in ("eval", "preview", "simulate"):
        with _pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0
        assert f"usage: aftercare {command}" in capsys.readouterr().out


def test_data_folder_is_var_of_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).data_dir == tmp_path / "var"
    assert Settings().data_dir == tmp_path / "var"
    assert Settings.from_env({"AFTERCARE_DATA_DIR": "/srv/aftercare"}).data_dir == Path("/srv/aftercare")
