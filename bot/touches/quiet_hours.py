"""Quiet hours in the patient's local time: the practice's window, and stricter state rules for marketing.

A scheduled touch outside its window is deferred to the next allowed minute,
never dropped. Local times are built per calendar day in the patient's time
zone, so a window stays 9:00-20:00 on the wall clock across DST changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import to_utc
from bot.messaging.phones import area_code

DEFAULT_WINDOW = (9, 20)
"""Hours (local) any scheduled touch may go out, unless the practice sets its own."""

FEDERAL_MARKETING_WINDOW = (8, 21)
"""TCPA: no marketing texts before 8:00 or after 21:00 in the recipient's time zone."""


@dataclass(frozen=True)
class StateRule:
    """A state's marketing-text limits: hours, a Sunday start when different, and a 24 h count."""

    start: int
    end: int
    sunday_start: int | None = None
    max_per_24h: int | None = None
    note: str = ""


STATE_RULES = {
    "FL": StateRule(8, 20, max_per_24h=3, note="Florida Telephone Solicitation Act: 3 per 24 h on the same subject"),
    "OK": StateRule(8, 20, max_per_24h=3, note="Oklahoma Telephone Solicitation Act"),
    "MD": StateRule(8, 20, max_per_24h=3, note="Maryland Stop the Spam Calls Act: 3 per 24 h on the same subject"),
    "WA": StateRule(8, 20, note="Washington: commercial texts also need prior affirmative consent"),
    "TX": StateRule(9, 21, sunday_start=12, note="Texas: 9-21 Monday-Saturday, 12-21 Sunday"),
}
"""Stricter state rules for marketing texts; amend here when a law changes."""

AREA_CODES = {
    "FL": "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954",
    "OK": "405 539 572 580 918",
    "MD": "227 240 301 410 443 667",
    "WA": "206 253 360 425 509 564",
    "TX": "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 915 936 940 945 956 972 979",
}
"""Area codes of the states with their own rules (used when the patient's address state is unknown)."""

STATE_BY_AREA_CODE = {code: state for state, codes in AREA_CODES.items() for code in codes.split()}


def state_for(patient_state: str | None, phone: str | None) -> str | None:
    """The patient's state: the address state when known, else the one its area code belongs to."""
    if patient_state and patient_state.strip():
        return patient_state.strip().upper()[:2]
    code = area_code(phone or "")
    return STATE_BY_AREA_CODE.get(code) if code else None


def window(day: date, practice_window: tuple[int, int], state: str | None, marketing: bool) -> tuple[int, int]:
    """Allowed local hours [start, end) on a day; start >= end means none."""
    start, end = practice_window
    if marketing:
        start, end = max(start, FEDERAL_MARKETING_WINDOW[0]), min(end, FEDERAL_MARKETING_WINDOW[1])
        rule = STATE_RULES.get(state or "")
        if rule is not None:
            rule_start = rule.sunday_start if (rule.sunday_start is not None and day.weekday() == 6) else rule.start
            start, end = max(start, rule_start), min(end, rule.end)
    return start, end


def _local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    if hour >= 24:
        return _local(day + timedelta(days=1), hour - 24, zone)
    # Round-tripping through UTC resolves a wall time that falls in a DST gap.
    return to_utc(datetime.combine(day, time(hour), tzinfo=zone)).astimezone(zone)


def next_allowed(
    moment: datetime,
    tz: str,
    practice_window: tuple[int, int] = DEFAULT_WINDOW,
    state: str | None = None,
    marketing: bool = False,
) -> datetime:
    """The first minute at or after `moment` (aware UTC) that the rules allow; `moment` itself when allowed."""
    zone = ZoneInfo(tz)
    local = to_utc(moment).astimezone(zone)
    for days in range(0, 8):
        day = local.date() + timedelta(days=days)
        start, end = window(day, practice_window, state, marketing)
        if start >= end:
            continue
        opens, closes = _local(day, start, zone), _local(day, end, zone)
        if days == 0:
            if opens <= local < closes:
                return to_utc(moment)
            if local < opens:
                return to_utc(opens)
            continue
        return to_utc(opens)
    raise ValueError(f"no allowed hour in a week for window {practice_window}, state {state}")


def practice_window(practice) -> tuple[int, int]:
    """A practice's own window, or the default."""
    if practice is None:
        return DEFAULT_WINDOW
    start = practice.quiet_start_hour if practice.quiet_start_hour is not None else DEFAULT_WINDOW[0]
    end = practice.quiet_end_hour if practice.quiet_end_hour is not None else DEFAULT_WINDOW[1]
    return int(start), int(end)
