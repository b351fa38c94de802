"""The settings and clock this process runs with.

The web app and the worker configure it once at start; jobs (which receive only
primary keys) read it. It holds configuration only, never state that matters.
"""

from __future__ import annotations

from bot.clock import SYSTEM_CLOCK, Clock
from bot.settings import Settings

_settings: Settings | None = None
_clock: Clock = SYSTEM_CLOCK


def configure(settings: Settings | None = None, clock: Clock | None = None) -> Settings:
    """Set this process's settings (read from the environment when not given) and clock."""
    global _settings, _clock
    _settings = settings or Settings.from_env()
    _clock = clock or SYSTEM_CLOCK
    return _settings


def settings() -> Settings:
    """This process's settings, read from the environment on first use."""
    return _settings or configure()


def clock() -> Clock:
    return _clock


def db_url() -> str:
    return settings().effective_database_url
