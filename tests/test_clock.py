"""Time zones: one rule for which zone a patient's times are in, with one fallback."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import DEFAULT_TIMEZONE, local_zone, to_local, zone_name
from store.models import Location, Practice


def test_the_location_zone_comes_first():
    location = Location(practice_id=1, name="Miami", timezone="America/New_York")
    practice = Practice(name="Glow", slug="glow", timezone="America/Denver")
    assert local_zone(location, practice) == "America/New_York"


def test_a_location_without_a_zone_uses_its_practice():
    location = Location(practice_id=1, name="Austin", timezone="")
    practice = Practice(name="Glow", slug="glow", timezone="America/Denver")
    assert local_zone(location, practice) == "America/Denver"
    assert local_zone(None, practice) == "America/Denver"


def test_nothing_named_falls_back_on_the_one_default():
    assert local_zone() == DEFAULT_TIMEZONE == "America/Chicago"
    assert local_zone(Location(practice_id=1, name="x", timezone=""), Practice(name="y", slug="y", timezone="")) == (
        DEFAULT_TIMEZONE
    )
    assert zone_name(None, "") == DEFAULT_TIMEZONE
    assert zone_name(None, "Europe/Madrid") == "Europe/Madrid"


def test_new_rows_default_to_the_same_zone():
    assert Practice(name="y", slug="y").timezone == DEFAULT_TIMEZONE
    assert Location(practice_id=1, name="x").timezone == DEFAULT_TIMEZONE


def test_local_time_in_the_fallback_zone():
    noon_utc = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
    assert to_local(noon_utc, local_zone()).hour == 12  # CDT is UTC-5
