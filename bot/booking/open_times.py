"""Open appointment times a patient can be offered by text.

A slot is a start time at which a provider works (their `working_hours` on
that weekday, in the location's time zone) and the service fits, its buffer
included, without touching any of the provider's booked, requested or
completed appointments (and their buffers). Times are on a 30-minute grid,
from tomorrow for two weeks, never sooner than MIN_NOTICE. The patient's stated
preferences narrow the search: days ("tuesday", "next week", "weekend",
"mañana"), parts of the day ("morning", "after work") and clock times ("3pm").
Three slots are offered, on different days when the calendar allows.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.clock import MONTHS, to_utc
from bot.understanding.textnorm import fold
from store.models import Appointment, Provider, Service

GRID = timedelta(minutes=30)
"""Offered times start on the hour or the half hour."""
HORIZON_DAYS = 14
"""How far ahead times are looked for."""
MIN_NOTICE = timedelta(hours=12)
"""The soonest an offered time may start."""
OFFERED = 3
"""Times offered in one text."""
BUSY = ("booked", "requested", "completed")
"""Appointment statuses that hold a provider's time."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS = {  # weekday names and short forms, English and Spanish (folded) -> Monday = 0
    "mon": 0,
    "monday": 0,
    "lunes": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "martes": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "miercoles": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "jueves": 3,
    "fri": 4,
    "friday": 4,
    "viernes": 4,
    "sat": 5,
    "saturday": 5,
    "sabado": 5,
    "sun": 6,
    "sunday": 6,
    "domingo": 6,
}
_PARTS = {  # local start hours [from, to)
    "morning": (0, 12),
    "mornings": (0, 12),
    "en la manana": (0, 12),
    "temprano": (0, 11),
    "afternoon": (12, 17),
    "afternoons": (12, 17),
    "en la tarde": (12, 19),
    "lunch": (11, 14),
    "noon": (11, 14),
    "evening": (16, 24),
    "evenings": (16, 24),
    "after work": (16, 24),
    "por la manana": (0, 12),
    "por las mananas": (0, 12),
    "por la tarde": (12, 19),
    "por las tardes": (12, 19),
    "en las tardes": (12, 19),
    "por la noche": (17, 24),
    "en la noche": (17, 24),
}
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d\d))?\s?(am|pm)?\b")


@dataclass(frozen=True)
class Slot:
    provider_id: int
    provider: str
    start: datetime  # UTC

    def as_option(self) -> dict:
        return {"provider_id": self.provider_id, "provider": self.provider, "start": self.start.isoformat()}


@dataclass
class Preferences:
    """What the patient asked for; empty means any day and time."""

    weekdays: set[int]
    hours: tuple[int, int] | None = None
    around: time | None = None
    earliest: date | None = None
    latest: date | None = None
    after: time | None = None
    before: time | None = None

    @classmethod
    def parse(
        cls, date_preference: str | None, time_preference: str | None, today: date, body: str | None = None
    ) -> Preferences:
        """What the classifier's day and time preferences say, and what the raw `body` adds to them
        ("weekdays after 5", "antes de las 11", "the week of Dec 7", "por las tardes")."""
        prefs = cls(weekdays=set())
        text = fold(body or "")
        days = fold(date_preference or "") + " " + text
        for word in re.findall(r"[a-z]+", days):
            if word in DAY_WORDS:
                prefs.weekdays.add(DAY_WORDS[word])
        if re.search(r"\b(weekdays?|week days?|entre semana|during the week|dias de semana)\b", days):
            prefs.weekdays |= {0, 1, 2, 3, 4}
        if re.search(r"\b(weekends?|fin(es)? de semana)\b", days):
            prefs.weekdays |= {5, 6}
        times = fold(time_preference or "") + " " + text
        # "mañana" is tomorrow, but "en la mañana" is the morning (the time preference then says so).
        morning = "manana" in fold(time_preference or "") or re.search(r"\b(la|las) mananas?\b", text)
        if re.search(r"\b(tomorrow|tmrw)\b", days) or (re.search(r"\bmanana\b", days) and not morning):
            prefs.earliest = prefs.latest = today + timedelta(days=1)
        monday = today - timedelta(days=today.weekday())
        if re.search(r"\b(this week|esta semana)\b", days):
            prefs.earliest, prefs.latest = today, monday + timedelta(days=6)
        if re.search(r"\b(next week|proxima semana|semana que viene|siguiente semana)\b", days):
            prefs.earliest = monday + timedelta(days=7)
            prefs.latest = prefs.earliest + timedelta(days=6)
        if re.search(r"\b(in (two|2) weeks|en (dos|2) semanas)\b", days):
            prefs.earliest = monday + timedelta(days=14)
            prefs.latest = prefs.earliest + timedelta(days=6)
        week_of = _week_of(text, today)
        if week_of is not None:
            prefs.earliest, prefs.latest = max(week_of, today), week_of + timedelta(days=6)
        for phrase, hours in _PARTS.items():  # whole words: "noon" is not in "afternoon"
            if re.search(rf"\b{phrase}\b", times):
                prefs.hours = hours
        for pattern, name in ((_AFTER, "after"), (_BEFORE, "before")):
            match = pattern.search(times)
            if match:
                setattr(prefs, name, _clock_time(match.group(1), match.group(2), match.group(3)))
                times = pattern.sub(" ", times)
        match = _CLOCK.search(times)
        if match and (match.group(3) or match.group(2)):
            prefs.around = _clock_time(match.group(1), match.group(2), match.group(3))
        return prefs

    def empty(self) -> bool:
        """Nothing asked for: any day, any time."""
        return self == Preferences(weekdays=set())

    def accepts(self, local: datetime) -> bool:
        if self.weekdays and local.weekday() not in self.weekdays:
            return False
        if self.earliest and local.date() < self.earliest:
            return False
        if self.latest and local.date() > self.latest:
            return False
        if self.hours and not self.hours[0] <= local.hour < self.hours[1]:
            return False
        if self.after and local.time() < self.after:
            return False
        if self.before and local.time() >= self.before:
            return False
        if self.around:
            minutes = local.hour * 60 + local.minute - (self.around.hour * 60 + self.around.minute)
            if not -60 <= minutes <= 90:
                return False
        return True


_AFTER = re.compile(
    r"\b(?:after|past|from|later than|despues de(?: las?)?|a partir de(?: las?)?)\s+(\d{1,2}|noon|mediodia)(?::(\d\d))?\s?(am|pm)?"
)
_BEFORE = re.compile(
    r"\b(?:before|by|until|till|earlier than|antes de(?: las?)?|hasta(?: las?)?)\s+(\d{1,2}|noon|mediodia)(?::(\d\d))?\s?(am|pm)?"
)
_MONTHS = {
    **{name[:3]: n for n, name in enumerate(MONTHS["en"], 1)},
    **{name: n for names in MONTHS.values() for n, name in enumerate(names, 1)},
}
_WEEK_OF = re.compile(
    r"\b(?:week of(?: the)?|semana del?)\s+(?:([a-z]+)\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+(?:de\s+)?([a-z]+))?"
)


def _clock_time(hour: str, minute: str | None, meridiem: str | None) -> time:
    """A time as patients write it: "5" and "3:30" at a spa are in the afternoon, "noon" is 12:00."""
    if hour in ("noon", "mediodia"):
        return time(12)
    value = int(hour) % 12 + (12 if meridiem == "pm" else 0) if meridiem else int(hour)
    if meridiem is None and value < 8:
        value += 12
    return time(min(value, 23), min(int(minute or 0), 59))


def _week_of(text: str, today: date) -> date | None:
    """The Monday of "the week of Dec 7" / "la semana del 7 de diciembre" (the next such date from today)."""
    match = _WEEK_OF.search(text)
    if match is None:
        return None
    month = _MONTHS.get(match.group(1) or "") or _MONTHS.get(match.group(3) or "")
    day = int(match.group(2))
    candidates = []
    for year, m in ((today.year, month or today.month), (today.year, (month or today.month + 1))):
        year, m = (year + 1, m - 12) if m > 12 else (year, m)
        try:
            candidates.append(date(year, m, day))
        except ValueError:
            continue
    ahead = [d for d in candidates if d >= today - timedelta(days=6)]
    if not ahead and month:
        try:
            ahead = [date(today.year + 1, month, day)]
        except ValueError:
            return None
    if not ahead:
        return None
    chosen = min(ahead)
    return chosen - timedelta(days=chosen.weekday())


def open_slots(
    session: Session,
    service: Service,
    providers: list[Provider],
    tz: str,
    now: datetime,
    prefs: Preferences | None = None,
    count: int = OFFERED,
    exclude: Collection[str] = frozenset(),
    ignore: int | None = None,
) -> list[Slot]:
    """Up to `count` open times for `service` with any of `providers`, on different days first.

    `exclude` holds start times (UTC, ISO) not to offer, e.g. ones the patient turned down; `ignore` is a
    visit whose own time counts as free (the one being moved)."""
    zone = ZoneInfo(tz)
    now = to_utc(now)
    today = now.astimezone(zone).date()
    prefs = prefs or Preferences(weekdays=set())
    length = timedelta(minutes=service.duration_min or 30)
    buffer = timedelta(minutes=service.buffer_min or 0)
    busy = _busy(session, [p.id for p in providers], now, now + timedelta(days=HORIZON_DAYS + 1), ignore)
    found: list[Slot] = []
    for offset in range(1, HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        for provider in providers:
            hours = (provider.working_hours or {}).get(WEEKDAYS[day.weekday()]) or ()
            try:
                opens, closes = (datetime.combine(day, time.fromisoformat(h), tzinfo=zone) for h in hours)
            except (TypeError, ValueError):  # no hours that day, or hours not written as ["09:00", "17:00"]
                continue
            start = opens
            while start + length <= closes:
                if (
                    to_utc(start) >= now + MIN_NOTICE
                    and prefs.accepts(start)
                    and to_utc(start).isoformat() not in exclude
                    and not _overlaps(busy.get(provider.id, ()), to_utc(start), to_utc(start + length + buffer))
                ):
                    found.append(Slot(provider.id, provider.name, to_utc(start)))
                start += GRID
    return _spread(found, zone, count)


def hold_calendar(session: Session, provider_id: int) -> None:
    """Take the provider's calendar for this transaction: a booking made by another worker either
    committed before this returns (and `still_open` sees it) or waits until this one commits.

    A no-op UPDATE of the provider's row is a row lock on PostgreSQL and the write lock on SQLite,
    so checking a time and inserting the visit cannot interleave with another booking of it."""
    session.exec(update(Provider).where(col(Provider.id) == provider_id).values(id=Provider.id))


def still_open(
    session: Session, service: Service, provider_id: int, start: datetime, ignore: int | None = None
) -> bool:
    """Whether a previously offered time is still free (someone may have taken it since); `ignore` as in open_slots."""
    start = to_utc(start)
    end = start + timedelta(minutes=(service.duration_min or 30) + (service.buffer_min or 0))
    busy = _busy(session, [provider_id], start - timedelta(days=1), end + timedelta(days=1), ignore)
    return not _overlaps(busy.get(provider_id, ()), start, end)


def _busy(
    session: Session, provider_ids: list[int], since: datetime, until: datetime, ignore: int | None = None
) -> dict[int | None, list]:
    query = (
        select(Appointment.provider_id, Appointment.start_at, Appointment.end_at, Service.buffer_min)
        .join(Service, col(Service.id) == Appointment.service_id)
        .where(
            col(Appointment.provider_id).in_(provider_ids),
            col(Appointment.status).in_(BUSY),
            Appointment.start_at < until,
            Appointment.end_at > since,
        )
    )
    if ignore is not None:
        query = query.where(Appointment.id != ignore)
    rows = session.exec(query)
    busy: dict[int | None, list] = {}
    for provider_id, start, end, buffer in rows:
        busy.setdefault(provider_id, []).append((to_utc(start), to_utc(end) + timedelta(minutes=buffer or 0)))
    return busy


def _overlaps(intervals, start: datetime, end: datetime) -> bool:
    return any(start < taken_end and taken_start < end for taken_start, taken_end in intervals)


SPREAD = timedelta(hours=2)
"""Two times offered on the same day are at least this far apart when the calendar allows."""


def _spread(slots: list[Slot], zone: ZoneInfo, count: int) -> list[Slot]:
    """The earliest slot of each day first; then times at least SPREAD from those already chosen; in time order."""
    ordered = sorted(slots, key=lambda s: (s.start, s.provider_id))
    chosen: list[Slot] = []
    days: set = set()
    for slot in ordered:
        day = slot.start.astimezone(zone).date()
        if day not in days and len(chosen) < count:
            chosen.append(slot)
            days.add(day)
    for slot in ordered:
        if len(chosen) >= count:
            break
        if slot not in chosen and all(abs(slot.start - other.start) >= SPREAD for other in chosen):
            chosen.append(slot)
    for slot in ordered:
        if len(chosen) >= count:
            break
        if slot not in chosen:
            chosen.append(slot)
    return sorted(chosen, key=lambda s: s.start)
