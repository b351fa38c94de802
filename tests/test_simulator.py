"""The patient simulator's JSON: threads and alerts with times as the dashboard shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store.db import session_scope
from store.models import Escalation, Message
from tests import factories


@pytest.fixture
def sim(settings, clock):
    """A client of the app with the simulator on (the Twilio API is a local fake; nothing is sent)."""
    from app import create_app

    return create_app(settings.with_(twilio_api_base_url="http://127.0.0.1:9")).test_client()


def test_times_are_shown_in_the_practice_zone_and_today_as_the_time_alone(sim, settings, clock):
    # The frozen clock is 16:00 UTC on Nov 23: 08:00 in Los Angeles.
    with session_scope(settings.database_url) as db:
        practice = factories.practice(db, timezone="America/Los_Angeles")
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

    thread = sim.get(f"/simulator/api/patients/{patient_id}/thread").json
    assert [(m["body"], m["time"]) for m in thread["messages"]] == [
        ("72 h ago", "Nov 20, 8:00 AM"),
        ("10 h ago", "Nov 22, 10:00 PM"),
        ("1 h ago", "7:00 AM"),
    ]
    [escalation] = sim.get("/simulator/api/alerts").json["escalations"]
    assert escalation["time"] == "Nov 22, 11:30 PM"
