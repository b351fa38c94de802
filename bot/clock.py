"""Time, injectable: code asks a clock, tests hand it a frozen one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "America/Chicago"
"""The zone of a location or practice that names none (also the models' default): the one fallback."""


class _Zoned(Protocol):
    @property
    def timezone(self) -> str | None: ...


def zone_name(*names: str | None) -> str:
    """The first time zone named, most specific first (location, then practice), else DEFAULT_TIMEZONE."""
    return next((name for name in names if name), DEFAULT_TIMEZONE)


def local_zone(location: _Zoned | None = None, practice: _Zoned | None = None) -> str:
    """The time zone a patient's texts and times are in: the location's, else its practice's, else
    DEFAULT_TIMEZONE."""
    return zone_name(
        location.timezone if location is not None else None, practice.timezone if practice is not None else None
    )


MONTHS = {
    "en": (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}
"""Month names by language, January first: what texts show and what replies are read for."""


def utcnow() -> datetime:
    """Now, aware, in UTC (the form every table stores and returns)."""
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """Any datetime as aware UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_local(moment: datetime, tz: str) -> datetime:
    """A datetime in a time zone (aware); naive input is taken as UTC."""
    return to_utc(moment).astimezone(ZoneInfo(tz))


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        return utcnow()


class FrozenClock(Clock):
    """A clock that moves only when told; for tests and `aftercare simulate`."""

    def __init__(self, start: datetime):
        self.current = to_utc(start)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = to_utc(moment)


SYSTEM_CLOCK = Clock()
