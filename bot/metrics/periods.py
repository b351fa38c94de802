"""The period a manager picks: the last 7, 30 or 90 days, a month, or custom dates, in the practice's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import to_utc

LAST_DAYS = (7, 30, 90)
"""The ready-made windows (days, ending now)."""
DEFAULT_DAYS = 30
"""The window shown when none is picked."""
MAX_DAYS = 400
"""The longest custom period: a year and a bit."""


class PeriodError(ValueError):
    """A period that cannot be read (bad date, end before start, too long); the message says which."""


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, with the words a page shows for it."""

    start: datetime
    end: datetime
    label: str
    kind: str  # "days", "month" or "custom"
    days: int | None = None
    month: str | None = None  # "2026-11"
    first: date | None = None  # the local dates shown in a custom picker
    last: date | None = None

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def last_days(days: int, now: datetime, tz: str) -> Period:
    """The `days` days up to now, now included (the period's end is exclusive)."""
    return Period(now - timedelta(days=days), now + timedelta(microseconds=1), f"last {days} days", "days", days=days)


def month(value: str, tz: str) -> Period:
    """A calendar month ("2026-11") in the practice's zone."""
    try:
        year, number = (int(part) for part in value.split("-"))
        first = date(year, number, 1)
    except (ValueError, TypeError) as exc:
        raise PeriodError(f"month must look like 2026-11, got {value!r}") from exc
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(
        _midnight(first, tz),
        _midnight(following, tz),
        first.strftime("%B %Y"),
        "month",
        month=f"{year:04d}-{number:02d}",
    )


def custom(first_text: str, last_text: str, tz: str) -> Period:
    """From one local date to another, both included."""
    try:
        first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
    except (ValueError, TypeError) as exc:
        raise PeriodError("from and to must be dates like 2026-11-01") from exc
    if last < first:
        raise PeriodError("the end date is before the start date")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"a period may cover at most {MAX_DAYS} days")
    label = f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"
    return Period(
        _midnight(first, tz), _midnight(last + timedelta(days=1), tz), label, "custom", first=first, last=last
    )


def from_args(args, now: datetime, tz: str) -> tuple[Period, str | None]:
    """The period a query string asks for (?days=, ?month=, ?from=&to=), and the error when it asks badly
    (the default period is shown then)."""
    try:
        if args.get("month"):
            return month(args["month"], tz), None
        if args.get("from") or args.get("to"):
            return custom(args.get("from", ""), args.get("to", ""), tz), None
    except PeriodError as error:
        return last_days(DEFAULT_DAYS, now, tz), str(error)
    raw = str(args.get("days") or "")
    days = int(raw) if raw.isdigit() else None
    return last_days(days if days in LAST_DAYS else DEFAULT_DAYS, now, tz), None


def previous_month(now: datetime, tz: str) -> str:
    """The month before the one `now` falls in, in the practice's zone ("2026-11" on any day of December)."""
    local = now.astimezone(ZoneInfo(tz)).date().replace(day=1) - timedelta(days=1)
    return f"{local.year:04d}-{local.month:02d}"


def buckets(period: Period, tz: str) -> list[tuple[str, datetime, datetime]]:
    """The period cut for a chart: days up to two weeks, weeks up to 120 days, months beyond."""
    zone = ZoneInfo(tz)
    first = period.start.astimezone(zone).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    out: list[tuple[str, datetime, datetime]] = []
    span = (last - first).days + 1
    if span > 120:
        day = first.replace(day=1)
        while day <= last:
            following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            out.append((day.strftime("%b %Y"), _midnight(day, tz), _midnight(following, tz)))
            day = following
    else:
        step = 1 if span <= 14 else 7
        day = first
        while day <= last:
            following = day + timedelta(days=step)
            out.append((f"{day:%b} {day.day}", _midnight(day, tz), _midnight(following, tz)))
            day = following
    return [(label, max(s, period.start), min(e, period.end)) for label, s, e in out]


def _midnight(day: date, tz: str) -> datetime:
    return to_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)))
