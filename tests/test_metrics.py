"""The Numbers page's figures against a ledger whose answers are known by hand (tests/ledger.py): unconfirmed
requests are not bookings, STOP then START is one opt-out event, an erasure is counted apart, money is exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.metrics import figures
from bot.metrics.periods import PeriodError, custom, month
from store.db import session_scope
from tests import ledger

pytestmark = pytest.mark.usefixtures("settings")

NOVEMBER = month("2026-11", "America/Chicago")


@pytest.fixture
def books(db_url, clock):
    """The ledger practice (two locations, five patients, November 2026)."""
    return ledger.build(db_url)


def test_every_november_figure_matches_the_ledger(books, db_url):
    with session_scope(db_url) as db:
        found = figures.all_figures(db, books["practice_id"], NOVEMBER)
    for name, expected in ledger.EXPECTED.items():
        assert {key: found[name][key] for key in expected} == expected, name
    assert found["escalations"] == ledger.EXPECTED_ESCALATIONS
    assert found["texts"]["failure_codes"] == [{"code": 30003, "count": 1}]


def test_revenue_is_an_exact_decimal(books, db_url):
    with session_scope(db_url) as db:
        revenue = figures.revenue(db, books["practice_id"], NOVEMBER.start, NOVEMBER.end)
        booked = figures.booked_by_text(db, books["practice_id"], NOVEMBER)["revenue"]
    assert isinstance(revenue, Decimal) and revenue == Decimal("1349.97")  # three Botox at 449.99
    assert booked == Decimal("899.98")


def test_a_location_keeps_to_its_own_visits_and_patients(books, db_url):
    with session_scope(db_url) as db:
        miami = figures.all_figures(db, books["practice_id"], NOVEMBER, books["miami"])
    assert miami["reply_rate"] == {"touches_sent": 2, "replied": 1, "rate": 50.0}  # Cy's and Dee's touches
    assert miami["booked_by_text"] == {"bookings": 1, "revenue": Decimal("449.99"), "requests_waiting": 0}
    assert miami["rebooking"] == {"visits": 1, "rebooked": 0, "rate": 0.0}
    assert miami["first_time_return"] == {"patients": 1, "returned": 1, "rate": 100.0}
    assert miami["opt_outs"]["events"] == 1  # Dee's


def test_a_period_before_anything_happened_has_no_rates(books, db_url):
    with session_scope(db_url) as db:
        empty = figures.all_figures(db, books["practice_id"], custom("2025-01-01", "2025-01-31", "America/Chicago"))
    assert empty["reply_rate"] == {"touches_sent": 0, "replied": 0, "rate": None}
    assert empty["booked_by_text"]["revenue"] == Decimal("0.00")
    assert all(row["median_ack_min"] is None for row in empty["escalations"])


def test_bad_periods_are_refused_with_the_reason():
    with pytest.raises(PeriodError, match="before the start"):
        custom("2026-11-30", "2026-11-01", "America/Chicago")
    with pytest.raises(PeriodError, match="like 2026-11"):
        month("November", "America/Chicago")
    with pytest.raises(PeriodError, match="at most"):
        custom("2020-01-01", "2026-01-01", "America/Chicago")
