"""Not now ("maybe next month", "text me after the holidays"): one check-back on the day named.

The day comes from the patient's words (`check_back_day`); with none named, the
`deferred` plan's offset (30 days). The nudge is a touch like any other (consent,
quiet hours, caps apply when it falls due); pending rebook and win-back texts due
before it are held back ("deferred_by_patient"), and a newer "not now" replaces
an older check-back. Without a visit on record, or with the deferred plan
switched off, the patient just gets an acknowledgement.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col

from bot.clock import MONTHS, local_zone, to_local, to_utc
from bot.touches import composer
from bot.touches.planner import due_time
from bot.touches.plans import DEFERRED, REBOOK_PURPOSES, plans_for
from bot.understanding.textnorm import fold
from bot.vocabulary import TouchStatus
from handlers.turn import Turn
from store.models import Location, Practice, Touch
from store.queries import PENDING_TOUCH_STATUSES, last_visit

MAX_WAIT = timedelta(days=365)
"""The furthest a check-back is put off, whatever the patient says."""

_NUMBER = {
    "a": 1,
    "an": 1,
    "one": 1,
    "un": 1,
    "una": 1,
    "uno": 1,
    "two": 2,
    "dos": 2,
    "three": 3,
    "tres": 3,
    "four": 4,
    "cuatro": 4,
    "a couple of": 2,
    "a couple": 2,
    "couple": 2,
    "a few": 3,
    "few": 3,
    "unas": 3,
    "unos": 3,
    "six": 6,
    "seis": 6,
}
_UNIT_DAYS = {"day": 1, "dia": 1, "week": 7, "semana": 7, "month": 30, "mes": 30, "mese": 30}
_IN_N = re.compile(
    r"\b(?:in|en|within|dentro de)\s+(\d+|a couple of|a couple|a few|an?|one|two|three|four|six|"
    r"un|una|uno|dos|tres|cuatro|seis|unas|unos)\s+(day|dia|week|semana|month|mes|mese)s?\b"
)
_WEEKDAYS = {
    "monday": 0,
    "lunes": 0,
    "tuesday": 1,
    "martes": 1,
    "wednesday": 2,
    "miercoles": 2,
    "thursday": 3,
    "jueves": 3,
    "friday": 4,
    "viernes": 4,
    "saturday": 5,
    "sabado": 5,
    "sunday": 6,
    "domingo": 6,
}


def check_back_day(body: str, today: date) -> date | None:
    """The day a patient's "not now" points at, if it names one ("in 2 weeks", "next month", "in January",
    "after the holidays", "el mes que viene", "friday")."""
    text = fold(body or "")
    match = _IN_N.search(text)
    if match:
        count = int(match.group(1)) if match.group(1).isdigit() else _NUMBER.get(match.group(1), 1)
        return today + timedelta(days=count * _UNIT_DAYS[match.group(2)])
    if re.search(r"\b(next|in a) month\b|\b(el )?(proximo mes|mes que viene)\b", text):
        return _add_month(today)
    if re.search(r"\bnext week\b|\b(la )?(proxima semana|semana que viene)\b", text):
        return today + timedelta(days=7)
    if re.search(
        r"\b(after|past) (the )?(holidays|new year|christmas)\b|\bdespues de (las )?(fiestas|navidad|ano nuevo)\b", text
    ):
        return _next(date(today.year, 1, 6), today)
    if re.search(r"\bsummer\b|\bverano\b", text):
        return _next(date(today.year, 6, 1), today)
    if re.search(r"\bspring\b|\bprimavera\b", text):
        return _next(date(today.year, 3, 15), today)
    if re.search(r"\bfall\b|\bautumn\b|\botono\b", text):
        return _next(date(today.year, 9, 15), today)
    for names in MONTHS.values():
        for index, name in enumerate(names):
            if re.search(rf"\b{name}\b", text) and not (
                name == "may" and re.search(r"\b(i|we|you) may\b|\bmay be\b", text)
            ):
                return _next(date(today.year, index + 1, 5), today)  # settled into the month, past its holidays
    for name, weekday in _WEEKDAYS.items():
        if re.search(rf"\b{name}\b", text):
            return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return None


def _next(day: date, today: date) -> date:
    return day if day > today else day.replace(year=day.year + 1)


def _add_month(day: date) -> date:
    month = day.month % 12 + 1
    year = day.year + (day.month == 12)
    for candidate in (day.day, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return day + timedelta(days=30)


def handle(turn: Turn) -> None:
    session, patient = turn.session, turn.patient
    step = plans_for(turn.settings).step(DEFERRED, "nudge")
    visit = last_visit(session, patient.id) if patient is not None else None
    if patient is None or step is None or visit is None:
        turn.reply("defer")
        return
    appointment, _service = visit
    location = session.get(Location, appointment.location_id) if appointment.location_id else None
    practice = session.get(Practice, patient.practice_id)
    tz = local_zone(location, practice)
    today = to_local(turn.now, tz).date()
    named = check_back_day(turn.message.body, today)
    if named is not None:
        named = min(max(named, today + timedelta(days=1)), today + MAX_WAIT)
        due = to_utc(datetime.combine(named, step.at or time(11), tzinfo=ZoneInfo(tz)))
    else:
        due = due_time(turn.now, step, tz)
    # The patient said when: earlier rebook texts, and any earlier check-back, would be unwelcome.
    session.exec(
        update(Touch)
        .where(
            col(Touch.patient_id) == patient.id,
            col(Touch.status).in_(PENDING_TOUCH_STATUSES),
            (col(Touch.purpose).in_(REBOOK_PURPOSES) & (Touch.due_at < due)) | (Touch.plan == DEFERRED),
        )
        .values(status=TouchStatus.SUPPRESSED, reason="deferred_by_patient", updated_at=turn.now)
    )
    touch = Touch(
        practice_id=patient.practice_id,
        patient_id=patient.id,
        appointment_id=appointment.id,
        plan=DEFERRED,
        step=step.key,
        purpose=step.purpose,
        channel=step.channel,
        marketing=step.marketing,
        due_at=due,
        status=TouchStatus.SCHEDULED,
        created_at=turn.now,
        updated_at=turn.now,
    )
    session.add(touch)
    session.flush()
    turn.actions.append(f"check_back:{to_local(due, tz).date().isoformat()}")
    language = turn.language()
    turn.reply("defer_until", when=_day_words(due, tz, language))


def _day_words(moment: datetime, tz: str, language: str) -> str:
    """ "on Monday, Jan 4" / "el lunes 4 de enero" """
    local = to_local(moment, tz)
    if language == "es":
        return f"el {composer.DAYS['es'][local.weekday()]} {local.day} de {MONTHS['es'][local.month - 1]}"
    return f"on {composer.DAYS['en'][local.weekday()]}, {local:%b} {local.day}"
