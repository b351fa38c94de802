"""The operations view against the ledger (tests/ledger.py): occupancy per provider from booked and working
minutes, treatments by revenue per chair hour, and the page with its period and location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from bot.metrics import operations
from bot.metrics.periods import month
from store.db import session_scope
from store.models import AuditEvent, Service
from tests import factories, ledger
from tests.helpers import add_staff, csrf_token, sign_in
from tests.ledger import BOTOX

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
            "cost": None,  # the ledger records no costs: profit unknown
            "profit": None,
            "margin": None,
            "chair_min": 90,
            "per_hour": Decimal("899.98"),
            "profit_per_hour": None,
        }
    ]


@pytest.fixture
def menu(settings, db_url):
    """A practice whose November is worked out by hand for profit: Botox 3 x 449.99 (cost 130.00 + 4.10 a
    visit), lip filler at 750.00 and 700.00 (cost 310.00 + 12.25), four peels at 200.00 with no cost recorded,
    and a filler request and a cancelled Botox that are not visits. By revenue filler leads; by profit Botox."""
    with session_scope(db_url) as s:
        practice = factories.practice(s)
        botox = factories.service(
            s, practice.id, code="BOTOX", name="Botox", category="neuromodulator", duration_min=30, price=BOTOX
        )
        filler = factories.service(s, practice.id)  # Lip filler, 750.00, 45 min
        peel = factories.service(s, practice.id, code="PEEL", name="Peel", category="peel", duration_min=30, price=200)
        botox.product_cost, botox.supply_cost = Decimal("130.00"), Decimal("4.10")
        filler.product_cost, filler.supply_cost = Decimal("310.00"), Decimal("12.25")
        patient = factories.patient(s, practice.id)
        day = datetime(2026, 11, 3, 16, tzinfo=UTC)
        for n in range(3):
            factories.appointment(s, patient, botox, day + timedelta(days=n), price=BOTOX)
        factories.appointment(s, patient, filler, day + timedelta(days=4), price=Decimal("750.00"))
        factories.appointment(s, patient, filler, day + timedelta(days=5), price=Decimal("700.00"), status="booked")
        for n in range(4):
            factories.appointment(s, patient, peel, day + timedelta(days=6 + n), price=Decimal("200.00"))
        factories.appointment(s, patient, filler, day + timedelta(days=11), price=Decimal("750.00"), status="requested")
        factories.appointment(s, patient, botox, day + timedelta(days=12), price=BOTOX, status="cancelled")
        return practice.id


def test_treatments_rank_by_revenue_minus_cost_exact_to_the_cent(menu, db_url):
    with session_scope(db_url) as db:
        rows = operations.treatments(db, menu, NOVEMBER)
    assert [(r["treatment"], r["visits"], r["revenue"], r["cost"], r["profit"]) for r in rows] == [
        ("Botox", 3, Decimal("1349.97"), Decimal("402.30"), Decimal("947.67")),
        ("Lip filler", 2, Decimal("1450.00"), Decimal("644.50"), Decimal("805.50")),
        ("Peel", 4, Decimal("800.00"), None, None),  # no cost recorded: last, whatever its revenue
    ]
    assert [(r["margin"], r["profit_per_hour"]) for r in rows] == [
        (70.2, Decimal("631.78")),
        (55.6, Decimal("537.00")),
        (None, None),
    ]


def test_costs_set_on_the_treatments_page_change_the_ranking_and_are_audited(menu, db_url):
    add_staff(db_url, menu, name="Mo Manager", role="manager", email="mo@glow.test")
    client, _ = sign_in("mo@glow.test")
    with session_scope(db_url) as db:
        peel = db.exec(select(Service).where(Service.code == "PEEL")).one().id
    page = client.get("/settings/treatments").get_data(as_text=True)
    token = csrf_token(page)
    assert "Peel" in page and 'value="130.00"' in page
    refused = client.post(
        "/settings/treatments",
        data={"csrf_token": token, f"product:{peel}": "12.345", f"supplies:{peel}": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Peel: product cost: expected an amount" in refused and "nothing was changed" in refused
    with session_scope(db_url) as db:
        assert db.get(Service, peel).product_cost is None
    client.post(
        "/settings/treatments", data={"csrf_token": token, f"product:{peel}": "$18.50", f"supplies:{peel}": "3.25"}
    )
    with session_scope(db_url) as db:
        row = db.get(Service, peel)
        assert (row.product_cost, row.supply_cost) == (Decimal("18.50"), Decimal("3.25"))
        [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "treatment_costs_changed")).all()
    assert event.detail == {
        "before": {"PEEL": {"product": "", "supplies": ""}},
        "after": {"PEEL": {"product": "18.50", "supplies": "3.25"}},
    }
    # 800.00 - 4 x 21.75 = 713.00 (cost 87.00): the peels now rank by profit, below filler (805.50).
    ops_page = client.get("/operations?month=2026-11").get_data(as_text=True)
    assert ops_page.index("Botox") < ops_page.index("Lip filler") < ops_page.index("$713.00")
    assert "$947.67" in ops_page and "$87.00" in ops_page


def test_the_page_shows_the_period_and_location(books):
    client, _ = sign_in("mo@glow.test")
    page = client.get(f"/operations?month=2026-11&location={books['austin']}").get_data(as_text=True)
    assert "November 2026" in page and "Maya Chen, NP" in page and "Leo Park, RN" not in page
    assert "$899.98" in page and "0.6%" in page
    refused = client.get("/operations?from=2026-11-30&to=2026-11-01").get_data(as_text=True)
    assert "the end date is before the start date" in refused
