"""The patient simulator's JSON: threads and alerts with times as the dashboard shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store.db import session_scope
from store.models import Escalation, Message
from tests import factories

DEMO_TWILIO = "http://127.0.0.1:9"
"""A Twilio API on this machine (nothing listens there: these tests send nothing)."""


@pytest.fixture
def sim(settings, clock):
    """A client of the app in demo mode with the Twilio API a local fake: the simulator is mounted."""
    from app import create_app

    return create_app(settings.with_(twilio_api_base_url=DEMO_TWILIO, demo=True)).test_client()


@pytest.mark.parametrize(
    "changes",
    [{"twilio_api_base_url": DEMO_TWILIO}, {"twilio_api_base_url": "https://api.twilio.com", "demo": True}],
    ids=["not-demo-mode", "real-twilio"],
)
def test_the_simulator_and_mail_sink_are_not_mounted_outside_the_demo(settings, changes):
    from app import create_app

    app = create_app(settings.with_(**changes))
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not any(e.startswith(("simulator.", "mail.", "bench.")) for e in endpoints)
    assert app.test_client().get("/simulator/").status_code == 404


def test_the_simulator_needs_sign_in_even_in_the_demo(sim, settings):
    assert sim.get("/simulator/api/patients").status_code == 401
    assert sim.get("/simulator/").headers["Location"].startswith("/login?next=/simulator/")
    assert sim.get("/mail").status_code == 302


def test_times_are_shown_in_the_practice_zone_and_today_as_the_time_alone(sim, settings, clock):
    # The frozen clock is 16:00 UTC on Nov 23: 08:00 in Los Angeles.
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db, timezone="America/Los_Angeles")
        nurse = factories.staff(db, practice.id)
        patient = factories.patient(db, practice.id)
        for hours_ago in (1, 10, 72):
            db.add(
                Message(
                    practice_id=practice.id,
                    patient_id=patient.id,
                    direction="in",
                    kind="inbound",
                    from_number=patient.phone,
                    to_number=factories.AUSTIN_NUMBER,
                    body=f"{hours_ago} h ago",
                    created_at=clock.now() - timedelta(hours=hours_ago),
                )
            )
        db.add(
            Escalation(
                practice_id=practice.id,
                patient_id=patient.id,
                urgency="routine",
                reason="question",
                created_at=datetime(2026, 11, 23, 7, 30, tzinfo=UTC),
            )
        )
        patient_id = patient.id
    factories.sign_in(sim, nurse.email)

    thread = sim.get(f"/simulator/api/patients/{patient_id}/thread").json
    assert [(m["body"], m["time"]) for m in thread["messages"]] == [
        ("72 h ago", "Nov 20, 8:00 AM"),
        ("10 h ago", "Nov 22, 10:00 PM"),
        ("1 h ago", "7:00 AM"),
    ]
    [escalation] = sim.get("/simulator/api/alerts").json["escalations"]
    assert escalation["time"] == "Nov 22, 11:30 PM"
