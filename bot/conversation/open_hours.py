"""Whether a location is open now, and the call-back window an urgent reply promises.

The hours come from the practice fact `open_hours` ({"mon": ["09:00", "19:00"], ...}, a missing day is
closed), written for the whole practice or per location (keyed by the location's external id). Without
it, a location is open while one of its providers works (`Provider.working_hours`). Not knowing the hours
counts as closed: the patient is promised the after-hours window, the longer one, never a call that
cannot come.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.booking.open_times import WEEKDAYS
from bot.clock import local_zone, to_local, to_utc
from store.models import Location, Practice, Provider


def week_hours(session: Session, practice: Practice | None, location: Location | None) -> list[dict]:
    """The weekly hours that apply: the `open_hours` fact (the location's, else the practice's), else the
    working hours of each active provider at the location (of the practice, without one)."""
    fact = ((practice.facts if practice is not None else None) or {}).get("open_hours")
    if isinstance(fact, dict) and location is not None and isinstance(fact.get(location.external_id or ""), dict):
        return [fact[location.external_id or ""]]
    if isinstance(fact, dict) and any(day in fact for day in WEEKDAYS):
        return [fact]
    if practice is None:
        return []
    query = select(Provider).where(Provider.practice_id == practice.id, col(Provider.active))
    if location is not None:
        query = query.where(Provider.location_id == location.id)
    return [p.working_hours for p in session.exec(query) if p.working_hours]


def is_open(session: Session, practice: Practice | None, location: Location | None, now: datetime) -> bool:
    """Whether the location (or practice) is open at `now`, in its own time zone."""
    local = to_local(now, local_zone(location, practice))
    day = WEEKDAYS[local.weekday()]
    for hours in week_hours(session, practice, location):
        span = hours.get(day)
        try:
            opens, closes = (time.fromisoformat(h) for h in span or ())
        except (TypeError, ValueError):  # closed that day, or hours not written as ["09:00", "17:00"]
            continue
        if opens <= local.time() < closes:
            return True
    return False


def next_open(session: Session, practice: Practice | None, location: Location | None, now: datetime) -> datetime | None:
    """When the location next opens after `now` (aware, its own zone), within a week; None without hours."""
    zone = ZoneInfo(local_zone(location, practice))
    local = to_utc(now).astimezone(zone)
    spans = week_hours(session, practice, location)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        opens = []
        for hours in spans:
            try:
                first, _ = (time.fromisoformat(h) for h in hours.get(WEEKDAYS[day.weekday()]) or ())
            except (TypeError, ValueError):
                continue
            opens.append(datetime.combine(day, first, tzinfo=zone))
        later = [moment for moment in opens if moment > local]
        if later:
            return min(later)
    return None


def when_words(moment: datetime, now: datetime, language: str) -> str:
    """ "9:00 AM tomorrow", "9:00 AM on Tuesday" / "las 9:00 de mañana", "las 9:00 del martes"."""
    today = to_utc(now).astimezone(moment.tzinfo).date()
    days = (moment.date() - today).days
    if language == "es":
        clock = f"las {moment.hour}:{moment.minute:02d}"
        if days == 0:
            return f"{clock} de hoy"
        return f"{clock} de mañana" if days == 1 else f"{clock} del {SPANISH_DAYS[moment.weekday()]}"
    clock = moment.strftime("%-I:%M %p")
    if days == 0:
        return f"{clock} today"
    return f"{clock} tomorrow" if days == 1 else f"{clock} on {moment:%A}"


SPANISH_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
"""Weekday names in Spanish texts, Monday first."""


def duration_words(minutes: int, language: str) -> str:
    """ "15 minutes", "1 hour", "90 minutes" / "15 minutos", "1 hora", in the text's language."""
    if minutes % 60 == 0:
        hours = minutes // 60
        if language == "es":
            return f"{hours} hora" if hours == 1 else f"{hours} horas"
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutos" if language == "es" else f"{minutes} minutes"


def callback_window(
    session: Session,
    practice: Practice | None,
    location: Location | None,
    now: datetime,
    language: str,
    open_minutes: int,
    closed_minutes: int,
) -> str:
    """How soon a clinician calls back: the open-hours window while the location is open, else the after-hours one."""
    minutes = open_minutes if is_open(session, practice, location, now) else closed_minutes
    return duration_words(minutes, language)
