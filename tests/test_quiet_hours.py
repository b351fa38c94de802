"""Quiet hours in the patient's local time, DST-safe, with the state table for marketing texts."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.touches.quiet_hours import next_allowed, state_for, window

CHICAGO = "America/Chicago"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_inside_the_window_is_now():
    moment = utc(2026, 11, 23, 16, 0)  # 10:00 Chicago
    assert next_allowed(moment, CHICAGO) == moment


def test_23h_local_goes_to_9h_next_day():
    assert next_allowed(utc(2026, 11, 24, 5, 0), CHICAGO) == utc(2026, 11, 24, 15, 0)


def test_night_before_dst_ends_defers_to_9h_wall_clock():
    # 31 Oct 2026 23:00 CDT (UTC-5); clocks go back on 1 Nov: 09:00 CST is 15:00 UTC, not 14:00.
    assert next_allowed(utc(2026, 11, 1, 4, 0), CHICAGO) == utc(2026, 11, 1, 15, 0)


def test_night_before_dst_starts_defers_to_9h_wall_clock():
    # 7 Mar 2026 23:00 CST; clocks go forward on 8 Mar: 09:00 CDT is 14:00 UTC.
    assert next_allowed(utc(2026, 3, 8, 5, 0), CHICAGO) == utc(2026, 3, 8, 14, 0)


def test_early_morning_waits_for_opening():
    assert next_allowed(utc(2026, 11, 23, 13, 30), CHICAGO) == utc(2026, 11, 23, 15, 0)  # 07:30 -> 09:00


def test_texas_sunday_marketing_waits_until_noon():
    sunday_10am = utc(2026, 11, 22, 16, 0)  # Sunday 10:00 Chicago
    assert next_allowed(sunday_10am, CHICAGO, state="TX", marketing=True) == utc(2026, 11, 22, 18, 0)
    assert next_allowed(sunday_10am, CHICAGO, state="TX", marketing=False) == sunday_10am
    monday_10am = utc(2026, 11, 23, 16, 0)
    assert next_allowed(monday_10am, CHICAGO, state="TX", marketing=True) == monday_10am


def test_marketing_window_is_the_stricter_of_practice_federal_and_state():
    monday = datetime(2026, 11, 23).date()
    assert window(monday, (7, 22), "FL", marketing=True) == (8, 20)
    assert window(monday, (7, 22), None, marketing=True) == (8, 21)
    assert window(monday, (7, 22), "FL", marketing=False) == (7, 22)
    assert window(monday, (9, 20), "WA", marketing=True) == (9, 20)


def test_state_from_address_else_area_code():
    assert state_for("fl", "+15125550143") == "FL"
    assert state_for(None, "+15125550143") == "TX"
    assert state_for(None, "+13055550143") == "FL"
    assert state_for(None, "+14055550143") == "OK"
    assert state_for(None, "+14105550143") == "MD"
    assert state_for(None, "+12065550143") == "WA"
    assert state_for(None, "+12125550143") is None
