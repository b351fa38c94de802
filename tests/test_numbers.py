"""The manager's numbers page: a period picker, opt-out events (undone or not) apart from erasures, and
only texts that left counted as sent."""

from __future__ import annotations

import re

import pytest

from bot.consent.privacy import erase_patient
from bot.messaging import outbox
from bot.vocabulary import MessageKind
from store.db import session_scope
from store.models import Patient
from tests import factories
from tests.helpers import PATIENT, add_staff, sign_in, text_in

OTHER = "+15125550144"


@pytest.fixture
def spa(settings, clock, db_url):
    """A practice with Ana and Bea (both with care consent) and a manager who signs in."""
    with session_scope(db_url) as session:
        practice = factories.practice(session)
        ana = factories.patient(session, practice.id)
        bea = factories.patient(session, practice.id, phone=OTHER, first_name="Bea", last_name="Diaz")
        ids = {"practice_id": practice.id, "ana": ana.id, "bea": bea.id}
    add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@glow.test")
    return ids


def _figure(page: str, label: str) -> str:
    """The value of the tile whose label starts with `label`."""
    found = re.search(r'<span class="kpi-value">([^<]*)</span><span class="kpi-label">' + re.escape(label), page)
    assert found, label
    return found.group(1)


def test_stop_then_start_still_counts_one_opt_out_and_an_erasure_is_apart(spa, settings, twilio, db_url):
    text_in("STOP")
    text_in("START")
    with session_scope(db_url) as session:
        assert session.get(Patient, spa["ana"]).opted_out_at is None  # undone
        erase_patient(session, spa["bea"], actor="staff:1")
    client, _ = sign_in("mo@glow.test")
    page = client.get("/numbers").get_data(as_text=True)
    assert _figure(page, "opt-outs") == "1"
    assert "1 erasures apart" in page


def test_the_period_picker_shows_7_30_or_90_days(spa, settings, twilio, db_url, clock):
    text_in("STOP")
    clock.advance(days=10)
    client, _ = sign_in("mo@glow.test")
    assert _figure(client.get("/numbers?days=7").get_data(as_text=True), "opt-outs") == "0"
    thirty = client.get("/numbers?days=30").get_data(as_text=True)
    assert _figure(thirty, "opt-outs") == "1" and "last 30 days" in thirty
    assert "last 90 days" in client.get("/numbers?days=90").get_data(as_text=True)
    assert "last 30 days" in client.get("/numbers?days=5").get_data(as_text=True)  # not offered: the default
    assert 'href="/numbers?days=7"' in thirty and 'aria-current="page">30 days' in thirty


def test_drafts_and_withheld_texts_are_not_counted_as_sent(spa, settings, db_url):
    with session_scope(db_url) as session:
        for number, status in enumerate((outbox.DRAFT, outbox.DISCARDED, outbox.WITHHELD, "delivered")):
            outbox.queue_text(
                session,
                key=f"test-{number}",
                to=PATIENT,
                from_=factories.AUSTIN_NUMBER,
                body="Thank you!",
                kind=MessageKind.REPLY,
                reply_kind="thanks",
                practice_id=spa["practice_id"],
                patient_id=spa["ana"],
                status=status,
            )
    client, _ = sign_in("mo@glow.test")
    assert _figure(client.get("/numbers").get_data(as_text=True), "texts out") == "1"


def test_a_month_custom_dates_and_a_location_can_be_picked(settings, db_url, clock):
    from tests import ledger

    ids = ledger.build(db_url)
    add_staff(db_url, ids["practice_id"], name="Mo Manager", role="manager", email="mo@ledger.test")
    client, _ = sign_in("mo@ledger.test")
    november = client.get("/numbers?month=2026-11").get_data(as_text=True)
    assert "November 2026" in november and _figure(november, "visits booked by text") == "2"
    assert _figure(november, "revenue booked by text") == "$899.98"
    assert _figure(november, "opt-outs") == "1"
    miami = client.get(f"/numbers?month=2026-11&location={ids['miami']}").get_data(as_text=True)
    assert _figure(miami, "visits booked by text") == "1"
    early = client.get("/numbers?from=2026-11-01&to=2026-11-05").get_data(as_text=True)
    assert "Nov 1, 2026 – Nov 5, 2026" in early and _figure(early, "visits booked by text") == "0"
    bad = client.get("/numbers?from=2026-11-05&to=2026-11-01").get_data(as_text=True)
    assert "the end date is before the start date" in bad and "last 30 days" in bad


def test_each_figure_has_its_definition_on_hover_and_charts_are_inline_svg(spa, settings):
    from bot.metrics.figures import DEFINITIONS

    client, _ = sign_in("mo@glow.test")
    page = client.get("/numbers").get_data(as_text=True)
    for definition in DEFINITIONS.values():
        assert f'title="{definition}"' in page.replace("&#39;", "'")
    assert page.count('<svg class="chart"') == 3
    assert '<script src="http' not in page and "cdn" not in page.lower()
