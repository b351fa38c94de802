"""The on-call roster: who is on call, and who is backup, at which location, on which days and hours.

A roster line (store.models.OnCallShift) names a staff member, a duty (on call or backup), a weekday
and local hours, at one location or at every location. The paging code (bot.staff.paging) asks
`on_duty` who covers an escalation at the moment it pages: the lines that cover that moment in the
location's time zone. A practice with no roster lines pages by the standing flags
(`StaffUser.on_call`, `StaffUser.backup`), as before the roster existed; so does a moment the roster
leaves uncovered, so a gap in the roster never pages nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.clock import local_zone, to_local
from bot.staff.admin import AdminError
from bot.vocabulary import OnCallDuty
from store.models import Escalation, Location, Message, OnCallShift, Practice, StaffUser
from store.queries import last_visit

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Roster weekdays as staff read them, Monday first (OnCallShift.weekday is the index)."""

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$|^24:00$")


@dataclass(frozen=True)
class OnDuty:
    """Who the roster puts on duty at one moment and place."""

    on_call: list[StaffUser]
    backup: list[StaffUser]


def _minutes(text: str, name: str) -> int:
    value = (text or "").strip()
    if not _HHMM.match(value):
        raise AdminError(f"{name}: expected a time like 08:00 or 17:30, got {text!r}")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def add_shift(
    session: Session,
    practice_id: int,
    staff_id: int,
    duty: str,
    weekdays: list[int],
    start: str,
    end: str,
    location_id: int | None = None,
) -> list[OnCallShift]:
    """Check a roster entry and write one line per weekday; AdminError, with nothing written, on a bad value."""
    person = session.get(StaffUser, staff_id)
    if person is None or person.practice_id != practice_id:
        raise AdminError("staff: no such staff member at this practice")
    if not person.active:
        raise AdminError(f"staff: {person.name} is not active")
    if not person.phone:
        raise AdminError(f"staff: {person.name} has no mobile number to be paged on")
    if duty not in tuple(OnCallDuty):
        raise AdminError(f"duty: expected one of {', '.join(OnCallDuty)}, got {duty!r}")
    if not weekdays or any(day not in range(7) for day in weekdays):
        raise AdminError("days: pick at least one weekday")
    if _minutes(end, "end") <= _minutes(start, "start"):
        raise AdminError("end: must be after start (a night shift is two lines: 18:00-24:00 and 00:00-08:00)")
    if location_id is not None:
        location = session.get(Location, location_id)
        if location is None or location.practice_id != practice_id:
            raise AdminError("location: no such location at this practice")
    lines = [
        OnCallShift(
            practice_id=practice_id,
            location_id=location_id,
            staff_user_id=staff_id,
            duty=duty,
            weekday=day,
            start=start.strip().zfill(5),
            end=end.strip().zfill(5),
        )
        for day in sorted(set(weekdays))
    ]
    session.add_all(lines)
    session.flush()
    return lines


def lines(session: Session, practice_id: int) -> list[OnCallShift]:
    """The practice's roster, by location, weekday and start."""
    return list(
        session.exec(
            select(OnCallShift)
            .where(OnCallShift.practice_id == practice_id)
            .order_by(col(OnCallShift.location_id), col(OnCallShift.weekday), col(OnCallShift.start))
        )
    )


def covers(line: OnCallShift, moment: datetime, tz: str) -> bool:
    """Whether a roster line covers a moment, read in the zone of its place."""
    local = to_local(moment, tz)
    minute = local.hour * 60 + local.minute
    return local.weekday() == line.weekday and _minutes(line.start, "start") <= minute < _minutes(line.end, "end")


def escalation_location(session: Session, escalation: Escalation) -> Location | None:
    """Where an escalation belongs: the location whose number the patient wrote to, else their last visit's."""
    if escalation.message_id:
        message = session.get(Message, escalation.message_id)
        if message is not None and message.to_number:
            found = session.exec(
                select(Location).where(
                    Location.practice_id == escalation.practice_id, Location.sms_number == message.to_number
                )
            ).first()
            if found is not None:
                return found
    if escalation.patient_id:
        visit = last_visit(session, escalation.patient_id)
        if visit is not None and visit[0].location_id:
            return session.get(Location, visit[0].location_id)
    return None


def on_duty(
    session: Session, escalation: Escalation, moment: datetime, location: Location | None = None
) -> OnDuty | None:
    """Who the roster puts on call and on backup for this escalation now (at `location`, else where the
    escalation belongs); None when the roster does not decide (no lines at all, or none covering this
    moment at this place): the standing flags do."""
    if escalation.practice_id is None:
        return None
    roster = lines(session, escalation.practice_id)
    if not roster:
        return None
    place = location if location is not None else escalation_location(session, escalation)
    practice = session.get_one(Practice, escalation.practice_id)
    zones = {loc.id: loc.timezone for loc in session.exec(select(Location).where(Location.practice_id == practice.id))}
    chosen: dict[str, list[int]] = {OnCallDuty.ON_CALL: [], OnCallDuty.BACKUP: []}
    for line in roster:
        if place is not None and line.location_id not in (None, place.id):
            continue
        where = place.id if place is not None else line.location_id
        tz = zones.get(where) if where is not None else None
        if covers(line, moment, local_zone(practice=practice) if tz is None else tz):
            chosen[line.duty].append(line.staff_user_id)
    if not chosen[OnCallDuty.ON_CALL] and not chosen[OnCallDuty.BACKUP]:
        return None
    people = {
        s.id: s
        for s in session.exec(
            select(StaffUser).where(StaffUser.practice_id == practice.id, StaffUser.active == True)  # noqa: E712
        )
    }
    pick = lambda ids: [people[i] for i in dict.fromkeys(ids) if i in people]  # noqa: E731
    return OnDuty(on_call=pick(chosen[OnCallDuty.ON_CALL]), backup=pick(chosen[OnCallDuty.BACKUP]))
