"""The operations view against the ledger (tests/ledger.py): occupancy per provider from booked and working
minutes, treatments by revenue per chair hour, and the page with its period and location."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.metrics import operations
from bot.metrics.periods import month
from store.db import session_scope
from tests import ledger
from tests.helpers import add_staff, sign_in

NOVEMBER = month("2026-11", "America/Chicago")


@pytest.fixture
def books(settings, db_url, clock):
    """The ledger practice and its manager."""
    ids = ledger.build(db_url)
    add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    return ids


def test_occupancy_is_booked_over_working_minutes(books, db_url):
    with session_scope(db_url) as db:
        rows = operations.occupancy(db, books["practice_id"], NOVEMBER)
    # 21 weekdays of 9 to 5 in November 2026; Maya saw Ana and Bea (30 min each), Leo saw Cy. Requests,
    # declined times and an erased patient's visit take no time.
    assert rows == [
        {"provider": "Leo Park, RN", "booked_min": 30, "working_min": 21 * 480, "rate": 0.3},
        {"provider": "Maya Chen, NP", "booked_min": 60, "working_min": 21 * 480, "rate": 0.6},
    ]
    with session_scope(db_url) as db:
        miami = operations.occupancy(db, books["practice_id"], NOVEMBER, books["miami"])
    assert [row["provider"] for row in miami] == ["Leo Park, RN"]


def test_treatments_rank_by_revenue_with_revenue_per_chair_hour(books, db_url):
    with session_scope(db_url) as db:
        rows = operations.treatments(db, books["practice_id"], NOVEMBER)
    assert rows == [
        {
            "treatment": "Botox",
            "visits": 3,
            "revenue": Decimal("1349.97"),
            "chair_min": 90,
            "per_hour": Decimal("899.98"),
        }
    ]


def test_the_page_shows_the_period_and_location(books):
    client, _ = sign_in("mo@glow.test")
    page = client.get(f"/operations?month=2026-11&location={books['austin']}").get_data(as_text=True)
    assert "November 2026" in page and "Maya Chen, NP" in page and "Leo Park, RN" not in page
    assert "$899.98" in page and "0.6%" in page
    refused = client.get("/operations?from=2026-11-30&to=2026-11-01").get_data(as_text=True)
    assert "the end date is before the start date" in refused
